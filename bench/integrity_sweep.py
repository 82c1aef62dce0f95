"""Corruption sweep (docs/format.md, "Block checksums"): flips each of N
sampled bytes between the first section and the block checksum section of a
mapping, a multimap and an array, reads every record through the Python module
(`mapfs.open` of the flipped bytes: by key, by index, whole JSON) and counts
reads that failed with CorruptionError, reads that returned the good file's
data, and reads that returned anything else (must be 0).

    cmake --build build --target mapfs mapfs_python
    PYTHONPATH=build/python /usr/bin/python3 bench/integrity_sweep.py [--flips 400] [--records 3000]
"""
import argparse
import json
import os
import pathlib
import random
import subprocess
import sys
import tempfile
import time

import mapfs

REPO = pathlib.Path(__file__).resolve().parents[1]
SCHEMA = """structs:
  Doc:
    fields:
      name: str
      n: uint64
      words: list<str>
"""


def build(mapfs_bin, work, records, name, extra):
    schema = work / "schema.yaml"
    schema.write_text(SCHEMA)
    data = work / f"{name}.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    out = work / f"{name}.mapfs"
    subprocess.run([mapfs_bin, "build", "--schema", schema, "--type", "Doc", "--input", data,
                    "--output", out, *extra], check=True, capture_output=True)
    return out.read_bytes()


def covered(mapfs_bin, path):
    """[first section, block checksum section) from `mapfs inspect`."""
    out = subprocess.run([mapfs_bin, "inspect", path], check=True, capture_output=True,
                         text=True).stdout
    offsets = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[1] == "offset":
            offsets[parts[0]] = int(parts[2])
    return min(offsets.values()), offsets["block_checksums"]


def read_all(data, kind, keys, count):
    """Each read's answer: its JSON, or None for CorruptionError."""
    out = []
    try:
        seg = mapfs.open(data)
    except mapfs.CorruptionError:
        return None
    probes = keys if kind != "array" else range(count)
    for k in probes:
        try:
            v = seg[k]
            out.append(json.dumps([r.to_json() for r in v]) if isinstance(v, list)
                       else v.to_json())
        except mapfs.CorruptionError:
            out.append(None)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--flips", type=int, default=400)
    ap.add_argument("--records", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    mapfs_bin = os.environ.get("MAPFS_BIN") or str(REPO / "build" / "cli" / "mapfs")
    rng = random.Random(args.seed)
    records = [{"name": f"doc{i % (args.records // 2)}", "n": i,
                "words": [f"w{i}-{j}" * 3 for j in range(i % 9)]} for i in range(args.records)]
    total = {"flips": 0, "open_refused": 0, "errors": 0, "served_good": 0, "served_bad": 0,
             "unnoticed_flips": 0}
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        for kind, extra, recs in (
                ("mapping", ["--key", "name"], records[:args.records // 2]),
                ("multimap", ["--key", "name", "--multi"], records),
                ("array", [], records)):
            good = build(mapfs_bin, work, recs, kind, extra)
            first, end = covered(mapfs_bin, work / f"{kind}.mapfs")
            keys = sorted({r["name"] for r in recs})
            want = read_all(good, kind, keys, len(recs))
            assert want is not None and None not in want
            for at in rng.sample(range(first, end), min(args.flips, end - first)):
                data = bytearray(good)
                data[at] ^= 1 << rng.randrange(8)
                got = read_all(bytes(data), kind, keys, len(recs))
                total["flips"] += 1
                if got is None:
                    total["open_refused"] += 1
                    continue
                errors = sum(g is None for g in got)
                total["errors"] += errors
                total["served_good"] += sum(g is not None and g == w for g, w in zip(got, want))
                total["served_bad"] += sum(g is not None and g != w for g, w in zip(got, want))
                total["unnoticed_flips"] += errors == 0
            print(f"{kind}: {len(recs)} records, {len(good)} bytes, covered [{first}, {end})",
                  file=sys.stderr)
    print(json.dumps(total), f"({time.monotonic() - t0:.1f} s)")
    # A flip in a block no read touches would be unnoticed without being
    # served; every read above touches every block, so none is expected.
    return 0 if total["served_bad"] == 0 and total["unnoticed_flips"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
