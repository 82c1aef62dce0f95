"""Datasets built on Dask (docs/format.md, "Datasets").

``mapfs.dask.build(data, output_dir, *, schema, type, key=None, multi=False,
shards=N)`` routes the records of a Dask bag (of dicts) or DataFrame to N
shards by the dataset routing rule, builds each shard (as ``mapfs.build`` would) on
a worker into ``output_dir`` (storage every worker sees), and writes
``dataset.json`` on the client once every shard is built. A failed or
cancelled build writes no manifest and removes the shards it wrote, so readers
never see a partial dataset; a new build over an existing dataset publishes a
new version by replacing its manifest.

The shuffle is plain Dask: one routing task per input partition converts and
packs its records in C++ (as ``mapfs.build`` converts them) and splits them
into N blobs of packed records with their raw keys, and the build task of
shard i takes blob i of every partition in partition order and adds the
packed records as they are, so each shard holds its records in input order
(as ``mapfs build --shards`` does: the same input gives byte-identical
shards). What moves between workers is packed bytes, not pickled dicts.
Arrays hold consecutive ranges: shard i starts at record floor(i * R / N).
A shard's packed records are held in its worker's memory while it is built.

Keys of every type route: str and uint keys by their bytes, other types by
their packed value (the raw key bytes a segment stores).
"""
import os

import mapfs
from mapfs import _mapfs

__all__ = ["build"]


def _schema_yaml(schema):
    if isinstance(schema, mapfs.Schema):
        return schema.to_yaml()
    return mapfs.Schema.load(schema).to_yaml()


def _route_partition(records, part_offset, schema_yaml, type_, key, n, total):
    """Splits one partition into n blobs of packed records, in order: Dask
    moves one bytes object between workers much faster than a list of many
    small dicts, and the shard's build adds the packed bytes as they are."""
    schema = mapfs.Schema.from_yaml(schema_yaml)
    return _mapfs._pack_route(schema, type_, key, records, n, part_offset, total)


def _take(parts, i):
    return parts[i]


def _build_shard(path, schema_yaml, type_, key, multi, memory_mb, *blobs):
    schema = mapfs.Schema.from_yaml(schema_yaml)
    return _mapfs._build_packed(path, schema, type_, key, multi, memory_mb, list(blobs))


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

    parts = data.to_delayed(optimize_graph=True)
    offsets = [0] * len(parts)
    total = 0
    if key is None:
        # Arrays split by record index: partition sizes first.
        sizes = dask.compute(*[dask.delayed(len)(p) for p in parts])
        for i, size in enumerate(sizes):
            offsets[i] = total
            total += size

    build_id = _mapfs._new_build_id()
    files = [_mapfs._shard_file_name(build_id, i, n) for i in range(n)]
    paths = [os.path.join(output_dir, f) for f in files]
    routed = [dask.delayed(_route_partition, pure=False)(p, offsets[i], schema_yaml, type, key,
                                                         n, total)
              for i, p in enumerate(parts)]
    builds = []
    for s in range(n):
        lists = [dask.delayed(_take, pure=True)(r, s) for r in routed]
        builds.append(dask.delayed(_build_shard, pure=False)(
            paths[s], schema_yaml, type, key, multi, memory_mb, *lists))
    try:
        counts = _compute_all(builds)
        _mapfs._write_manifest(output_dir, files)
    except BaseException:
        # No manifest names these files: remove them, whichever were built.
        _remove(paths)
        raise
    return sum(counts)
