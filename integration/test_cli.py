"""The segment commands end to end: mapfs build, get, inspect and verify on
the bundled sample and on bad input (docs/building.md)."""
import json
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA = os.path.join(ROOT, "sample", "schema.yaml")
PEOPLE = os.path.join(ROOT, "sample", "people.jsonl")


def run(mapfs_bin, *args):
    return subprocess.run([mapfs_bin, *args], capture_output=True, text=True, timeout=60)


def build(mapfs_bin, out, *extra, input_path=PEOPLE):
    return run(mapfs_bin, "build", "--schema", SCHEMA, "--type", "Person",
               "--input", input_path, "--output", out, *extra)


@pytest.fixture
def by_name(mapfs_bin, tmp_path):
    out = str(tmp_path / "people.mapfs")
    r = build(mapfs_bin, out, "--key", "name")
    assert r.returncode == 0, r.stderr
    return out


def test_get_prints_the_record_as_one_json_line(mapfs_bin, by_name):
    r = run(mapfs_bin, "get", by_name, "Ada Lovelace")
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith("\n") and r.stdout.count("\n") == 1
    rec = json.loads(r.stdout)
    assert rec["id"] == 1 and rec["age"] == 36
    assert rec["balance"] == "1234.50"          # exact decimal text
    assert rec["seen"] == "2024-05-06T07:08:09.123456Z"  # offset converted to UTC
    assert rec["tags"] == [1, 2, 3]             # frozenset sorted
    assert rec["photo"] == "iVBORw0KGgo="       # bytes as base64


def test_get_field_and_unicode_key(mapfs_bin, by_name):
    r = run(mapfs_bin, "get", by_name, "Émilie du Châtelet", "aliases")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == ["Émilie"]


def test_get_missing_key_fails(mapfs_bin, by_name):
    r = run(mapfs_bin, "get", by_name, "Nobody")
    assert r.returncode != 0
    assert r.stdout == ""
    assert "Nobody" in r.stderr


def test_array_is_indexed_in_input_order(mapfs_bin, tmp_path):
    out = str(tmp_path / "people_array.mapfs")
    assert build(mapfs_bin, out).returncode == 0
    with open(PEOPLE) as f:
        lines = [json.loads(l) for l in f if l.strip()]
    for i, line in enumerate(lines):
        r = run(mapfs_bin, "get", out, str(i), "name")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == line["name"]
    assert run(mapfs_bin, "get", out, str(len(lines))).returncode != 0


def test_multimap_prints_every_record_in_input_order(mapfs_bin, tmp_path):
    src = tmp_path / "active.jsonl"
    src.write_text("".join(json.dumps({"id": i, "name": n}) + "\n"
                           for i, n in enumerate(["a", "b", "a", "a"])))
    out = str(tmp_path / "multi.mapfs")
    r = build(mapfs_bin, out, "--key", "name", "--multi", input_path=str(src))
    assert r.returncode == 0, r.stderr
    got = json.loads(run(mapfs_bin, "get", out, "a").stdout)
    assert [rec["id"] for rec in got] == [0, 2, 3]


def test_inspect_and_verify(mapfs_bin, by_name):
    r = run(mapfs_bin, "inspect", by_name)
    assert r.returncode == 0, r.stderr
    assert "mapping" in r.stdout and "Person" in r.stdout
    r = run(mapfs_bin, "verify", by_name)
    assert r.returncode == 0, r.stderr


def test_verify_finds_a_flipped_byte(mapfs_bin, by_name, tmp_path):
    data = bytearray(open(by_name, "rb").read())
    data[len(data) // 2] ^= 0xFF
    bad = tmp_path / "bad.mapfs"
    bad.write_bytes(bytes(data))
    r = run(mapfs_bin, "verify", str(bad))
    assert r.returncode != 0
    assert "bad.mapfs" in r.stderr


def test_bad_input_names_file_line_and_field_and_writes_nothing(mapfs_bin, tmp_path):
    src = tmp_path / "bad.jsonl"
    src.write_text('{"id": 1, "name": "x", "age": 3}\n{"id": 2, "name": "y", "age": "abc"}\n')
    out = tmp_path / "bad.mapfs"
    r = build(mapfs_bin, str(out), input_path=str(src))
    assert r.returncode != 0
    assert f"{src}:2:" in r.stderr and 'field "age"' in r.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.jsonl"]  # no temp file left


def test_duplicate_key_without_multi_is_an_error(mapfs_bin, tmp_path):
    src = tmp_path / "dup.jsonl"
    src.write_text('{"id": 1, "name": "a"}\n{"id": 2, "name": "a"}\n')
    out = tmp_path / "dup.mapfs"
    r = build(mapfs_bin, str(out), "--key", "name", input_path=str(src))
    assert r.returncode != 0
    assert '"a"' in r.stderr
    assert not out.exists()


def test_get_negative_index_counts_from_the_end(mapfs_bin, tmp_path):
    out = str(tmp_path / "people_array.mapfs")
    assert build(mapfs_bin, out).returncode == 0
    with open(PEOPLE) as f:
        names = [json.loads(l)["name"] for l in f if l.strip()]
    r = run(mapfs_bin, "get", out, "-1", "name")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == names[-1]
    r = run(mapfs_bin, "get", out, str(-len(names)), "name")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == names[0]
    r = run(mapfs_bin, "get", out, str(-len(names) - 1))
    assert r.returncode != 0 and r.stdout == ""


def test_get_generic_key_as_json(mapfs_bin, tmp_path):
    src = tmp_path / "pairs.jsonl"
    src.write_text("".join(json.dumps({"id": i, "name": "n%d" % i, "pair": ["k%d" % i, 40 + i]})
                           + "\n" for i in range(5)))
    out = str(tmp_path / "by_pair.mapfs")
    r = build(mapfs_bin, out, "--key", "pair", input_path=str(src))
    assert r.returncode == 0, r.stderr
    r = run(mapfs_bin, "get", out, '["k2", 42]', "id")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == 2
    assert run(mapfs_bin, "get", out, '["k2", 43]').returncode != 0
    r = run(mapfs_bin, "get", out, "x")
    assert r.returncode != 0 and r.stdout == ""
    assert "key 'x': expected a JSON value of type tuple<str, int64>" in r.stderr
