"""mapfs.dask.build on a dask.distributed LocalCluster: the dataset reads as
one collection through the C++ reader (the CLI), each shard has the bytes of
`mapfs build --shards` from the same input, and a failed build leaves no
manifest (docs/format.md, "Datasets")."""
import json
import os
import subprocess

import pytest

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
import dask.bag as db  # noqa: E402
import dask.dataframe as dd  # noqa: E402
import pandas as pd  # noqa: E402

import mapfs  # noqa: E402
import mapfs.dask  # noqa: E402
from build_util import mapfs_bin  # noqa: E402

SCHEMA = """\
structs:
  Item:
    fields:
      id: uint64
      name: str
      group: str
      v: int64
"""
N = 400


def records():
    return [{"id": 1000 + i, "name": f"item-{i}", "group": f"g{i % 5}", "v": i * 3}
            for i in range(N)]


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       dashboard_address=None)
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


@pytest.fixture()
def inputs(tmp_path):
    schema = tmp_path / "schema.yaml"
    schema.write_text(SCHEMA)
    data = tmp_path / "items.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records()))
    return schema, data


def cli(*args, check=True):
    p = subprocess.run([mapfs_bin(), *args], capture_output=True, text=True)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def manifest(d):
    with open(os.path.join(d, "dataset.json")) as f:
        return json.load(f)


def shard_bytes(d):
    return [open(os.path.join(d, s["file"]), "rb").read() for s in manifest(d)["shards"]]


def cli_sharded(schema, data, out, *opts, shards=3):
    cli("build", "--schema", str(schema), "--type", "Item", "--input", str(data), "--output",
        str(out), "-q", "--shards", str(shards), *opts)


@pytest.mark.parametrize("opts", [{"key": "name"}, {"key": "group", "multi": True},
                                  {"key": "id"}, {}])
def test_bag_build_equals_the_cli_sharded_build(client, inputs, tmp_path, opts):
    schema, data = inputs
    out = tmp_path / "ds"
    bag = db.from_sequence(records(), npartitions=7)
    n = mapfs.dask.build(bag, str(out), schema=str(schema), type="Item", shards=3, **opts)
    assert n == N
    cli("verify", str(out))
    ref = tmp_path / "ref"
    flags = []
    if "key" in opts:
        flags += ["--key", opts["key"]]
    if opts.get("multi"):
        flags.append("--multi")
    cli_sharded(schema, data, ref, *flags)
    assert shard_bytes(out) == shard_bytes(ref)
    key = opts.get("key")
    for r in records()[::37]:
        k = str(r[key]) if key else str(r["id"] - 1000)
        got = cli("get", str(out), k).stdout
        assert got == cli("get", str(ref), k).stdout
        if not opts.get("multi"):
            assert json.loads(got)["v"] == r["v"]


def test_dataframe_build(client, inputs, tmp_path):
    schema, data = inputs
    df = dd.from_pandas(pd.DataFrame(records()), npartitions=4)
    out = tmp_path / "ds"
    schema_obj = mapfs.Schema.load(str(schema))
    assert mapfs.dask.build(df, str(out), schema=schema_obj, type="Item", key="name",
                            shards=2) == N
    m = manifest(out)
    assert m["record_count"] == N and len(m["shards"]) == 2
    cli("verify", str(out))
    assert json.loads(cli("get", str(out), "item-123").stdout)["v"] == 369
    ref = tmp_path / "ref"
    cli_sharded(schema, data, ref, "--key", "name", shards=2)
    assert shard_bytes(out) == shard_bytes(ref)


def test_route_key_matches_the_cli(tmp_path):
    # The extension's route is the one the CLI uses: a one-key dataset's only
    # non-empty shard is the routed one.
    assert mapfs._mapfs._route_key(b"x", 1) == 0
    routes = {mapfs._mapfs._route_key(f"k{i}".encode(), 4) for i in range(100)}
    assert routes == {0, 1, 2, 3}
    schema = mapfs.Schema.from_yaml(SCHEMA)
    assert mapfs._mapfs._route_keys(schema, "Item", "name", ["k1", "k2"], 4) == [
        mapfs._mapfs._route_key(b"k1", 4), mapfs._mapfs._route_key(b"k2", 4)]
    assert mapfs._mapfs._route_keys(schema, "Item", "id", [7], 4) == [
        mapfs._mapfs._route_key((7).to_bytes(8, "little"), 4)]


def shuffle_dirs(d):
    return [n for n in os.listdir(d) if n.startswith(".mapfs-shuffle-")]


def test_shuffle_directory_is_removed_after_success(client, inputs, tmp_path):
    schema, _ = inputs
    out = tmp_path / "ds"
    # Partitions of 45 records, two of them left empty by the filter: their
    # routed files have only empty sections.
    bag = db.from_sequence(records(), npartitions=9).filter(lambda r: not 1130 <= r["id"] < 1230)
    kept = [r for r in records() if not 1130 <= r["id"] < 1230]
    for opts in ({"key": "name"}, {}):
        assert mapfs.dask.build(bag, str(out), schema=str(schema), type="Item", shards=4,
                                **opts) == len(kept)
        assert shuffle_dirs(out) == []
        ds = mapfs.open(str(out))
        try:
            assert len(ds) == len(kept)
            if not opts:
                # Arrays: dataset index order is input order, across shards.
                assert [ds[i].v for i in range(len(kept))] == [r["v"] for r in kept]
            else:
                assert ds["item-7"].v == 21
        finally:
            ds.close()


