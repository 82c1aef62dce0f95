#!/usr/bin/python3
"""Sharded build rates (docs/format.md, "Datasets"): `mapfs build --shards 2`
against the one-segment `mapfs build`, and mapfs.dask.build on a LocalCluster
of 2 worker processes against mapfs.build in one process, on the same records.
Prints wall time, CPU time (user + system of this process and its children,
so a shared machine's load shows) and the ratios of records per second.

  PYTHONPATH=build/python /usr/bin/python3 bench/shards_bench.py --records 400000
"""
import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import tempfile
import time

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
    return [{"key": f"user:{i:09d}", "id": i, "score": rnd.random() * 100,
             "name": f"{rnd.choice(first)} {i}", "tags": [rnd.randrange(1000) for _ in range(3)]}
            for i in range(n)]


def cpu():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def timed(fn):
    c0, t0 = cpu(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, cpu() - c0


def best(fn, runs):
    return min((timed(fn) for _ in range(runs)), key=lambda x: x[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=400000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--mapfs", default=os.environ.get("MAPFS_BIN", "build/cli/mapfs"))
    ap.add_argument("--no-dask", action="store_true")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="shards_bench.")
    try:
        schema = os.path.join(tmp, "schema.yaml")
        with open(schema, "w") as f:
            f.write(SCHEMA)
        recs = make_records(a.records)
        data = os.path.join(tmp, "recs.jsonl")
        with open(data, "w") as f:
            for r in recs:
                f.write(json.dumps(r) + "\n")
        base = [a.mapfs, "build", "--schema", schema, "--type", "Rec", "--input", data,
                "--key", "key", "-q", "--output"]
        one = best(lambda: subprocess.run(base + [os.path.join(tmp, "one.mapfs")], check=True),
                   a.runs)
        two = best(lambda: subprocess.run(base + [os.path.join(tmp, "ds2"), "--shards", "2"],
                                          check=True), a.runs)
        n = a.records
        print(f"records: {n}, cores: {os.cpu_count()}, load: {os.getloadavg()[0]:.1f}")
        print(f"mapfs build            wall {one[0]:.2f} s  cpu {one[1]:.2f} s  "
              f"{n / one[0]:,.0f} rec/s")
        print(f"mapfs build --shards 2 wall {two[0]:.2f} s  cpu {two[1]:.2f} s  "
              f"{n / two[0]:,.0f} rec/s")
        print(f"ratio --shards 2 / one: {one[0] / two[0]:.2f}x wall "
              f"(target >= 1.7x on 2 idle cores), cpu {two[1] / one[1]:.2f}x of one")
        if a.no_dask:
            return
        import dask.bag as db
        import distributed

        import mapfs
        import mapfs.dask
        s = mapfs.Schema.from_yaml(SCHEMA)
        single = best(lambda: mapfs.build(os.path.join(tmp, "py.mapfs"), recs, schema=s,
                                          type="Rec", key="key"), a.runs)
        cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                           dashboard_address=None)
        client = distributed.Client(cluster)
        try:
            bag = db.from_sequence(recs, npartitions=8).persist()
            distributed.wait(bag)
            wall = min(timed(lambda: mapfs.dask.build(bag, os.path.join(tmp, "dask"), schema=s,
                                                      type="Rec", key="key", shards=2))[0]
                       for _ in range(a.runs))
        finally:
            client.close()
            cluster.close()
        print(f"mapfs.build            wall {single[0]:.2f} s  cpu {single[1]:.2f} s  "
              f"{n / single[0]:,.0f} rec/s")
        print(f"mapfs.dask.build (2)   wall {wall:.2f} s  {n / wall:,.0f} rec/s "
              f"(worker CPU is not counted here)")
        print(f"ratio dask(2) / one process: {single[0] / wall:.2f}x (target >= 1.5x)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
