"""@segment read by the kernel from the segment file itself (FUSE
passthrough, docs/mounts.md "Passthrough"): the bytes read and mapped are the
file's, no READ reaches the daemon for them, opens of one file at once share
one registration, a replaced source's new @segment is passed through too,
and a dataset's shards are. Where the kernel offers no passthrough (before
Linux 6.9) or the daemon is not root, these tests are skipped: the daemon
then serves @segment as any file (test_mount.py).
Every mount is unmounted by its context manager."""
import json
import mmap
import os
import re
import subprocess

import pytest

from mapfs_testlib import build_replacement, build_segment, mounted, wait_for

SCHEMA = """structs:
  Rec:
    fields: {id: uint64, name: str}
"""


def records(n, prefix="person"):
    return [{"id": i, "name": f"{prefix}-{i:06d}"} for i in range(n)]


def served(log):
    m = re.search(r"requests served: (.*)", log)
    assert m, log
    return {k: int(v) for k, v in (item.rsplit(" ", 1) for item in m.group(1).split(", "))}


def read(path):
    with open(path, "rb") as f:
        return f.read()


def require_passthrough(log):
    if os.geteuid() != 0:
        pytest.skip("registering a backing file needs root")
    if "passthrough: not offered" in log:
        pytest.skip("this kernel offers no FUSE passthrough (Linux 6.9 and later do)")
    assert "passthrough: on" in log, log


def test_segment_is_read_and_mapped_from_its_file_without_the_daemon(mapfs_bin, tmp_path):
    seg = build_segment(mapfs_bin, tmp_path / "src", SCHEMA, "Rec", records(40000))
    data = seg.read_bytes()
    assert len(data) > 1 << 20
    with mounted(mapfs_bin, seg, tmp_path / "m", extra_args=["--log-level", "debug"]) as m:
        path = m.path / "@segment"
        assert os.stat(path).st_size == len(data)
        # Two opens at once (one mapped), then one after the other.
        with open(path, "rb", buffering=0) as a, open(path, "rb") as b, \
                mmap.mmap(b.fileno(), 0, prot=mmap.PROT_READ) as mapped:
            assert a.read() == data
            assert mapped[:] == data
            assert os.pread(a.fileno(), 100, len(data) - 50) == data[-50:]
        for _ in range(3):
            assert read(path) == data
        assert subprocess.run(["cmp", str(path), str(seg)]).returncode == 0
        # Field files are still served by the daemon.
        assert read(m.path / "7" / "name") == b"person-000007"
    log = m.log_text()
    require_passthrough(log)
    counts = served(log)
    assert counts["read"] == 1, counts  # the field's
    assert counts["open"] >= 6, counts


def test_a_replaced_segment_is_passed_through_in_each_version(mapfs_bin, tmp_path):
    seg = build_segment(mapfs_bin, tmp_path / "src", SCHEMA, "Rec", records(3000))
    old = seg.read_bytes()
    with mounted(mapfs_bin, seg, tmp_path / "m", extra_args=["--log-level", "debug"]) as m:
        path = m.path / "@segment"
        fd = os.open(path, os.O_RDONLY)
        try:
            mapped = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
            build_replacement(mapfs_bin, seg, SCHEMA, "Rec", records(4000, "renamed"))
            new = seg.read_bytes()
            assert new != old
            wait_for(lambda: read(path) == new, 3.0, "the new @segment for a fresh open")
            # The open file reads the version it opened: its file, now unlinked.
            assert os.pread(fd, len(old) + 10, 0) == old
            assert mapped[:] == old
            mapped.close()
        finally:
            os.close(fd)
        assert read(path) == new
    log = m.log_text()
    require_passthrough(log)
    assert served(log)["read"] == 0, served(log)


def test_dataset_shards_are_passed_through(mapfs_bin, tmp_path):
    schema = tmp_path / "schema.yaml"
    schema.write_text(SCHEMA)
    data = tmp_path / "recs.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records(5000)))
    ds = tmp_path / "ds"
    subprocess.run([mapfs_bin, "build", "--schema", str(schema), "--type", "Rec", "--input",
                    str(data), "--output", str(ds), "--shards", "3", "--key", "name", "-q"],
                   check=True)
    manifest = json.loads((ds / "dataset.json").read_text())
    with mounted(mapfs_bin, ds, tmp_path / "m", extra_args=["--log-level", "debug"]) as m:
        for i, shard in enumerate(manifest["shards"]):
            with open(m.path / "@shards" / str(i) / "@segment", "rb") as f, \
                    mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as mapped:
                assert mapped[:] == read(ds / shard["file"])
    log = m.log_text()
    require_passthrough(log)
    assert served(log)["read"] == 0, served(log)


def test_passthrough_false_serves_segment_through_the_daemon(mapfs_bin, tmp_path):
    seg = build_segment(mapfs_bin, tmp_path / "src", SCHEMA, "Rec", records(3000))
    data = seg.read_bytes()
    with mounted(mapfs_bin, seg, tmp_path / "m", options="passthrough=false",
                 extra_args=["--log-level", "debug"]) as m:
        with open(m.path / "@segment", "rb") as f, \
                mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as mapped:
            assert mapped[:] == data
    log = m.log_text()
    assert "passthrough: off (mount option)" in log, log
    assert served(log)["read"] >= 1, served(log)
