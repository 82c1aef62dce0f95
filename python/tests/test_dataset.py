"""mapfs.open(DIR) on datasets (docs/python.md, "Datasets"): the reading API
of a segment over shards, lookups routed to one shard, arrays by dataset
index, and bad datasets refused naming the file at fault."""
import json
import os

import pytest

import mapfs
from mapfs import _mapfs

SCHEMA = mapfs.Schema.from_yaml("""\
structs:
  Item:
    fields:
      id: uint64
      name: str
      pair: tuple<str, int32>
      v: int64
""")
N = 120


def records(offset=0):
    return [{"id": 1000 + i, "name": f"item-{i}", "pair": (f"p{i % 40}", i % 3),
             "v": i + offset} for i in range(N)]


def build_dataset(path, recs, shards, *, key=None, multi=False, approx=False):
    """Shards routed as `mapfs build --shards` does, published by manifest."""
    os.makedirs(path, exist_ok=True)
    if key is None:
        parts = [recs[len(recs) * s // shards:len(recs) * (s + 1) // shards]
                 for s in range(shards)]
    else:
        routes = _mapfs._route_keys(SCHEMA, "Item", key, [r[key] for r in recs], shards)
        parts = [[r for r, s in zip(recs, routes) if s == i] for i in range(shards)]
    build_id = _mapfs._new_build_id()
    files = [_mapfs._shard_file_name(build_id, i, shards) for i in range(shards)]
    for f, part in zip(files, parts):
        mapfs.build(os.path.join(path, f), part, schema=SCHEMA, type="Item", key=key,
                    multi=multi, approx=approx)
    _mapfs._write_manifest(str(path), files)
    return files


def test_a_mapping_dataset_reads_as_one_segment(tmp_path):
    files = build_dataset(tmp_path / "ds", records(), 4, key="name")
    one = tmp_path / "one.mapfs"
    mapfs.build(one, records(), schema=SCHEMA, type="Item", key="name")
    with mapfs.open(tmp_path / "ds") as ds, mapfs.open(str(one)) as seg:
        assert isinstance(ds, mapfs.Dataset)
        assert (ds.kind, ds.type, ds.key_field) == ("mapping", "Item", "name")
        assert ds.schema == SCHEMA
        assert len(ds) == N == len(seg)
        for i in range(N):
            assert ds[f"item-{i}"] == seg[f"item-{i}"]
            assert ds[f"item-{i}"].to_json() == seg[f"item-{i}"].to_json()
        assert "item-7" in ds and "nope" not in ds and 7 not in ds
        assert ds.get("nope", 5) == 5 and ds.get(7) is None
        with pytest.raises(KeyError):
            ds["nope"]
        with pytest.raises(KeyError):
            ds[7]  # a key of another type is simply absent, as in a segment
        # Iteration in shard order: each shard's keys in its index order.
        expected = [k for f in files for k in mapfs.open(str(tmp_path / "ds" / f)).keys()]
        assert list(ds) == expected == list(ds.keys())
        assert sorted(expected) == sorted(seg.keys())
        assert [r.to_json() for r in ds.values()] == [ds[k].to_json() for k in expected]
        assert [(k, r.v) for k, r in ds.items()] == [(k, ds[k].v) for k in expected]
        info = ds.info
        assert info["shards"] == 4 and info["record_count"] == N and info["key_count"] == N
        assert info["size"] == sum(os.path.getsize(tmp_path / "ds" / f) for f in files)
        assert [s["file"] for s in ds.manifest["shards"]] == files
        assert len(ds.shards) == 4
        ds.verify()
    assert ds.closed
    with pytest.raises(ValueError):
        len(ds)
    with pytest.raises(ValueError):
        ds["item-1"]  # the C lookup path knows the dataset is closed
    with pytest.raises(ValueError):
        "item-1" in ds


@pytest.mark.parametrize("key,probe,absent", [("id", 1005, -1), ("pair", ("p3", 0), ("p3", 9))])
def test_uint_and_generic_keys_route_as_the_build_does(tmp_path, key, probe, absent):
    recs = records()
    if key == "pair":
        recs = [dict(r, pair=(f"u{i}", i % 3)) for i, r in enumerate(recs)]
        probe = ("u3", 0)
        absent = ("u3", 1)
    build_dataset(tmp_path / "ds", recs, 3, key=key)
    ds = mapfs.open(tmp_path / "ds")
    assert len(ds) == N
    assert ds[probe].v == 5 if key == "id" else ds[probe].v == 3
    assert absent not in ds and ds.get(absent) is None
    assert "not-a-key" not in ds
    assert sorted(r.v for r in ds.values()) == list(range(N))
    if key == "pair":
        assert ds[["u3", 0]].v == 3  # converted as a value of the key type


def test_an_array_dataset_indexes_records_dataset_wide(tmp_path):
    build_dataset(tmp_path / "arr", records(), 3)
    ds = mapfs.open(tmp_path / "arr")
    assert ds.kind == "array" and ds.key_field is None
    assert len(ds) == N
    assert [r.v for r in ds] == list(range(N))
    for i in (0, 39, 40, 41, 79, 80, N - 1, -1, -N):
        assert ds[i].v == range(N)[i]
    import numpy as np
    assert ds[np.int64(41)].v == 41
    assert [r.v for r in ds[38:43]] == [38, 39, 40, 41, 42]
    assert [r.v for r in ds[::-30]] == [119, 89, 59, 29]
    with pytest.raises(IndexError):
        ds[N]
    with pytest.raises(IndexError):
        ds[-N - 1]
    with pytest.raises(IndexError):
        ds[1 << 70]
    with pytest.raises(TypeError):
        ds["x"]
    with pytest.raises(TypeError):
        ds[1.0]
    with pytest.raises(TypeError):
        ds.keys()
    with pytest.raises(TypeError):
        "x" in ds
    assert ds.info["shards"] == 3
    ds.close()
    with pytest.raises(ValueError):
        ds[0]


def test_multimaps_route_every_record_of_a_key_to_one_shard(tmp_path):
    recs = [{"id": i, "name": f"g{i % 7}", "pair": ("p", 0), "v": i} for i in range(70)]
    build_dataset(tmp_path / "mm", recs, 4, key="name", multi=True)
    ds = mapfs.open(tmp_path / "mm")
    assert ds.kind == "multimap" and len(ds) == 7
    for g in range(7):
        assert [r.v for r in ds[f"g{g}"]] == list(range(g, 70, 7))  # input order
        assert [r.v for r in ds.get_all(f"g{g}")] == list(range(g, 70, 7))
    assert ds.get_all("nope") == [] and ds.get_all(3) == []
    assert sorted(ds.keys()) == [f"g{g}" for g in range(7)]
    assert sum(len(v) for v in ds.values()) == 70


def test_approximate_multimaps_look_up_but_do_not_list(tmp_path):
    recs = [{"id": i, "name": f"g{i % 5}", "pair": ("p", 0), "v": i} for i in range(50)]
    build_dataset(tmp_path / "ap", recs, 3, key="name", multi=True, approx=True)
    ds = mapfs.open(tmp_path / "ap")
    assert ds.kind == "approximate multimap"
    assert [r.v for r in ds["g2"]] == list(range(2, 50, 5))
    assert "g9" not in ds
    with pytest.raises(TypeError):
        list(ds.keys())


def test_a_republished_dataset_is_seen_by_a_new_open_only(tmp_path):
    build_dataset(tmp_path / "ds", records(), 2, key="name")
    old = mapfs.open(tmp_path / "ds")
    build_dataset(tmp_path / "ds", records(1000), 3, key="name")
    new = mapfs.open(tmp_path / "ds")
    assert old["item-5"].v == 5 and len(old.shards) == 2
    assert new["item-5"].v == 1005 and len(new.shards) == 3


def test_bad_datasets_are_refused_naming_the_file(tmp_path):
    files = build_dataset(tmp_path / "ds", records(), 2, key="name")
    manifest = json.loads((tmp_path / "ds" / "dataset.json").read_text())
    manifest["shards"][1]["file"] = "shard-gone.mapfs"
    (tmp_path / "ds" / "dataset.json").write_text(json.dumps(manifest))
    with pytest.raises(FileNotFoundError, match="shard-gone.mapfs"):
        mapfs.open(tmp_path / "ds")
    manifest["shards"][1]["file"] = files[1]
    manifest["shards"][1]["size"] += 1
    (tmp_path / "ds" / "dataset.json").write_text(json.dumps(manifest))
    with pytest.raises(mapfs.CorruptionError, match=files[1]):
        mapfs.open(tmp_path / "ds")
    (tmp_path / "ds" / "dataset.json").write_text("{}")
    with pytest.raises(mapfs.CorruptionError, match="dataset.json"):
        mapfs.open(tmp_path / "ds")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="dataset.json"):
        mapfs.open(tmp_path / "empty")


def test_buffers_and_files_still_open_as_segments(tmp_path):
    one = tmp_path / "one.mapfs"
    mapfs.build(one, records(), schema=SCHEMA, type="Item", key="name")
    assert mapfs.open(one.read_bytes())["item-3"].v == 3
    assert mapfs.open(one)["item-3"].v == 3
