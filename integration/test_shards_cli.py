"""`mapfs build --shards N --output DIR` and `mapfs get|inspect|verify|dump DIR`
on datasets (docs/format.md, "Datasets")."""
import json
import os
import subprocess

import pytest

SCHEMA = """\
structs:
  Item:
    fields:
      id: uint64
      name: str
      group: str
      pair: tuple<str, int64>
      v: int64
"""

N = 300


def records():
    return [
        {"id": 1000 + i, "name": f"item-{i}", "group": f"g{i % 7}", "pair": [f"p{i}", i % 3],
         "v": i * 11}
        for i in range(N)
    ]


@pytest.fixture()
def inputs(tmp_path):
    schema = tmp_path / "schema.yaml"
    schema.write_text(SCHEMA)
    data = tmp_path / "items.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records()))
    return schema, data


def run(mapfs_bin, *args, check=True, **kw):
    p = subprocess.run([mapfs_bin, *args], capture_output=True, text=True, **kw)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def build(mapfs_bin, schema, data, output, *extra, check=True):
    return run(mapfs_bin, "build", "--schema", str(schema), "--type", "Item", "--input",
               str(data), "--output", str(output), "-q", *extra, check=check)


def manifest(dir_):
    with open(os.path.join(dir_, "dataset.json")) as f:
        return json.load(f)


@pytest.mark.parametrize("key,values", [
    ("name", lambda r: r["name"]),
    ("id", lambda r: str(r["id"])),
    ("pair", lambda r: json.dumps(r["pair"])),
])
def test_mapping_dataset_answers_as_one_segment(mapfs_bin, inputs, tmp_path, key, values):
    schema, data = inputs
    single, ds = tmp_path / "single.mapfs", tmp_path / "ds"
    build(mapfs_bin, schema, data, single, "--key", key)
    build(mapfs_bin, schema, data, ds, "--key", key, "--shards", "3")
    m = manifest(ds)
    assert len(m["shards"]) == 3 and m["record_count"] == N and m["key_count"] == N
    assert sorted(os.listdir(ds)) == sorted(["dataset.json"] + [s["file"] for s in m["shards"]])
    for r in records():
        k = values(r)
        got = run(mapfs_bin, "get", str(ds), k).stdout
        assert got == run(mapfs_bin, "get", str(single), k).stdout
        assert json.loads(got)["v"] == r["v"]
    missing = run(mapfs_bin, "get", str(ds), "999999" if key != "pair" else '["x", 1]',
                  check=False)
    assert missing.returncode == 1, missing.stderr


def test_inspect_verify_and_dump(mapfs_bin, inputs, tmp_path):
    schema, data = inputs
    ds = tmp_path / "ds"
    build(mapfs_bin, schema, data, ds, "--key", "name", "--shards", "3")
    m = manifest(ds)
    out = run(mapfs_bin, "inspect", str(ds)).stdout
    assert "shards:          3" in out
    assert f"records:         {N}" in out
    for s in m["shards"]:
        assert s["file"] in out and f"records {s['record_count']}" in out
    v = run(mapfs_bin, "verify", str(ds))
    assert "OK" in v.stdout and "3 shards" in v.stdout
    # dump: the shards' records, shard by shard, each in input order.
    dumped = run(mapfs_bin, "dump", str(ds)).stdout.splitlines()
    per_shard = []
    for s in m["shards"]:
        per_shard += run(mapfs_bin, "dump", str(ds / s["file"])).stdout.splitlines()
    assert dumped == per_shard
    assert sorted(json.loads(line)["v"] for line in dumped) == [r["v"] for r in records()]


def test_each_shard_is_the_one_segment_build_of_its_records(mapfs_bin, inputs, tmp_path):
    schema, data = inputs
    for opts in (["--key", "name"], ["--key", "group", "--multi"], ["--key", "id"], []):
        ds = tmp_path / ("ds" + "".join(opts))
        build(mapfs_bin, schema, data, ds, *opts, "--shards", "3")
        for i, s in enumerate(manifest(ds)["shards"]):
            part = tmp_path / f"part{i}.jsonl"
            run(mapfs_bin, "dump", str(ds / s["file"]), "-o", str(part))
            rebuilt = tmp_path / f"rebuilt{i}.mapfs"
            build(mapfs_bin, schema, part, rebuilt, *opts)
            assert rebuilt.read_bytes() == (ds / s["file"]).read_bytes(), (opts, i)
        run(mapfs_bin, "verify", str(ds))


def test_multimap_keeps_input_order(mapfs_bin, inputs, tmp_path):
    schema, data = inputs
    single, ds = tmp_path / "single.mapfs", tmp_path / "ds"
    build(mapfs_bin, schema, data, single, "--key", "group", "--multi")
    build(mapfs_bin, schema, data, ds, "--key", "group", "--multi", "--shards", "4")
    assert manifest(ds)["key_count"] == 7
    for g in range(7):
        got = run(mapfs_bin, "get", str(ds), f"g{g}").stdout
        assert got == run(mapfs_bin, "get", str(single), f"g{g}").stdout
        assert [r["v"] for r in json.loads(got)] == [r["v"] for r in records() if r["group"] == f"g{g}"]