def test_array_shards_match_the_cli_with_uneven_partitions(client, inputs, tmp_path):
    schema, data = inputs
    # Partition sizes 0, 1, 2, ... : shard boundaries fall inside and between them.
    recs = records()
    sizes, i = [], 0
    while i < len(recs):
        sizes.append(min(len(sizes), len(recs) - i))
        i += sizes[-1]
    chunks, i = [], 0
    for s in sizes:
        chunks.append(recs[i:i + s])
        i += s
    bag = db.from_sequence(chunks, npartitions=len(chunks)).flatten()
    out = tmp_path / "ds"
    assert mapfs.dask.build(bag, str(out), schema=str(schema), type="Item", shards=5) == N
    ref = tmp_path / "ref"
    cli_sharded(schema, data, ref, shards=5)
    assert shard_bytes(out) == shard_bytes(ref)


# A bad record fails the build, naming its partition and record, and leaves
# nothing behind: no manifest, no shard, no shuffle directory.
@pytest.mark.parametrize("bad_at,key,partitions,shards", [(321, "name", 5, 3),
                                                          (77, None, 6, 2)])
def test_failing_record_leaves_nothing(client, inputs, tmp_path, bad_at, key, partitions,
                                       shards):
    schema, _ = inputs
    bad = records()
    bad[bad_at]["v"] = "not a number"
    out = tmp_path / "ds"
    with pytest.raises(Exception, match=r"partition \d+, record \d+.*not a number"):
        mapfs.dask.build(db.from_sequence(bad, npartitions=partitions), str(out),
                         schema=str(schema), type="Item", key=key, shards=shards)
    assert os.listdir(out) == []


def test_failing_partition_iterator_leaves_nothing(client, inputs, tmp_path):
    schema, _ = inputs

    def explode(part):
        for r in part:
            if r["id"] == 1234:
                raise RuntimeError("input failed at 1234")
            yield r

    out = tmp_path / "ds"
    bag = db.from_sequence(records(), npartitions=5).map_partitions(explode)
    with pytest.raises(Exception, match="input failed at 1234"):
        mapfs.dask.build(bag, str(out), schema=str(schema), type="Item", key="id", shards=3)
    assert os.listdir(out) == []


def test_routed_files_are_checked(tmp_path):
    schema = mapfs.Schema.from_yaml(SCHEMA)
    routed = tmp_path / "part"
    assert mapfs._mapfs._route_to_file(schema, "Item", "name", records()[:50], 3,
                                       str(routed), 0) == 50
    seg = tmp_path / "seg.mapfs"
    total = sum(mapfs._mapfs._build_routed(str(tmp_path / f"s{i}.mapfs"), schema, "Item", "name",
                                           False, 16, [(str(routed), i, 0, -1)])
                for i in range(3))
    assert total == 50
    with pytest.raises(Exception, match="section 3"):
        mapfs._mapfs._build_routed(str(seg), schema, "Item", "name", False, 16,
                                   [(str(routed), 3, 0, -1)])
    data = routed.read_bytes()
    every = [(str(routed), i, 0, -1) for i in range(3)]
    assert mapfs._mapfs._build_routed(str(seg), schema, "Item", "name", False, 16, every) == 50
    seg.unlink()
    for cut in (0, 10, 30, len(data) - 1):
        routed.write_bytes(data[:cut])
        with pytest.raises(Exception, match=str(routed)):
            mapfs._mapfs._build_routed(str(seg), schema, "Item", "name", False, 16, every)
        assert not seg.exists()
    routed.write_bytes(b"not routed" + data[10:])
    with pytest.raises(Exception, match="not a routed partition file"):
        mapfs._mapfs._build_routed(str(seg), schema, "Item", "name", False, 16,
                                   [(str(routed), 0, 0, -1)])
    assert not seg.exists()
    # Arrays: asking for more records than a section holds is an error.
    arr = tmp_path / "arr"
    mapfs._mapfs._route_to_file(schema, "Item", None, records()[:10], 2, str(arr), 0)
    with pytest.raises(Exception, match="fewer than 11"):
        mapfs._mapfs._build_routed(str(seg), schema, "Item", None, False, 16,
                                   [(str(arr), 0, 1, 10)])
    # A routed file is not written into a directory that is gone (a build
    # cleaned up after failing): the late writer fails, nothing is left.
    with pytest.raises(Exception, match="gone"):
        mapfs._mapfs._route_to_file(schema, "Item", "name", records()[:5], 2,
                                    str(tmp_path / "gone" / "part"), 0)
    assert not (tmp_path / "gone").exists()
