#!/usr/bin/python3
"""Datasets (docs/format.md, "Datasets"), on the same records:

- build rates: `mapfs build --shards 2` against the one-segment `mapfs build`,
  and mapfs.dask.build on a LocalCluster of 2 worker processes against
  mapfs.build in one process (records as dicts in memory, and read from JSONL
  files), with the Dask build's per-phase wall time; with the figures
  docs/scale.md works from (bytes per record, builder peak RSS, shuffle volume);
- Python lookups: mapfs.open(DIR) of a 16-shard dataset against mapfs.open of
  one segment (random hits, one field read);
- mount listings: `os.listdir` of a mounted sharded dataset of --listing
  keys (target < 1 s for 1M keys) against a mounted one-segment collection.

Prints wall time, CPU time (user + system of this process and its children,
so a shared machine's load shows) and the ratios.

  PYTHONPATH=build/python /usr/bin/python3 bench/shards_bench.py --records 400000
  ... --only dask --records 2000000
  ... --only lookups,listing --listing 1000000
"""
import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
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


CHUNK = 50000


def make_chunk(lo, hi, seed=1):
    """Records lo..hi-1 of make_records: chunks of CHUNK records each have
    their own random stream, so workers can make their partitions of the
    same records without the client shipping them."""
    out = []
    first = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "John"]
    for c in range(lo // CHUNK, -(-hi // CHUNK)):
        rnd = random.Random(seed * 1000003 + c)
        for i in range(c * CHUNK, (c + 1) * CHUNK):
            score, name, tags = (rnd.random() * 100, rnd.choice(first),
                                 [rnd.randrange(1000) for _ in range(3)])
            if lo <= i < hi:
                out.append({"key": f"user:{i:09d}", "id": i, "score": score,
                            "name": f"{name} {i}", "tags": tags})
    return out


def make_records(n, seed=1):
    return make_chunk(0, n, seed)


def cpu():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def timed(fn):
    c0, t0 = cpu(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, cpu() - c0


def peak_rss_children_mib():
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def bench_lookups(mapfs_bin, tmp, schema, data, n, probes=200000):
    import mapfs
    base = [mapfs_bin, "build", "--schema", schema, "--type", "Rec", "--input", data,
            "--key", "key", "-q", "--output"]
    one_path, ds_path = os.path.join(tmp, "look1.mapfs"), os.path.join(tmp, "look16")
    subprocess.run(base + [one_path], check=True)
    subprocess.run(base + [ds_path, "--shards", "16"], check=True)
    rnd = random.Random(3)
    keys = [f"user:{rnd.randrange(n):09d}" for _ in range(probes)]
    seg, ds = mapfs.open(one_path), mapfs.open(ds_path)
    assert isinstance(ds, mapfs.Dataset) and len(ds) == len(seg) == n

    def run(coll):
        # CPU time of this process: steadier than wall time on a shared machine.
        t0 = time.process_time()
        total = 0
        for k in keys:
            total += coll[k].id
        return time.process_time() - t0

    # Interleaved, so that a burst of load falls on both.
    runs = [(run(seg), run(ds)) for _ in range(5)]
    t_seg = min(r[0] for r in runs)
    t_ds = min(r[1] for r in runs)
    print(f"python lookup, one segment:      {t_seg / probes * 1e9:7.0f} ns")
    print(f"python lookup, 16-shard dataset: {t_ds / probes * 1e9:7.0f} ns  "
          f"({t_ds / t_seg:.2f}x; C++ figures: build/bench/dataset_bench)")


def bench_listing(mapfs_bin, tmp, n, shards=16):
    """Mounts a dataset of `n` keys and one segment of the same, and times a
    full listing (readdir of every name) of each, cold then warm."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                    "integration"))
    from mapfs_testlib import mounted
    schema = os.path.join(tmp, "list_schema.yaml")
    with open(schema, "w") as f:
        f.write("structs:\n  Item:\n    fields:\n      k: str\n      v: int64\n")
    data = os.path.join(tmp, "list.jsonl")
    with open(data, "w") as f:
        for i in range(n):
            f.write(f'{{"k":"key-{i:09d}","v":{i}}}\n')
    base = [mapfs_bin, "build", "--schema", schema, "--type", "Item", "--input", data,
            "--key", "k", "-q", "--output"]
    subprocess.run(base + [os.path.join(tmp, "list1.mapfs")], check=True)
    subprocess.run(base + [os.path.join(tmp, "listds"), "--shards", str(shards)], check=True)
    # Each listing request is a round trip between the lister and the
    # daemon; on a virtual machine a wakeup on the other CPU costs far more
    # than one on the same CPU. So each is listed as it comes, and again
    # with the lister and the daemon on one CPU (as bench/fs_compare.py
    # measures), which shows the listing's own cost.
    everywhere = os.sched_getaffinity(0)
    one_cpu = {max(everywhere)}
    for cpus, where in ((everywhere, "any CPU"), (one_cpu, "one CPU")):
        os.sched_setaffinity(0, cpus)  # the daemon inherits it
        try:
            for label, source in (("one segment", "list1.mapfs"),
                                  (f"{shards}-shard dataset", "listds")):
                with mounted(mapfs_bin, os.path.join(tmp, source), os.path.join(tmp, "mnt")) as m:
                    times = []
                    for _ in range(3):
                        t0 = time.perf_counter()
                        count = len(os.listdir(m.path))
                        times.append(time.perf_counter() - t0)
                    assert count == n + (4 if "dataset" in label else 3), count
                    print(f"mount listing of {n:,} keys, {label:18s} ({where}) "
                          f"first {times[0]:.3f} s, then {min(times[1:]):.3f} s")
        finally:
            os.sched_setaffinity(0, everywhere)


def _spin(n):
    s = 0
    for i in range(n):
        s += i
    return s


def parallel_capacity(n=10_000_000):
    """What 2 processes get from this machine right now: the wall-time
    speedup of two CPU-bound processes over one, best of 3. On a virtual
    machine whose host is busy it falls well under 2x, and with it every
    parallel ratio below; printed beside them to tell the code from the
    machine."""
    import multiprocessing
    with multiprocessing.get_context("fork").Pool(2) as pool:
        best_ratio = 0.0
        for _ in range(3):
            t0 = time.perf_counter()
            _spin(n)
            one = time.perf_counter() - t0
            t0 = time.perf_counter()
            pool.map(_spin, [n, n])
            two = time.perf_counter() - t0
            best_ratio = max(best_ratio, 2 * one / two)
    return best_ratio


def best(fn, runs):
    return min((timed(fn) for _ in range(runs)), key=lambda x: x[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=400000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--mapfs", default=os.environ.get("MAPFS_BIN", "build/cli/mapfs"))
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--only", default="build,dask,lookups,listing",
                    help="comma-separated parts to run")
    ap.add_argument("--listing", type=int, default=1000000, help="keys of the listing bench")
    a = ap.parse_args()
    parts = set(a.only.split(","))
    if a.no_dask:
        parts.discard("dask")
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
        n = a.records
        if "lookups" in parts:
            bench_lookups(a.mapfs, tmp, schema, data, n)
        if "listing" in parts:
            bench_listing(a.mapfs, tmp, a.listing)
        if "build" in parts:
            bench_build(a, tmp, schema, data, n)
        if "dask" in parts:
            bench_dask(a, tmp, recs, n)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bench_build(a, tmp, schema, data, n):
    base = [a.mapfs, "build", "--schema", schema, "--type", "Rec", "--input", data,
            "--key", "key", "-q", "--output"]
    # Interleaved, so that a burst of load on this shared machine falls on
    # both sides; the best of each.
    runs = [(timed(lambda: subprocess.run(base + [os.path.join(tmp, "one.mapfs")], check=True)),
             timed(lambda: subprocess.run(base + [os.path.join(tmp, "ds2"), "--shards", "2"],
                                          check=True)))
            for _ in range(a.runs)]
    one = min((r[0] for r in runs), key=lambda x: x[0])
    two = min((r[1] for r in runs), key=lambda x: x[0])
    print(f"records: {n}, cores: {os.cpu_count()}, load: {os.getloadavg()[0]:.1f}, "
          f"2 CPU-bound processes run {parallel_capacity():.2f}x one now (2.00x ideal)")
    print(f"mapfs build            wall {one[0]:.2f} s  cpu {one[1]:.2f} s  "
          f"{n / one[0]:,.0f} rec/s")
    print(f"mapfs build --shards 2 wall {two[0]:.2f} s  cpu {two[1]:.2f} s  "
          f"{n / two[0]:,.0f} rec/s")
    print(f"ratio --shards 2 / one: {one[0] / two[0]:.2f}x wall "
          f"(target >= 1.7x on 2 idle cores), cpu {two[1] / one[1]:.2f}x of one")
    size = os.path.getsize(os.path.join(tmp, "one.mapfs"))
    with open(os.path.join(tmp, "ds2", "dataset.json")) as f:
        ds_size = sum(s["size"] for s in json.load(f)["shards"])  # the last build's only
    print(f"input {os.path.getsize(data) / n:.1f} B/record (JSONL); segment "
          f"{size / n:.1f} B/record; dataset of 2 shards {ds_size / n:.1f} B/record; "
          f"peak RSS of a build {peak_rss_children_mib():.0f} MiB")


def worker_cpu():
    """CPU seconds (user + system) of this process, to run on each worker."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def phases(stream, wall):
    """Per-phase wall time of one mapfs.dask.build from its task stream:
    routing (first route start to last route end), building (first build
    start to last build end), and the rest of the wall time (graph, client
    round trips, scheduling, manifest)."""
    spans = {}
    for t in stream:
        name = t["key"] if isinstance(t["key"], str) else t["key"][0]
        kind = ("route" if "mapfs-route" in name else "build" if "_build_shard" in name
                else "input")
        for ss in t["startstops"]:
            if ss["action"] == "compute":
                lo, hi = spans.get(kind, (ss["start"], ss["stop"]))
                spans[kind] = (min(lo, ss["start"]), max(hi, ss["stop"]))
    route = spans.get("route", (0, 0))
    build = spans.get("build", (0, 0))
    rest = wall - (route[1] - route[0]) - (build[1] - build[0])
    return f"route {route[1] - route[0]:.2f} s, build {build[1] - build[0]:.2f} s, rest {rest:.2f} s"


def read_jsonl(paths):
    """The records of JSONL files, one json.loads per line: the same code reads
    them in one process and on the workers."""
    for path in paths:
        with open(path) as f:
            for line in f:
                yield json.loads(line)


def bench_dask(a, tmp, recs, n):
    """mapfs.dask.build on a LocalCluster of 2 single-threaded worker
    processes against mapfs.build in this process, from equivalent inputs:
    - dicts in memory: a bag persisted on the workers, against the same list
      of dicts in this process;
    - JSONL files: the workers read and parse 8 files (read_jsonl, a bag of
      one partition per file), against this process reading the same files
      with the same code.
    Each Dask figure is the best of --runs, with the workers' CPU time and
    the per-phase wall time of that run."""
    import dask.bag as db
    import distributed

    import mapfs
    import mapfs.dask
    from mapfs import _mapfs
    s = mapfs.Schema.from_yaml(SCHEMA)
    nfiles = 8
    files = [os.path.join(tmp, f"part{i}.jsonl") for i in range(nfiles)]
    step = -(-n // nfiles)
    for i, path in enumerate(files):
        with open(path, "w") as f:
            for r in recs[i * step:(i + 1) * step]:
                f.write(json.dumps(r) + "\n")

    def from_jsonl():
        mapfs.build(os.path.join(tmp, "pyj.mapfs"), read_jsonl(files), schema=s, type="Rec",
                    key="key")

    single = best(lambda: mapfs.build(os.path.join(tmp, "py.mapfs"), recs, schema=s,
                                      type="Rec", key="key"), a.runs)
    single_jsonl = best(from_jsonl, a.runs)
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       dashboard_address=None)
    client = distributed.Client(cluster)

    def run_dask(bag):
        results = []
        for i in range(a.runs):
            cpu0 = sum(client.run(worker_cpu).values())
            with distributed.get_task_stream() as ts:
                wall = timed(lambda: mapfs.dask.build(bag, os.path.join(tmp, f"dask{i}"),
                                                      schema=s, type="Rec", key="key",
                                                      shards=2))[0]
            cpu1 = sum(client.run(worker_cpu).values())
            results.append((wall, cpu1 - cpu0, phases(ts.data, wall)))
            shutil.rmtree(os.path.join(tmp, f"dask{i}"))
        return min(results)

    try:
        # The workers make their partitions (the records of `recs`, by chunk).
        bounds = [(i * n // 8, (i + 1) * n // 8) for i in range(8)]
        bag = db.from_sequence(bounds, npartitions=8).map_partitions(
            lambda b: make_chunk(*b[0])).persist()
        distributed.wait(bag)
        # Routes run where their partition lies: an uneven placement shows here.
        placed = sorted(len(keys) for keys in client.has_what().values())
        print(f"persisted partitions per worker: {placed}")
        mem = run_dask(bag)
        del bag
        jsonl = run_dask(db.from_sequence(files, npartitions=nfiles).map_partitions(read_jsonl))
    finally:
        client.close()
        cluster.close()
    print(f"records: {n}, load: {os.getloadavg()[0]:.1f} (2 workers need both cores idle), "
          f"2 CPU-bound processes run {parallel_capacity():.2f}x one now (2.00x ideal)")
    for label, one, d in (("dicts in memory", single, mem), ("JSONL files (8)", single_jsonl, jsonl)):
        print(f"{label}:")
        print(f"  mapfs.build, one process  wall {one[0]:.2f} s  cpu {one[1]:.2f} s  "
              f"{n / one[0]:,.0f} rec/s")
        print(f"  mapfs.dask.build (2)      wall {d[0]:.2f} s  cpu {d[1]:.2f} s (workers)  "
              f"{n / d[0]:,.0f} rec/s  ({d[2]})")
        print(f"  ratio dask(2) / one process: {one[0] / d[0]:.2f}x wall (target >= 1.5x), "
              f"cpu {d[1] / one[1]:.2f}x of one")
    # What the shuffle moves: routed files of packed records with their keys.
    part = recs[:10000]
    routed = os.path.join(tmp, "routed")
    _mapfs._route_to_file(s, "Rec", "key", part, 2, routed, 0)
    print(f"shuffle volume: {os.path.getsize(routed) / len(part):.0f} B/record, packed records "
          f"with their keys, written to and read from the output's storage")


if __name__ == "__main__":
    main()
