"""Integrity of what a mount serves, against hostile or replaced files:

- a crafted record whose list elements point back at the list itself (valid
  checksums) is refused by `mapfs verify`, `get` and `dump`, and in a mount
  answers EIO below its directory: `find` terminates, the other records
  are served;
- replaced versions of every mount kind (a single file, a directory source,
  a config mount) are unmapped within seconds of their last reader, so the
  deleted files' disk space comes back whatever the kernel still caches,
  while a file open across a rebuild reads its old bytes until closed.

Every mount is unmounted in a finally (mapfs_testlib)."""
import errno
import os
import struct
import subprocess
import textwrap
import time

import pytest

from mapfs_testlib import (array_record_offset, build_replacement, build_segment, mounted,
                           mounted_config, reseal_segment, wait_for)

CYC_SCHEMA = """structs:
  Cyc:
    fields: {id: int64, o: object}
"""
RECORDS, BAD, ELEMENTS = 20, 7, 50


@pytest.fixture
def cyclic(mapfs_bin, tmp_path):
    """An array of RECORDS {id, o: ELEMENTS empty lists}; record BAD's list
    then has every element point at the list itself, checksums repaired."""
    seg = build_segment(mapfs_bin, tmp_path / "src", CYC_SCHEMA, "Cyc",
                        [{"id": i, "o": [[] for _ in range(ELEMENTS)]} for i in range(RECORDS)],
                        name="cyc", extra=["--dedup-memory", "0"])  # every record's list its own
    data = bytearray(seg.read_bytes())
    rec = array_record_offset(data, BAD)
    # Struct: 1 bitmap byte, the int64 id, then the ref of `o`; its object
    # body is tag 11 (list), a varint count, then the element refs.
    body = struct.unpack_from("<I", data, rec + 9)[0]
    assert data[rec + body] == 11 and data[rec + body + 1] == ELEMENTS
    for i in range(ELEMENTS):
        struct.pack_into("<I", data, rec + body + 2 + 4 * i, body)
    reseal_segment(data)
    seg.write_bytes(bytes(data))
    return seg


def run(mapfs_bin, *args, timeout=60):
    return subprocess.run([mapfs_bin, *args], capture_output=True, text=True, timeout=timeout)


def test_the_cli_refuses_a_cyclic_record_without_looping(mapfs_bin, cyclic):
    r = run(mapfs_bin, "verify", str(cyclic))
    assert r.returncode == 1, r
    assert "record 7" in r.stderr, r.stderr
    for args in (["get", str(cyclic), str(BAD)], ["dump", str(cyclic), "--output", "-"]):
        r = run(mapfs_bin, *args)  # TimeoutExpired if it loops
        assert r.returncode != 0, (args, r.stdout[:200])
        assert str(cyclic) in r.stderr, (args, r.stderr)
    r = run(mapfs_bin, "get", str(cyclic), "3")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith('{"id":3,'), r.stdout


def test_a_mount_answers_eio_below_a_cyclic_record_and_find_ends(mapfs_bin, cyclic, tmp_path):
    with mounted(mapfs_bin, cyclic, tmp_path / "mnt") as m:
        started = time.monotonic()
        r = subprocess.run(["find", str(m.path)], capture_output=True, text=True, timeout=120)
        took = time.monotonic() - started
        lines = r.stdout.splitlines()
        # The root, its 3 files, and per record: its dir, id, o, o/@json, the
        # @json, and ELEMENTS element dirs each with an @json. Record 7: its
        # dir only (listing it fails).
        per_record = 1 + 1 + 1 + 1 + 1 + 2 * ELEMENTS
        assert len(lines) == 1 + 3 + (RECORDS - 1) * per_record + 1, (len(lines), r.stderr)
        assert r.returncode != 0 and "Input/output error" in r.stderr, r.stderr
        assert took < 30, took
        bad = m.path / str(BAD)
        for action in (lambda: os.listdir(bad), lambda: os.stat(bad / "o"),
                       lambda: open(bad / "@json", "rb").read(),
                       lambda: open(bad / "id", "rb").read()):
            with pytest.raises(OSError) as e:
                action()
            assert e.value.errno == errno.EIO, e.value
        for i in (0, 6, 8, RECORDS - 1):
            assert (m.path / str(i) / "id").read_bytes() == f"{i}\n".encode()
            assert len(os.listdir(m.path / str(i) / "o")) == 1 + ELEMENTS
        assert "record at offset" in m.log_text()
        assert m.alive()


# --- releasing replaced versions -------------------------------------------

