#!/usr/bin/python3
"""Build rate of mapfs.build from Python dicts, with `mapfs build` from JSONL
of the same records as a reference (docs/python.md, "Building").

Records: {key: str, id: int, score: float, name: str, tags: frozenset<int>},
keyed by `key` (a string mapping). Prints the median of --runs runs.

  PYTHONPATH=build/python /usr/bin/python3 bench/python_build_bench.py --records 1000000
"""
import argparse
import json
import os
import pathlib
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import mapfs

SCHEMA = """\
structs:
  Rec:
    fields:
      key: str
      id: int64
      score: float64
      name: str
      tags: frozenset<int64>
"""


def make_records(n, seed=1):
    rnd = random.Random(seed)
    first = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "John"]
    return [{
        "key": f"user:{i:09d}",
        "id": i,
        "score": rnd.random() * 100,
        "name": f"{rnd.choice(first)} {i % 9973}",
        "tags": frozenset(rnd.sample(range(64), rnd.randint(0, 6))),
    } for i in range(n)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", default=None, help="where to write (default: a temp dir)")
    ap.add_argument("--mapfs-bin", default=os.environ.get(
        "MAPFS_BIN", str(pathlib.Path(__file__).resolve().parents[1] / "build/cli/mapfs")))
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(dir=args.dir) as d:
        d = pathlib.Path(d)
        (d / "schema.yaml").write_text(SCHEMA)
        schema = mapfs.Schema.load(d / "schema.yaml")
        recs = make_records(args.records)

        # Rates by wall time and by CPU time (user + system of this process):
        # on a shared machine the CPU figure is the one that does not depend
        # on what else runs.
        def timed(fn, rates, cpu_rates):
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            rates.append(args.records / (time.perf_counter() - t0))
            cpu_rates.append(args.records / (time.process_time() - c0))

        py_rates, py_cpu = [], []
        for _ in range(args.runs):
            timed(lambda: mapfs.build(d / "py.mapfs", recs, schema=schema, type="Rec", key="key"),
                  py_rates, py_cpu)
        gen_rates, gen_cpu = [], []
        for _ in range(args.runs):
            timed(lambda: mapfs.build(d / "gen.mapfs", (r for r in recs), schema=schema,
                                      type="Rec", key="key"), gen_rates, gen_cpu)

        cli_rates, cli_cpu = [], []
        if os.access(args.mapfs_bin, os.X_OK):
            with open(d / "recs.jsonl", "w") as f:
                for r in recs:
                    f.write(json.dumps(dict(r, tags=sorted(r["tags"]))) + "\n")
            for _ in range(args.runs):
                t0 = time.perf_counter()
                r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                subprocess.run([args.mapfs_bin, "build", "--schema", str(d / "schema.yaml"),
                                "--type", "Rec", "--input", str(d / "recs.jsonl"),
                                "--output", str(d / "cli.mapfs"), "--key", "key"], check=True)
                r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                cli_rates.append(args.records / (time.perf_counter() - t0))
                cli_cpu.append(args.records / (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime))
            same = (d / "py.mapfs").read_bytes() == (d / "cli.mapfs").read_bytes()
        else:
            same = None

    print(f"records: {args.records}, runs: {args.runs} (medians)")
    print("                                   records/s by wall time    by CPU time")
    m = statistics.median
    print(f"mapfs.build from a list of dicts:  {m(py_rates):12,.0f}  {m(py_cpu):18,.0f}")
    print(f"mapfs.build from a generator:      {m(gen_rates):12,.0f}  {m(gen_cpu):18,.0f}")
    if cli_rates:
        print(f"mapfs build from JSONL (CLI):      {m(cli_rates):12,.0f}  {m(cli_cpu):18,.0f}")
        print(f"same bytes from Python and JSONL:  {same}")
    print("sharedbuffers (measured on these machines): 35-87k records/s; target >= 5x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
