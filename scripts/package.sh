#!/usr/bin/env bash
# Builds the Debian package with CPack: scripts/package.sh [BUILD_DIR]
# (default build/, the release tree of scripts/build.sh, reused as is). The
# tree is configured for the /usr prefix (GNUInstallDirs then picks the
# multiarch libdir); the path of the .deb is the last line printed.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
# CPack's DEB generator runs file and dpkg-shlibdeps (dpkg-dev); deps.sh installs them.
scripts/deps.sh
if [ -f "$dir/CMakeCache.txt" ]; then
  cmake -S . -B "$dir" -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
else
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
        -DMAPFS_BUILD_TESTS=OFF -DMAPFS_BUILD_BENCH=OFF >/dev/null
fi
cmake --build "$dir" -j "$(nproc)"
rm -rf "$dir/packages"
# CPack installs the tree into a staging directory and runs dpkg-shlibdeps on
# /usr/bin/mapfs for the Depends of its shared libraries.
(cd "$dir" && cpack -G DEB) >"$dir/cpack.log" 2>&1 || { cat "$dir/cpack.log" >&2; exit 1; }
deb=$(ls "$dir"/packages/*.deb)
dpkg-deb --field "$deb" Package Version Architecture Depends
echo "$deb"
