"""Operational limits of the daemon: names created in a directory source by
link() and symlink() are shown without a remount, and a corrupt node read
over and over costs a handful of log lines, not one per read. Every mount is
unmounted in a finally (mounted())."""
import errno
import os
import time

from mapfs_testlib import (build_garbled_records, build_segment, mounted, replace_with_bytes,
                           wait_for)

SCHEMA = """structs:
  Person:
    fields: {key: str, id: uint64, name: str}
  Rec:
    fields: {id: uint64, name: str, words: list<str>}
"""

SHOWN_WITHIN = 2.0  # seconds


def read(path):
    with open(path, "rb") as f:
        return f.read()


def people(mapfs_bin, workdir, name, prefix):
    return build_segment(mapfs_bin, workdir, SCHEMA, "Person",
                         [{"key": f"k{i}", "id": i, "name": f"{prefix}-{i}"} for i in range(3)],
                         key="key", name=name)


def test_a_refused_replacement_left_in_place_is_verified_once(mapfs_bin, tmp_path):
    seg = people(mapfs_bin, tmp_path / "src", "people", "a")
    bad = bytearray(read(seg))
    bad[-10] ^= 0x40  # in the block checksum section (last in the file): refused at open
    with mounted(mapfs_bin, seg, tmp_path / "mnt", extra_args=("--log-level", "debug")) as m:
        assert read(m.path / "k1" / "name") == b"a-1"
        replace_with_bytes(seg, bytes(bad))
        wait_for(lambda: "replacement refused" in m.log_text(), 5, "the refusal")
        time.sleep(3.5)  # three more once-a-second checks
        log = m.log_text()
        assert log.count(f"{seg}: changed; opening and verifying it") == 1, log
        assert log.count("replacement refused") == 1, log
        assert read(m.path / "k1" / "name") == b"a-1"
        assert m.alive()


def test_linked_and_symlinked_segments_join_a_directory_source(mapfs_bin, tmp_path):
    src = tmp_path / "src"
    people(mapfs_bin, src, "one", "one")
    for p in src.iterdir():   # only the segment in the directory
        if p.suffix != ".mapfs":
            p.unlink()
    two = people(mapfs_bin, tmp_path / "elsewhere", "two", "two")
    three = people(mapfs_bin, tmp_path / "elsewhere", "three", "three")
    with mounted(mapfs_bin, src, tmp_path / "mnt") as m:
        assert os.listdir(m.path) == ["one"]
        os.link(two, src / "two.mapfs")
        os.symlink(three, src / "three.mapfs")
        wait_for(lambda: sorted(os.listdir(m.path)) == ["one", "three", "two"], SHOWN_WITHIN,
                 "segments linked and symlinked into the directory are listed")
        assert read(m.path / "two" / "k1" / "name") == b"two-1"
        assert read(m.path / "three" / "k2" / "name") == b"three-2"
        assert m.alive()


def test_a_corrupt_node_read_a_thousand_times_logs_a_handful_of_lines(mapfs_bin, tmp_path):
    seg = build_garbled_records(mapfs_bin, tmp_path, SCHEMA)
    with mounted(mapfs_bin, seg, tmp_path / "mnt") as m:
        bad = None
        for i in range(200):
            try:
                read(m.path / str(i) / "@json")
            except OSError as e:
                if e.errno == errno.EIO:
                    bad = m.path / str(i) / "@json"
                    break
        assert bad is not None, "no corrupt node found"
        time.sleep(1.1)  # past the per-second cap the search may have filled
        before = len(m.log_text().splitlines())
        failures = 0
        for _ in range(1000):
            try:
                read(bad)
            except OSError as e:
                assert e.errno == errno.EIO, e
                failures += 1
        assert failures == 1000
        time.sleep(0.2)
        # The node's error was logged when it was found; reading it again
        # adds a handful of lines at most, not one per read.
        lines = m.log_text().splitlines()[before:]
        assert len(lines) <= 5, (len(lines), lines[:10])
        assert str(seg) in m.log_text() and "offset" in m.log_text()
        assert m.alive()
