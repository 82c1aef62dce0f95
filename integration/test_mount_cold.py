"""The cold path of a mount: what a first walk costs in FUSE requests, read
from the counts the daemon logs when it ends. A walk gets every entry's
attributes from the listing (readdirplus), so it sends no LOOKUP for what
it listed and about two requests per directory; @json files come without
attributes (their size costs a rendering) and are looked up when used. A sequential read of a large
file goes in read-ahead windows of one full-size request (1 MiB) when the
daemon may raise the mount's window (as root).
Every mount is unmounted by its context manager."""
import json
import mmap
import os
import re
import subprocess

from mapfs_testlib import build_segment, mounted

SCHEMA = """structs:
  Rec:
    fields: {id: uint64, name: str, age: int32, score: float64, city: str, day: date}
"""
COUNT = 800  # enough records that the collection lists in many chunks


def records():
    return [{"id": i, "name": f"person-{i}", "age": 18 + i % 80, "score": i / 7,
             "city": "Paris" if i % 2 else "Oslo", "day": "2024-01-%02d" % (1 + i % 28)}
            for i in range(COUNT)]


def served(mount_log):
    """The request counts of the `requests served:` line, by kind."""
    m = re.search(r"requests served: (.*)", mount_log)
    assert m, mount_log
    return {k: int(v) for k, v in (item.rsplit(" ", 1) for item in m.group(1).split(", "))}


def test_cold_find_sends_no_lookup_and_about_two_requests_per_directory(mapfs_bin, tmp_path):
    # A directory source (a single-file mount's slow walk:
    # test_reload_root_names.py).
    build_segment(mapfs_bin, tmp_path / "src", SCHEMA, "Rec", records())
    with mounted(mapfs_bin, tmp_path / "src", tmp_path / "m") as m:
        out = subprocess.run(["find", str(m.path), "-type", "f"], capture_output=True,
                             text=True, check=True).stdout.split()
    counts = served(m.log_text())
    # 6 fields and @json per record, and the collection's three files.
    assert len(out) == COUNT * 7 + 3
    dirs = COUNT + 2  # the root, the collection and its records
    assert counts["lookup"] == 0, counts
    assert counts["getattr"] <= 2, counts
    assert counts["readdirplus"] >= dirs, counts
    assert counts["total"] <= 2.2 * dirs, counts


def test_json_listed_without_attributes_is_looked_up_with_its_size(mapfs_bin, tmp_path):
    recs = records()[:3]
    seg = build_segment(mapfs_bin, tmp_path, SCHEMA, "Rec", recs)
    with mounted(mapfs_bin, seg, tmp_path / "m") as m:
        rec = m.path / "1"
        names = {e.name: e for e in os.scandir(rec)}
        assert names["@json"].is_file()
        text = (rec / "@json").read_bytes()
        assert os.stat(rec / "@json").st_size == len(text)
        assert json.loads(text)["name"] == "person-1"
        assert names["@json"].inode() == os.stat(rec / "@json").st_ino
        # Sized without rendering: the file sizes are those of their text.
        for field in ("id", "age", "day", "score", "name"):
            assert os.stat(rec / field).st_size == len((rec / field).read_bytes())
    counts = served(m.log_text())
    assert counts["lookup"] >= 1, counts  # @json, which the listing left out


def read_ahead_kb(path):
    """The kernel's read-ahead window of the mount holding `path` (sysfs)."""
    dev = os.stat(path).st_dev
    with open(f"/sys/class/bdi/{os.major(dev)}:{os.minor(dev)}/read_ahead_kb") as f:
        return int(f.read())


def test_large_files_read_and_map_in_full_size_requests(mapfs_bin, tmp_path):
    # A field of 5 MiB, served by the daemon (@segment is read by the kernel
    # itself where it can: test_mount_passthrough.py).
    big = "".join(f"{i:07d}," for i in range(5 << 17))
    recs = [{"id": 0, "name": big, "age": 1, "score": 0.5, "city": "Lisbon", "day": "2024-02-01"}]
    seg = build_segment(mapfs_bin, tmp_path, SCHEMA, "Rec", recs)
    data = big.encode()
    mib = len(data) / (1 << 20)
    assert mib > 4
    root = os.geteuid() == 0
    # A space in the mount point: /proc/self/mountinfo writes it escaped.
    with mounted(mapfs_bin, seg, tmp_path / "read ahead") as m:
        with open(m.path / "0" / "name", "rb", buffering=0) as f:
            chunks = []
            while chunk := f.read(1 << 20):
                chunks.append(chunk)
        assert b"".join(chunks) == data
        if root:
            assert read_ahead_kb(m.path) >= 1024
    counts = served(m.log_text())
    assert counts["read"] >= 1, counts
    if root:
        # 1 MiB a request; the kernel's default window would take 8 per MiB.
        assert counts["read"] <= mib + 3, counts
    # A fresh mount, so the pages come from the daemon, not the page cache.
    with mounted(mapfs_bin, seg, tmp_path / "m2") as m:
        with open(m.path / "0" / "name", "rb") as f, \
                mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as mapped:
            assert len(mapped) == len(data)
            assert mapped[:] == data
    counts = served(m.log_text())
    assert counts["read"] >= 1, counts
    if root:
        assert counts["read"] <= mib + 3, counts