def test_array_dataset_holds_consecutive_ranges(mapfs_bin, inputs, tmp_path):
    schema, data = inputs
    single, ds = tmp_path / "single.mapfs", tmp_path / "ds"
    build(mapfs_bin, schema, data, single)
    build(mapfs_bin, schema, data, ds, "--shards", "3")
    m = manifest(ds)
    assert [s["first_record"] for s in m["shards"]] == [0, 100, 200]
    assert [s["record_count"] for s in m["shards"]] == [100, 100, 100]
    for i in (0, 1, 99, 100, 150, 299):
        assert run(mapfs_bin, "get", str(ds), str(i)).stdout == \
            run(mapfs_bin, "get", str(single), str(i)).stdout
    assert run(mapfs_bin, "get", str(ds), str(N), check=False).returncode == 1
    assert run(mapfs_bin, "dump", str(ds)).stdout == run(mapfs_bin, "dump", str(single)).stdout
    refused = run(mapfs_bin, "build", "--schema", str(schema), "--type", "Item", "--input", "-",
                  "--output", str(tmp_path / "stdin"), "--shards", "2", check=False,
                  input=data.read_text())
    assert refused.returncode == 2 and "standard input" in refused.stderr


def test_keyed_build_from_stdin(mapfs_bin, inputs, tmp_path):
    schema, data = inputs
    ds = tmp_path / "ds"
    run(mapfs_bin, "build", "--schema", str(schema), "--type", "Item", "--input", "-",
        "--output", str(ds), "--key", "name", "--shards", "2", "-q", input=data.read_text())
    assert json.loads(run(mapfs_bin, "get", str(ds), "item-7").stdout)["v"] == 77


def test_verify_names_a_corrupted_shard(mapfs_bin, inputs, tmp_path):
    schema, data = inputs
    ds = tmp_path / "ds"
    build(mapfs_bin, schema, data, ds, "--key", "name", "--shards", "3")
    shard = manifest(ds)["shards"][1]["file"]
    path = ds / shard
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x5A  # inside the data section: only verify sees it
    path.write_bytes(bytes(raw))
    p = run(mapfs_bin, "verify", str(ds), check=False)
    assert p.returncode == 1, p.stderr
    assert shard in p.stderr
    # A header change is refused at open, naming the shard too.
    raw[50] ^= 1
    path.write_bytes(bytes(raw))
    p = run(mapfs_bin, "get", str(ds), "item-1", check=False)
    assert p.returncode == 2 and shard in p.stderr


@pytest.mark.parametrize("bad", ["bad_line", "duplicate"])
def test_failed_build_leaves_no_dataset(mapfs_bin, inputs, tmp_path, bad):
    schema, data = inputs
    lines = data.read_text().splitlines()
    if bad == "bad_line":
        lines[250] = '{"id": 1, "name": "x", "v": "not a number"}'
    else:
        lines[250] = lines[3]
    data.write_text("\n".join(lines) + "\n")
    ds = tmp_path / "ds"
    p = build(mapfs_bin, schema, data, ds, "--key", "name", "--shards", "3", check=False)
    assert p.returncode == 2
    assert ":251" in p.stderr or ":4" in p.stderr, p.stderr
    assert os.listdir(ds) == []


def test_new_version_replaces_the_manifest(mapfs_bin, inputs, tmp_path):
    schema, data = inputs
    ds = tmp_path / "ds"
    build(mapfs_bin, schema, data, ds, "--key", "name", "--shards", "2")
    old = manifest(ds)
    data.write_text("".join(json.dumps(dict(r, v=-r["v"])) + "\n" for r in records()))
    build(mapfs_bin, schema, data, ds, "--key", "name", "--shards", "2")
    new = manifest(ds)
    assert {s["file"] for s in old["shards"]}.isdisjoint(s["file"] for s in new["shards"])
    assert json.loads(run(mapfs_bin, "get", str(ds), "item-5").stdout)["v"] == -55


def test_the_first_bad_line_of_a_large_input_is_reported(mapfs_bin, inputs, tmp_path):
    # Batches are parsed in parallel: the error is still the first in input order.
    schema, _ = inputs
    lines = [json.dumps({"id": i, "name": f"n{i}", "group": "g", "pair": ["p", 1], "v": i})
             for i in range(5000)]
    lines[1700] = '{"id": 1, "name": "bad", "v": "x"}'
    lines[4100] = '{"id": 2, "name": "worse", "v": "y"}'
    data = tmp_path / "big.jsonl"
    data.write_text("\n".join(lines) + "\n")
    ds = tmp_path / "ds"
    for opts in (["--key", "name"], []):
        p = build(mapfs_bin, schema, data, ds, *opts, "--shards", "3", check=False)
        assert p.returncode == 2
        assert "big.jsonl:1701" in p.stderr, p.stderr
        assert os.listdir(ds) == []
