"""Helpers for the mount integration suites: build segments with the CLI,
mount them in the foreground in the background, always unmount.

    with mounted(mapfs_bin, seg, tmp_path / "mnt") as m:
        assert open(m.path / "0" / "name").read() == "Ada"
"""
import contextlib
import ctypes
import ctypes.util
import json
import os
import pathlib
import signal
import struct
import subprocess
import threading
import time

MOUNT_TIMEOUT = 15.0


def build_segment(mapfs_bin, workdir, schema_yaml, type_name, records, *, key=None,
                  multi=False, approx=False, name="coll", extra=()):
    """Writes schema + JSONL (records: dicts or ready-made lines) and builds
    workdir/<name>.mapfs with `mapfs build`. Returns its path."""
    workdir = pathlib.Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    schema = workdir / f"{name}.schema.yaml"
    schema.write_text(schema_yaml)
    data = workdir / f"{name}.jsonl"
    with open(data, "w", encoding="utf-8") as f:
        for r in records:
            f.write((r if isinstance(r, str) else json.dumps(r)) + "\n")
    out = workdir / f"{name}.mapfs"
    subprocess.run(build_command(mapfs_bin, schema, data, type_name, out, key=key, multi=multi,
                                 approx=approx) + list(extra),
                   check=True, capture_output=True, timeout=300)
    return out


def build_command(mapfs_bin, schema, data, type_name, out, *, key=None, multi=False,
                  approx=False):
    """The `mapfs build` command line of a schema file and a JSONL input."""
    cmd = [str(mapfs_bin), "build", "--schema", str(schema), "--type", type_name,
           "--input", str(data), "--output", str(out)]
    if key:
        cmd += ["--key", key]
    if multi:
        cmd.append("--multi")
    if approx:
        cmd.append("--approx")
    return cmd


def run_concurrently(fn, count):
    """Runs fn(0) .. fn(count - 1) in threads at once and re-raises the first
    error any of them raised (an assertion in a thread fails the test)."""
    errors = []

    def run(i):
        try:
            fn(i)
        except BaseException as e:  # noqa: BLE001 - re-raised below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def build_garbled_records(mapfs_bin, workdir, schema_yaml):
    """An array of 200 `Rec` records {id, name, words} whose record data is
    garbled (bytes flipped between the header and schema and the index), for
    tests of what a mount serves from a corrupt segment."""
    records = [{"id": i, "name": "x" * 40, "words": ["w" * 30] * 5} for i in range(200)]
    seg = build_segment(mapfs_bin, workdir, schema_yaml, "Rec", records)
    data = bytearray(seg.read_bytes())
    for i in range(len(data) // 4, len(data) * 3 // 4, 5):
        data[i] ^= 0xA5
    seg.write_bytes(bytes(data))
    return seg


def unmount(path):
    """Unmounts `path` if mounted: fusermount3 -u, falling back to umount -l."""
    path = str(path)
    if not os.path.ismount(path) and not _is_stale(path):
        return
    for cmd in (["fusermount3", "-u", path], ["fusermount3", "-u", "-z", path],
                ["umount", "-l", path]):
        subprocess.run(cmd, capture_output=True, timeout=30)
        if not os.path.ismount(path) and not _is_stale(path):
            return


def _wait_until_up(proc, log, is_up, what):
    """Waits until is_up() while the daemon `proc` runs; raises with its log
    when it exits or MOUNT_TIMEOUT passes first."""
    deadline = time.monotonic() + MOUNT_TIMEOUT
    while not is_up():
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited {proc.returncode}: "
                               + open(log, errors="replace").read())
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up: " + open(log, errors="replace").read())
        time.sleep(0.02)


def _is_live_mount(path):
    # A dead daemon's mount still looks like a mount point, and the kernel may
    # answer stat from its cache; statvfs always reaches the daemon.
    try:
        os.statvfs(path)
    except OSError:
        return False
    return os.path.ismount(path)


