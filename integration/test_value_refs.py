"""Value references (docs/format.md, "Value references") through the CLI and a
real mount: a value repeated across records is stored once, and `mapfs get`,
field files, @json and .npy files read it as if every record held a copy.
Every mount is unmounted by its context manager."""
import base64
import json
import os
import subprocess

import numpy as np

from mapfs_testlib import build_segment, mounted

SCHEMA = """structs:
  Rec:
    fields:
      id: uint64
      name: str
      note: str
      blob: bytes
      tags: list<str>
      grid: ndarray<float64>
      extra: object
"""

NOTE = "a long note that every record repeats " * 400  # ~15 KiB
GRID = [[float(i * 8 + j) for j in range(8)] for i in range(8)]


def records(n):
    for i in range(n):
        yield {"id": i, "name": "record %d" % i, "note": NOTE,
               "blob": base64.b64encode(bytes(range(256)) * 4).decode(),
               "tags": ["common tag one", "common tag two", "tag %d" % (i % 3)],
               "grid": GRID, "extra": {"shared": ["x" * 40, 1, 2.5]}}


def test_repeated_values_through_get_and_a_mount(mapfs_bin, tmp_path):
    seg = build_segment(mapfs_bin, tmp_path, SCHEMA, "Rec", list(records(200)), key="name")
    plain = tmp_path / "plain.mapfs"
    subprocess.run([mapfs_bin, "build", "--schema", str(tmp_path / "coll.schema.yaml"),
                    "--type", "Rec", "--input", str(tmp_path / "coll.jsonl"), "--output",
                    str(plain), "--key", "name", "--dedup-memory", "0"],
                   check=True, capture_output=True, timeout=120)
    assert os.path.getsize(seg) * 10 < os.path.getsize(plain)
    subprocess.run([mapfs_bin, "verify", str(seg)], check=True, capture_output=True,
                   timeout=120)

    def get(path, key):
        out = subprocess.run([mapfs_bin, "get", str(path), key], check=True,
                             capture_output=True, timeout=60)
        return json.loads(out.stdout)

    for key in ("record 0", "record 1", "record 199"):
        assert get(seg, key) == get(plain, key)
    assert get(seg, "record 199")["note"] == NOTE

    with mounted(mapfs_bin, seg, tmp_path / "mnt") as m:
        rec = m.path / "record 150"
        with open(rec / "note", "rb") as f:
            assert f.read() == NOTE.encode()
        with open(rec / "tags" / "1", "rb") as f:
            assert f.read() == b"common tag two"
        with open(rec / "@json", "rb") as f:
            assert json.loads(f.read()) == get(plain, "record 150")
        grid = np.load(rec / "grid", mmap_mode="r")
        assert grid.dtype == np.float64 and np.array_equal(grid, np.array(GRID))
        assert os.stat(rec / "note").st_size == len(NOTE)
