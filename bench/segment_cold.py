#!/usr/bin/python3
"""Cold @segment through a mount against the segment file itself, in one run
(docs/mounts.md, "Passthrough"): the same segment read and mapped cold, as a
file, through a mapfs mount whose kernel reads it from the file itself
(passthrough), and through a mount whose daemon serves it
(passthrough=false). The three are interleaved round by round, on one CPU,
so a slower minute of the disk falls on all of them; each mount is fresh and
the page cache is dropped before each cold read, and a mount's daemon has
exited before the file itself is read (pages a process maps survive a
drop). Also reports how much the page cache grows when the whole @segment
is mapped and touched through each mount: once the file's size with
passthrough, twice without (the mount's own cache and the daemon's mapping).

    sudo /usr/bin/python3 bench/segment_cold.py --mapfs build/cli/mapfs [--records 100000]
"""
import argparse
import json
import mmap
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

# The same cold reads fs_compare.py times (this script's directory is on sys.path).
from fs_compare import drop_caches, op_mmap, op_read_seq, timed

SCHEMA = """structs:
  Rec:
    fields: {id: uint64, name: str, age: int32, score: float64, city: str}
"""
CITIES = ["Paris", "London", "Berlin", "Madrid", "Rome", "Lisbon", "Vienna", "Oslo"]


def page_cache_mib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("Cached:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Mount:
    """`mapfs mount -f SEG MNT -o OPTS` as a child; leaving waits until the daemon exits."""

    def __init__(self, mapfs, seg, mnt, opts):
        self.cmd = [mapfs, "mount", "-f", seg, mnt, "-o", opts]
        self.mnt = mnt

    def __enter__(self):
        self.proc = subprocess.Popen(self.cmd, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not os.path.ismount(self.mnt):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"mount on {self.mnt} failed")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc):
        subprocess.run(["fusermount3", "-u", self.mnt], capture_output=True)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mapfs", default="build/cli/mapfs")
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--cpu", type=int, default=max(os.sched_getaffinity(0)))
    args = ap.parse_args()
    mapfs = os.path.abspath(args.mapfs)
    work = tempfile.mkdtemp(prefix="mapfs-segcold-")
    try:
        jsonl = os.path.join(work, "recs.jsonl")
        with open(jsonl, "w") as f:
            for i in range(args.records):
                f.write(json.dumps({"id": i, "name": f"person-{i:07d}", "age": 18 + i % 80,
                                    "score": i / 7, "city": CITIES[i % 8]}) + "\n")
        schema = os.path.join(work, "schema.yaml")
        with open(schema, "w") as f:
            f.write(SCHEMA)
        seg = os.path.join(work, "coll.mapfs")
        subprocess.run([mapfs, "build", "--schema", schema, "--type", "Rec", "--input", jsonl,
                        "--output", seg, "-q"], check=True)
        mnt = os.path.join(work, "mnt")
        os.mkdir(mnt)
        size = os.path.getsize(seg)
        os.sched_setaffinity(0, {args.cpu})  # the daemons inherit it

        ways = [("the segment file itself", None), ("mapfs, passthrough", "passthrough=true"),
                ("mapfs, passthrough=false", "passthrough=false")]
        ops = [("read", op_read_seq), ("mmap", op_mmap)]
        times = {}
        for _ in range(args.rounds):
            for name, opts in ways:
                for op, fn in ops:
                    if opts is None:
                        drop_caches()
                        elapsed = timed(lambda: fn(seg))
                    else:
                        with Mount(mapfs, seg, mnt, opts):
                            drop_caches()
                            elapsed = timed(lambda: fn(os.path.join(mnt, "@segment")))
                    times.setdefault((name, op), []).append(elapsed)

        growth = {}
        for name, opts in ways[1:]:
            with Mount(mapfs, seg, mnt, opts):
                drop_caches()
                before = page_cache_mib()
                with open(os.path.join(mnt, "@segment"), "rb") as f, \
                        mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as m:
                    sum(m[off] for off in range(0, len(m), 4096))  # every page, still mapped
                    growth[name] = page_cache_mib() - before

        print(f"segment: {args.records} records, {size / 2**20:.1f} MiB; {args.rounds} rounds, "
              f"interleaved, CPU {args.cpu}; medians (best)")
        for op, _ in ops:
            base = statistics.median(times[(ways[0][0], op)])
            for name, _ in ways:
                t = times[(name, op)]
                print(f"cold {op}  {name:26s} {size / statistics.median(t) / 1e9:5.2f} GB/s "
                      f"({size / min(t) / 1e9:.2f})  x file time {statistics.median(t) / base:.2f}")
        for name, mib in growth.items():
            print(f"page cache growth, whole @segment mapped through {name}: {mib:.1f} MiB "
                  f"({mib * 2**20 / size:.2f}x the file)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