def _is_stale(path):
    try:
        os.stat(path)
        return False
    except OSError as e:
        return e.errno == 107  # ENOTCONN


def decode_name(name: bytes) -> bytes:
    """The key a listed name stands for (docs/layout.md, "Names"); indexed
    names of long keys are returned as they are."""
    if b"%~" in name:
        return name
    if name == b"%":
        return b""
    out = bytearray()
    i = 0
    while i < len(name):
        if name[i:i + 1] == b"%":
            out.append(int(name[i + 1:i + 3], 16))
            i += 3
        else:
            out.append(name[i])
            i += 1
    return bytes(out)


class Mount:
    def __init__(self, path, proc, log):
        self.path = pathlib.Path(path)
        self.proc = proc
        self._log = log

    def log_text(self):
        with open(self._log, "r", errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None


@contextlib.contextmanager
def mounted(mapfs_bin, source, mountpoint, options=None, extra_args=()):
    """Mounts `source` with `mapfs mount -f` as a child process, waits until
    the mount is up, yields a Mount, and always unmounts and reaps it."""
    mountpoint = pathlib.Path(mountpoint)
    mountpoint.mkdir(parents=True, exist_ok=True)
    log = str(mountpoint) + ".log"
    cmd = [mapfs_bin, "mount", "-f", str(source), str(mountpoint)]
    if options:
        cmd += ["-o", options]
    cmd += list(extra_args)
    with open(log, "wb") as logf:
        proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(proc, log, lambda: _is_live_mount(mountpoint), "mapfs mount")
        yield Mount(mountpoint, proc, log)
    finally:
        unmount(mountpoint)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=15)
            unmount(mountpoint)