BIG_SCHEMA = """structs:
  Blob:
    fields: {key: str, round: int64, data: str}
"""
BIG_RECORDS, BLOB = 512, 64 * 1024  # about 32 MB a version: more than other writers blur
ROUNDS = 5
RELEASE_WITHIN = 4.0  # seconds: the grace (at most 1.25 s), the sweep (0.1 s), slack


def big_version(n):
    return [{"key": f"k{i}", "round": n, "data": chr(ord("a") + (n + i) % 26) * BLOB}
            for i in range(BIG_RECORDS)]


def deleted_versions(pid, path):
    """Inode numbers of the replaced (deleted) versions of `path` the
    daemon still maps, or still holds open."""
    inodes = set()
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            if line.rstrip().endswith(f"{path} (deleted)"):
                inodes.add(line.split()[4])
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == f"{path} (deleted)":
                inodes.add("fd" + fd)
        except OSError:
            pass
    return inodes


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def touch_entries(coll):
    """What `ls -l`, `stat` and `cat` leave in the kernel's caches."""
    names = os.listdir(coll)
    for name in names[:40]:
        os.stat(coll / name)
    for i in range(0, BIG_RECORDS, 50):
        os.stat(coll / f"k{i}" / "data")
        (coll / f"k{i}" / "round").read_bytes()
        os.listdir(coll / f"k{i}")


@pytest.mark.parametrize("kind", ["file", "dir", "config"])
def test_replaced_versions_are_released_within_seconds_of_their_last_reader(
        mapfs_bin, tmp_path, kind):
    src = tmp_path / "src"
    target = build_segment(mapfs_bin, src, BIG_SCHEMA, "Blob", big_version(0), key="key",
                           name="big")
    size = target.stat().st_size
    mnt = tmp_path / "mnt"
    if kind == "file":
        mount, coll = mounted(mapfs_bin, target, mnt), mnt
    elif kind == "dir":
        mount, coll = mounted(mapfs_bin, src, mnt), mnt / "big"
    else:
        cfg = tmp_path / "mounts.yaml"
        cfg.write_text(textwrap.dedent(f"""\
            mounts:
              m:
                mountpoint: {mnt}
                sources: {{big: {target}}}
            """))
        mount, coll = mounted_config(mapfs_bin, cfg, [mnt]), mnt / "big"
    stage = tmp_path / "stage"
    with mount as m:
        pid = m.proc.pid
        held = None
        for n in range(1, ROUNDS + 1):
            touch_entries(coll)
            if n == ROUNDS:
                # A reader opens a file of the current version and keeps it.
                held = os.open(coll / "k1" / "data", os.O_RDONLY)
                old = os.pread(held, 100, 0)
            build_replacement(mapfs_bin, target, BIG_SCHEMA, "Blob", big_version(n), key="key",
                              stage=stage)
            wait_for(lambda: (coll / "k0" / "round").read_bytes() == f"{n}\n".encode(), 5.0,
                     f"version {n} served")
        try:
            touch_entries(coll)
            # Only the version the open file reads is still held.
            wait_for(lambda: len(deleted_versions(pid, target)) == 1, RELEASE_WITHIN,
                     "every replaced version but the open one released")
            assert os.pread(held, 100, 0) == old
            assert os.pread(held, 100, BLOB - 100) == old[:1] * 100
        finally:
            os.close(held)
        closed = time.monotonic()
        # Watch the daemon's maps and the filesystem's free space together:
        # the old file's blocks come back at once when it is unmapped, a
        # jump other writers to this filesystem do not blur (they drift).
        released = jump = None
        recent = []  # (time, free bytes) of the last 0.3 s
        while time.monotonic() - closed < RELEASE_WITHIN and (released is None or jump is None):
            t, now = time.monotonic(), free_bytes(tmp_path)
            recent = [(rt, rf) for rt, rf in recent if t - rt < 0.3] + [(t, now)]
            if jump is None and now - min(rf for _, rf in recent) >= size // 2:
                jump = t - closed
            if released is None and not deleted_versions(pid, target):
                released = time.monotonic() - closed
            time.sleep(0.005)
        assert released is not None, ("still held after the last close",
                                      deleted_versions(pid, target))
        assert jump is not None, f"the replaced file's {size} bytes were not freed"
        print(f"{kind}: unmapped {released:.2f} s, space back {jump:.2f} s after the last close")
        assert (coll / "k1" / "round").read_bytes() == f"{ROUNDS}\n".encode()
        assert m.alive()
