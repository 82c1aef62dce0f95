"""Datasets built on Dask (docs/format.md, "Datasets").

``mapfs.dask.build(data, output_dir, *, schema, type, key=None, multi=False,
shards=N)`` routes the records of a Dask bag (of dicts) or DataFrame to N
shards by the dataset routing rule, builds each shard (as ``mapfs.build`` would) on
a worker into ``output_dir`` (storage every worker sees), and writes
``dataset.json`` on the client once every shard is built. A failed or
cancelled build writes no manifest and removes the shards it wrote, so readers
never see a partial dataset; a new build over an existing dataset publishes a
new version by replacing its manifest.

The shuffle goes through the output's storage, not Dask's comms: one routing
task per input partition converts and packs its records in C++ (as
``mapfs.build`` converts them) and writes them, split by shard, to one routed
file in a temporary directory ``output_dir/.mapfs-shuffle-<build id>``; once
every partition is routed, the build task of shard i reads section i of every
routed file in partition order and adds the packed records as they are, so
each shard holds its records in input order (as ``mapfs build --shards``
does: the same input gives byte-identical shards). The graph has P + N tasks
(P input partitions, N shards), in two computations: the routes, each fused
with the tasks that make its partition (records are consumed where they are
made), then the builds, given the partitions' record counts. Arrays hold consecutive ranges:
shard i holds dataset records floor(i * R / N) up to floor((i + 1) * R / N),
worked out from the counts, so the input is read once. A shard's build holds
one partition's section at a time, not the shard's records. The temporary
directory is removed once every task has stopped, whether the build succeeded
or not.

Keys of every type route: str and uint keys by their bytes, other types by
their packed value (the raw key bytes a segment stores).
"""
import functools
import os
import shutil

import mapfs
from mapfs import _mapfs

__all__ = ["build"]


def _schema_yaml(schema):
    if isinstance(schema, mapfs.Schema):
        return schema.to_yaml()
    return mapfs.Schema.load(schema).to_yaml()


@functools.lru_cache(maxsize=8)
def _schema(schema_yaml):
    # Parsed once per worker process, not once per task.
    return mapfs.Schema.from_yaml(schema_yaml)


def _routed_file(shuffle_dir, p):
    return os.path.join(shuffle_dir, f"part-{p:06d}")


def _route_partition(records, p, shuffle_dir, schema_yaml, type_, key, n):
    """Converts, packs and routes partition p into its routed file; returns
    its record count."""
    return _mapfs._route_to_file(_schema(schema_yaml), type_, key, records, n,
                                 _routed_file(shuffle_dir, p), p)


def _route_tasks(data, build_id, route):
    """One task per partition of the bag `data`, `route(partition, p)` fused
    with the task that makes the partition, so its records are consumed
    where they are made: a lazy partition (a generator) is never moved
    between workers, and the routes spread as the input does."""
    import dask.optimization
    from dask.delayed import Delayed
    keys = data.__dask_keys__()
    dsk = dict(data.__dask_optimize__(data.__dask_graph__(), keys))
    names = [(f"mapfs-route-{build_id}", p) for p in range(len(keys))]
    for p, k in enumerate(keys):
        dsk[names[p]] = (functools.partial(route, p=p), k)
    dsk, _ = dask.optimization.cull(dsk, names)
    dsk, _ = dask.optimization.fuse(dsk, keys=names, ave_width=1, rename_keys=False)
    return [Delayed(name, dsk) for name in names]


def _pieces(counts, s, n, keyed):
    """What shard s is built from, in partition order, kept small (it goes
    into the task): keyed, a range of partitions, section s of each; arrays,
    (partition, skip, take) triples of section 0."""
    if keyed:
        return range(len(counts))
    # Shard s holds dataset records floor(s * R / N) up to floor((s + 1) * R / N),
    # the rule of `mapfs build --shards`.
    total = sum(counts)
    lo, hi = s * total // n, (s + 1) * total // n
    pieces, start = [], 0
    for p, c in enumerate(counts):
        a, b = max(lo, start), min(hi, start + c)
        if a < b:
            pieces.append((p, a - start, b - a))
        start += c
    return pieces


def _build_shard(path, shuffle_dir, s, parts, schema_yaml, type_, key, multi, memory_mb):
    if key is not None:
        pieces = [(_routed_file(shuffle_dir, p), s, 0, -1) for p in parts]
    else:
        pieces = [(_routed_file(shuffle_dir, p), 0, skip, take) for p, skip, take in parts]
    return _mapfs._build_routed(path, _schema(schema_yaml), type_, key, multi, memory_mb, pieces)


def _remove(paths):
    for p in paths:
        try:
            os.remove(p)
        except FileNotFoundError:
            pass


def _compute_all(tasks):
    """Computes every task; when one fails, waits for the others to stop
    first, so that no shard appears after the failed build's cleanup."""
    import dask
    try:
        from distributed import get_client, wait
        client = get_client()
    except (ImportError, ValueError):
        return dask.compute(*tasks)
    futures = client.compute(tasks)
    try:
        wait(futures)
    except BaseException:
        client.cancel(futures)
        raise
    return client.gather(futures)


def build(data, output_dir, *, schema, type, key=None, multi=False, shards, memory_mb=256):
    """Builds the dataset directory `output_dir` from a Dask bag of records
    (dicts) or a Dask DataFrame (one record per row), in `shards` shards,
    on the current Dask scheduler (a distributed Client if one is active).
    Returns the number of records. See the module docstring."""
    import dask
    import dask.bag

    n = int(shards)
    if n < 1:
        raise ValueError(f"shards must be at least 1, got {shards}")
    if multi and key is None:
        raise ValueError("multi=True needs a key")
    if hasattr(data, "to_bag") and not isinstance(data, dask.bag.Bag):
        data = data.to_bag(index=False, format="dict")
    if not isinstance(data, dask.bag.Bag):
        raise TypeError("data must be a dask.bag.Bag or a dask.dataframe.DataFrame")
    schema_yaml = _schema_yaml(schema)
    os.makedirs(output_dir, exist_ok=True)

    build_id = _mapfs._new_build_id()
    files = [_mapfs._shard_file_name(build_id, i, n) for i in range(n)]
    paths = [os.path.join(output_dir, f) for f in files]
    shuffle_dir = os.path.join(output_dir, f".mapfs-shuffle-{build_id}")
    routes = _route_tasks(data, build_id, functools.partial(
        _route_partition, shuffle_dir=shuffle_dir, schema_yaml=schema_yaml, type_=type, key=key,
        n=n if key is not None else 1))
    os.mkdir(shuffle_dir)
    try:
        try:
            # Two computations: the builds take the partitions' counts as
            # plain arguments, so they depend on no task and the scheduler
            # spreads them over the workers (with a dependency, it runs them
            # where that small result lies).
            counts = _compute_all(routes)
            builds = [dask.delayed(_build_shard, pure=False)(
                paths[s], shuffle_dir, s, _pieces(counts, s, n, key is not None), schema_yaml,
                type, key, multi, memory_mb) for s in range(n)]
            built = _compute_all(builds)
        finally:
            # Every task has stopped: the routed files are no longer needed.
            shutil.rmtree(shuffle_dir, ignore_errors=True)
        _mapfs._write_manifest(output_dir, files)
    except BaseException:
        # No manifest names these files: remove them, whichever were built.
        _remove(paths)
        raise
    return sum(built)