def wait_for(check, timeout, what, interval=0.02):
    """Calls check() until it returns a true value (returned) or `timeout`
    seconds pass (AssertionError naming `what` and the last value or error).
    OSErrors raised by check() count as "not yet"."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = check()
            if last:
                return last
        except OSError as e:
            last = e
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s (last: {last!r})")
        time.sleep(interval)


def build_replacement(mapfs_bin, target, schema_yaml, type_name, records, *, key=None,
                      stage=None):
    """Builds a segment of `records` with `mapfs build` to a temporary name in
    the directory of `target` (not ending in .mapfs, so a directory source does
    not show it) and renames it over `target`. The schema and JSONL are
    written to `stage` (default: the directory DIR.stage beside DIR, the
    directory of `target`)."""
    target = pathlib.Path(target)
    if stage is None:
        stage = target.parent.with_name(target.parent.name + ".stage")
    stage = pathlib.Path(stage)
    stage.mkdir(parents=True, exist_ok=True)
    schema = stage / "schema.yaml"
    schema.write_text(schema_yaml)
    data = stage / (target.name + ".jsonl")
    with open(data, "w", encoding="utf-8") as f:
        for r in records:
            f.write((r if isinstance(r, str) else json.dumps(r)) + "\n")
    tmp = target.parent / f".{target.name}.next"
    cmd = [mapfs_bin, "build", "--schema", str(schema), "--type", type_name,
           "--input", str(data), "--output", str(tmp)]
    if key:
        cmd += ["--key", key]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    os.rename(tmp, target)
    return target


def replace_with_bytes(target, data):
    """Writes `data` to a temporary name next to `target` and renames it over
    `target`, the way a segment is replaced."""
    target = pathlib.Path(target)
    tmp = target.parent / f".{target.name}.next"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, target)


def pids_running(exe):
    """Pids of the processes running the executable `exe` (to find the daemon
    a background mount left: compare the sets before and after)."""
    exe = os.path.realpath(exe)
    pids = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{entry}/exe") == exe:
                pids.add(int(entry))
        except OSError:
            continue
    return pids


class ConfigMount(Mount):
    """A running `mapfs mount --config ... -f`: its mountpoints (`path` is the
    first), process and log."""

    def __init__(self, paths, proc, log):
        super().__init__(paths[0], proc, log)
        self.paths = [pathlib.Path(p) for p in paths]


@contextlib.contextmanager
def mounted_config(mapfs_bin, config, mountpoints, names=(), extra_args=(), cwd=None):
    """Runs `mapfs mount --config CONFIG [NAME...] -f` as a child process
    (standard output and error to CONFIG.log), waits until every path in
    `mountpoints` is a live mount, yields a ConfigMount, and always unmounts
    every one of them and reaps the process."""
    mountpoints = [pathlib.Path(p) for p in mountpoints]
    for p in mountpoints:
        p.mkdir(parents=True, exist_ok=True)
    log = str(pathlib.Path(cwd or ".") / config) + ".log"
    cmd = [mapfs_bin, "mount", "--config", str(config), *names, "-f", *extra_args]
    with open(log, "wb") as logf:
        proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, cwd=cwd)
    try:
        _wait_until_up(proc, log, lambda: all(_is_live_mount(p) for p in mountpoints),
                       "mapfs mount --config")
        yield ConfigMount(mountpoints, proc, log)
    finally:
        for p in mountpoints:
            unmount(p)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=15)
            for p in mountpoints:
                unmount(p)


# Crafting segments as an attacker would (docs/format.md, "Segments"): edit
# bytes, then make the checksums agree again. Checksums are XXH3-64 (seed 0),
# from libxxhash (libxxhash-dev).
_XXH = ctypes.CDLL(ctypes.util.find_library("xxhash") or "libxxhash.so.0")
_XXH.XXH3_64bits.restype = ctypes.c_uint64
_XXH.XXH3_64bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
SECTION_DATA, SECTION_RECORD_OFFSETS, SECTION_BLOCK_CHECKSUMS = 2, 3, 8
CHECKSUM_BLOCK = 65536


def xxh3(b):
    b = bytes(b)
    return _XXH.XXH3_64bits(b, len(b))


def segment_sections(data):
    """{kind: (table entry offset, file offset, size)} of a segment's sections."""
    count = struct.unpack_from("<I", data, 44)[0]
    out = {}
    for i in range(count):
        at = 128 + 32 * i
        kind, _flags, offset, size, _sum = struct.unpack_from("<IIQQQ", data, at)
        out[kind] = (at, offset, size)
    return out


def array_record_offset(data, i):
    """File offset of record i's bytes in an array segment (items hold no key)."""
    table = segment_sections(data)
    data_at = table[SECTION_DATA][1]
    item = struct.unpack_from("<Q", data, table[SECTION_RECORD_OFFSETS][1] + 8 * i)[0]
    assert struct.unpack_from("<I", data, data_at + item)[0] == 0
    return data_at + item + 8


def reseal_segment(data, *, sections=True):
    """Makes an edited segment (a bytearray, in place) pass the checks of
    every read: the block checksums, then every section's table checksum
    (only the block checksum section's with sections=False, so that `verify`
    still sees the edit), then the header checksum."""
    table = segment_sections(data)
    first = (128 + 32 * len(table) + 63) // 64 * 64
    at, sums, size = table[SECTION_BLOCK_CHECKSUMS]
    for i in range(size // 8):
        lo, hi = max(i * CHECKSUM_BLOCK, first), min((i + 1) * CHECKSUM_BLOCK, sums)
        struct.pack_into("<Q", data, sums + 8 * i, xxh3(data[lo:hi]))
    for kind, (at, offset, size) in table.items():
        if sections or kind == SECTION_BLOCK_CHECKSUMS:
            struct.pack_into("<Q", data, at + 24, xxh3(data[offset:offset + size]))
    struct.pack_into("<Q", data, 120, 0)
    struct.pack_into("<Q", data, 120, xxh3(data[:128 + 32 * len(table)]))
