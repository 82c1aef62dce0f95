#!/usr/bin/env bash
# The package's CI step (scripts/test.sh): builds the .deb (scripts/package.sh
# [BUILD_DIR]), installs it with dpkg, checks what it ships and that
# /usr/bin/mapfs runs, imports the installed Python module with Debian's
# python3 from outside the tree and uses it, mounts the installed sample with
# `mount -t fuse.mapfs`, builds and runs packaging/client_example against the INSTALLED files twice
# (CMake find_package(mapfs), then pkg-config), and removes the package.
# Needs root. Idempotent: a mapfs package already installed (say by an
# interrupted run) is removed first, and on any exit the sample is unmounted,
# the package removed and the scratch directory deleted.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "package_test: needs root (dpkg -i)" >&2; exit 1; }
root=$PWD
scratch=$(mktemp -d)
cleanup() {
  # A mount of the sample left by a failed check (lazily: it may be busy or stale).
  fusermount3 -u -z "$scratch/mnt" 2>/dev/null || true
  if dpkg-query -W -f='${Status}' mapfs 2>/dev/null | grep -q "install ok installed"; then
    dpkg -r mapfs >/dev/null || true
  fi
  rm -rf "$scratch"
}
trap cleanup EXIT
cleanup
mkdir -p "$scratch"

echo "== package"
deb=$(scripts/package.sh "${1:-build}" | tail -n 1)
echo "$deb"

echo "== install"
dpkg -i "$deb" >/dev/null
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
for f in /usr/bin/mapfs /usr/lib/"$multiarch"/libmapfs.a /usr/include/mapfs/status.h \
         /usr/include/mapfs/segment.h /usr/lib/"$multiarch"/pkgconfig/mapfs.pc \
         /usr/lib/"$multiarch"/cmake/mapfs/mapfs-config.cmake \
         /usr/lib/"$multiarch"/cmake/mapfs/mapfs-config-version.cmake \
         /usr/lib/"$multiarch"/cmake/mapfs/mapfs-targets.cmake \
         /usr/share/man/man1/mapfs.1.gz /usr/lib/systemd/system/mapfs@.service \
         /usr/share/mapfs/sample/schema.yaml /usr/share/mapfs/sample/people.jsonl \
         /usr/share/doc/mapfs/examples/mounts.example.yaml; do
  dpkg -S "$f" >/dev/null || { echo "package_test: $f is not in the package" >&2; exit 1; }
done
dpkg -S /usr/share/bash-completion/completions/mapfs >/dev/null || { echo "package_test: no bash completion" >&2; exit 1; }
/usr/bin/mapfs --version
[ "$(/usr/bin/mapfs --version)" = "mapfs $(dpkg-query -W -f='${Version}' mapfs | sed 's/-[^-]*$//')" ]
# The man page renders without groff warnings (where man-db is installed).
if command -v man >/dev/null; then
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l /usr/share/man/man1/mapfs.1.gz 2>&1 >/dev/null)
  [ -z "$warnings" ] || { echo "package_test: man page: $warnings" >&2; exit 1; }
fi

echo "== the Python module for Debian's python3"
dpkg-deb --field "$deb" Depends | tr ',' '\n' | grep -qx ' *python3-numpy' ||
  { echo "package_test: the package does not depend on python3-numpy" >&2; exit 1; }
