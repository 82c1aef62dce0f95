"""Operational limits of the daemon: names created in a directory source by
link() and symlink() are shown without a remount. Every mount is unmounted
in a finally (mounted())."""
import os

from mapfs_testlib import build_segment, mounted, wait_for

SCHEMA = """structs:
  Person:
    fields: {key: str, id: uint64, name: str}
"""

SHOWN_WITHIN = 2.0  # seconds


def read(path):
    with open(path, "rb") as f:
        return f.read()


def people(mapfs_bin, workdir, name, prefix):
    return build_segment(mapfs_bin, workdir, SCHEMA, "Person",
                         [{"key": f"k{i}", "id": i, "name": f"{prefix}-{i}"} for i in range(3)],
                         key="key", name=name)


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