pydir=/usr/lib/python3/dist-packages/mapfs
ext=$(/usr/bin/python3 -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
for f in "$pydir/__init__.py" "$pydir/shared.py" "$pydir/_mapfs$ext"; do
  dpkg -S "$f" >/dev/null || { echo "package_test: $f is not in the package" >&2; exit 1; }
done
# From outside the tree and without PYTHONPATH: the installed module only.
cat >"$scratch/module_check.py" <<'PY'
import os, struct, subprocess, sys
import numpy as np
import mapfs
assert mapfs.__file__ == "/usr/lib/python3/dist-packages/mapfs/__init__.py", mapfs.__file__
with mapfs.TypedArray("q", [1, -2], path="ids.arr") as a:
    a.extend(range(3))
    np.asarray(a)[0] = 7
assert open("ids.arr", "rb").read() == struct.pack("<5q", 7, -2, 0, 1, 2)
assert mapfs.TypedArray("q", path="ids.arr", mode="r").tolist() == [7, -2, 0, 1, 2]
name = "mapfs-package-test-%d" % os.getpid()
s = mapfs.shared.create("shm://" + name, (3, 4), "float32")
try:
    s[2, 3] = 1.5
    assert mapfs.shared.attach(name, ro=True)[2, 3] == 1.5
    out = subprocess.run(["/usr/bin/mapfs", "shm", "list"], check=True,
                         capture_output=True, text=True).stdout
    assert name + "\tfloat32\t3,4" in out.splitlines(), out
finally:
    mapfs.shared.delete(name)
# A segment built by the installed command, read through the installed module:
# the record view renders exactly what `mapfs get` prints.
S = "/usr/share/mapfs/sample"
subprocess.run(["/usr/bin/mapfs", "build", "--schema", S + "/schema.yaml", "--type", "Person",
                "--input", S + "/people.jsonl", "--output", "people_py.mapfs", "--key", "name",
                "--quiet"], check=True)
with mapfs.open("people_py.mapfs") as seg:
    ada = seg["Ada Lovelace"]
    got = subprocess.run(["/usr/bin/mapfs", "get", "people_py.mapfs", "Ada Lovelace"], check=True,
                         capture_output=True, text=True).stdout
    assert ada.name == "Ada Lovelace" and ada.to_json() + "\n" == got, (ada.to_json(), got)
print("python3 %d.%d: import mapfs: ok" % sys.version_info[:2])
PY
(cd "$scratch" && env -u PYTHONPATH /usr/bin/python3 -I module_check.py)

echo "== the installed command on the installed sample"
/usr/bin/mapfs pack --schema /usr/share/mapfs/sample/schema.yaml --type Person \
  /usr/share/mapfs/sample/people.jsonl | grep -q '"name":"Ada Lovelace"'

echo "== mount -t fuse.mapfs and an fstab line on the installed sample"
# mount(8) runs /sbin/mount.fuse3, which runs `mapfs SOURCE MOUNTPOINT -o ro,...`.
/usr/bin/mapfs build --schema /usr/share/mapfs/sample/schema.yaml --type Person \
  --input /usr/share/mapfs/sample/people.jsonl --output "$scratch/people.mapfs" --key name
mkdir "$scratch/mnt"
mount -t fuse.mapfs "$scratch/people.mapfs" "$scratch/mnt" -o ro,allow_other
mountpoint -q "$scratch/mnt" || { echo "package_test: the sample is not mounted" >&2; exit 1; }
name=$(cat "$scratch/mnt/Ada Lovelace/name")
age=$(cat "$scratch/mnt/Ada Lovelace/age")
if [ "$name" != "Ada Lovelace" ] || [ "$age" != 36 ]; then
  echo "package_test: the mount shows name '$name', age '$age'" >&2; exit 1
fi
if touch "$scratch/mnt/new" 2>/dev/null; then
  echo "package_test: the mount is writable" >&2; exit 1
fi
umount "$scratch/mnt"
! mountpoint -q "$scratch/mnt" || { echo "package_test: umount left the mount" >&2; exit 1; }
echo "Ada Lovelace/age: $age"
# The same as an fstab line (an alternative fstab: mount -T), mounted by its mountpoint.
printf '%s %s fuse.mapfs ro,allow_other 0 0\n' "$scratch/people.mapfs" "$scratch/mnt" \
  >"$scratch/fstab"
mount -T "$scratch/fstab" "$scratch/mnt"
[ "$(cat "$scratch/mnt/Ada Lovelace/name")" = "Ada Lovelace" ] ||
  { echo "package_test: the fstab mount does not show the sample" >&2; exit 1; }
umount "$scratch/mnt"

expected='{"name":"Ada","age":36,"langs":["en","fr"]}'
echo "== client via find_package(mapfs)"
cp -r packaging/client_example "$scratch/src"
cmake -S "$scratch/src" -B "$scratch/cmake-build" -G Ninja >/dev/null
found=$(sed -n 's/^mapfs_DIR:PATH=//p' "$scratch/cmake-build/CMakeCache.txt")
[ "$found" = "/usr/lib/$multiarch/cmake/mapfs" ] ||
  { echo "package_test: find_package(mapfs) used $found" >&2; exit 1; }
cmake --build "$scratch/cmake-build" >/dev/null
out=$("$scratch/cmake-build/mapfs_client_example" "$scratch/cmake.mapfs")
[ "$out" = "$expected" ] || { echo "package_test: client printed $out" >&2; exit 1; }
echo "$out"

echo "== client via pkg-config"
[ "$(pkg-config --variable=pcfiledir mapfs)" = "/usr/lib/$multiarch/pkgconfig" ]
# shellcheck disable=SC2046  # the flags are meant to split
g++ -std=c++20 -O1 -o "$scratch/pc_client" "$scratch/src/client.cc" \
    $(pkg-config --cflags --libs mapfs)
out=$("$scratch/pc_client" "$scratch/pc.mapfs")
[ "$out" = "$expected" ] || { echo "package_test: client printed $out" >&2; exit 1; }
echo "$out"
cmp "$scratch/cmake.mapfs" "$scratch/pc.mapfs"

echo "== remove"
dpkg -r mapfs >/dev/null
[ ! -e /usr/bin/mapfs ] && [ ! -e /usr/include/mapfs ] && [ ! -e "$pydir" ]
cd "$root"
echo "package_test: ok"
