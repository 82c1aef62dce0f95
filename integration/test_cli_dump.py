"""`-` as standard input and output, and `mapfs dump`: every record as JSONL
that `mapfs build` takes back to the same bytes (docs/cli.md)."""
import base64
import json
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE_SCHEMA = os.path.join(ROOT, "sample", "schema.yaml")
PEOPLE = os.path.join(ROOT, "sample", "people.jsonl")

EVERY_SCHEMA = """\
structs:
  Point:
    typecode: P
    fields: {x: float64, y: float64}
  Every:
    fields:
      id: uint64
      name: str
      group: str
      i8: int8
      u16: uint16
      f32: float32
      f64: float64
      flag: bool
      raw: bytes
      day: date
      when: datetime
      amount: decimal
      ints: frozenset<int64>
      strs: frozenset<str>
      words: list<str>
      anys: list
      pair: tuple<str, int64>
      by_int: dict<int64, str>
      by_day: dict<date, float64>
      by_flt: dict<float64, bool>
      attrs: dict<str, object>
      home: Point
      arr: ndarray
      mat: ndarray<float32>
      bits: ndarray<bool>
      extra: object
"""

FLOATS = [0.0, -0.0, 1.0, 0.1, 1e300, 5e-324, -2.5, "NaN", "Infinity", "-Infinity", 123456789.125]
STRINGS = ["", "a", "Ada Lovelace", "quote \" and \\ backslash", "line\nbreak\ttab",
           "sep\u2028para\u2029", "\u00e9mile \u4e2d\u6587 \U0001f600", "\x01\x1f ctl", "NaN"]
DECIMALS = ["0.1", 0.1, "1.50", "-1E+3", "3.14159265358979323846264338327950288", "0", "-0.00",
            "1e-30", 42]
OBJECTS = [None, 0, -1, 2**63, 2**64 - 1, 1.0, -0.0, 1e-7, "s", True, False, [], {},
           [1, "two", [3.5, None], {"k": [True]}], {"nested": {"deep": [1, {"x": None}]}}]


def every_records(n=40):
    out = []
    for i in range(n):
        r = {
            "id": i * 7919 % 1000003,
            "name": f"{STRINGS[i % len(STRINGS)]} #{i}",
            "group": f"g{i % 5}",
            "i8": [-128, 127, 0, -1][i % 4],
            "u16": i * 1000 % 65536,
            "f32": [0.1, -3.4028234663852886e38, 1.5, "NaN", 1e-45][i % 5],
            "f64": FLOATS[i % len(FLOATS)],
            "flag": i % 3 == 0,
            "raw": base64.b64encode(bytes(range(i % 7 * 3))).decode(),
            "day": f"{1 + i * 97 % 9999:04d}-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "when": ["2024-05-06T09:08:09.123456+02:00", "1970-01-01T00:00:00Z",
                     "2000-02-29T23:59:59.5", "1900-01-01T00:00:00-05:30"][i % 4],
            "amount": DECIMALS[i % len(DECIMALS)],
            "ints": list(range(i % 4, i % 4 + (i % 6) * 10)) if i % 2 else [-5, 10**15, 3],
            "strs": ["b", "a", STRINGS[i % len(STRINGS)]],
            "words": STRINGS[: i % len(STRINGS)],
            "anys": OBJECTS[: i % len(OBJECTS)],
            "pair": [f"p{i}", -i],
            "by_int": {str(-i): "neg", str(i * 1000): "pos"},
            "by_day": {"2024-01-02": 1.5, "1999-12-31": FLOATS[i % len(FLOATS)]},
            "by_flt": {"NaN": True, "-0.0": False, "2.5": True} if i % 2 else {},
            "attrs": {"o": OBJECTS[i % len(OBJECTS)], "n": i},
            "home": {"x": FLOATS[i % len(FLOATS)], "y": 1.25},
            "arr": [[[1, 2], [3, 4]], [[1.5, 2.0]], [True, False], [2**64 - 1, 1], [], [[], []],
                    7, 2.5, [[[[]]]]][i % 9],
            "mat": [[0.5, 1.0, -2.0], [3.25, "NaN", 0.1]] if i % 2 else [],
            "bits": [[True, False], [False, True]],
            "extra": OBJECTS[(i * 5) % len(OBJECTS)],
        }
        for j, field in enumerate(["raw", "when", "amount", "home", "mat", "extra"]):
            if (i + j) % 11 == 0:
                del r[field]
            elif (i + j) % 13 == 0:
                r[field] = None
        out.append(json.dumps(r, ensure_ascii=i % 2 == 0))
    return out


def run(mapfs_bin, *args, **kw):
    kw.setdefault("capture_output", True)
    return subprocess.run([mapfs_bin, *map(str, args)], timeout=120, **kw)


def build(mapfs_bin, schema, type_name, input_path, out, *opts, **kw):
    r = run(mapfs_bin, "build", "--schema", schema, "--type", type_name, "--input", input_path,
            "--output", out, *opts, **kw)
    assert r.returncode == 0, r.stderr
    return r


def dump(mapfs_bin, seg, *opts):
    r = run(mapfs_bin, "dump", seg, *opts)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture(scope="module")
def every(tmp_path_factory):
    d = tmp_path_factory.mktemp("every")
    (d / "every.yaml").write_text(EVERY_SCHEMA)
    (d / "every.jsonl").write_text("\n".join(every_records()) + "\n")
    return d


KINDS = {
    "array": [],
    "str mapping": ["--key", "name"],
    "uint mapping": ["--key", "id"],
    "generic mapping": ["--key", "day"],
    "str multimap": ["--key", "group", "--multi"],
    "generic multimap": ["--key", "flag", "--multi"],
    "approximate multimap": ["--key", "group", "--approx"],
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_dump_then_build_gives_the_same_bytes(mapfs_bin, every, tmp_path, kind):
    schema = every / "every.yaml"
    first = tmp_path / "first.mapfs"
    build(mapfs_bin, schema, "Every", every / "every.jsonl", first, *KINDS[kind])
    text = dump(mapfs_bin, first)
    # Lines end only at \n (U+2028 in a string is data).
    assert text.endswith(b"\n")
    lines = text[:-1].split(b"\n")
    assert len(lines) == 40
    # Records in input order whatever the kind, each one JSON object.
    assert [json.loads(l)["id"] for l in lines] == [i * 7919 % 1000003 for i in range(40)]
    (tmp_path / "dump.jsonl").write_bytes(text)
    second = tmp_path / "second.mapfs"
    build(mapfs_bin, schema, "Every", tmp_path / "dump.jsonl", second, *KINDS[kind])
    assert second.read_bytes() == first.read_bytes()
    assert dump(mapfs_bin, second) == text


@pytest.mark.parametrize("opts", [[], ["--key", "name"], ["--key", "active", "--multi"]])
def test_the_sample_round_trips(mapfs_bin, tmp_path, opts):
    first = tmp_path / "first.mapfs"
    build(mapfs_bin, SAMPLE_SCHEMA, "Person", PEOPLE, first, *opts)
    text = dump(mapfs_bin, first)
    assert json.loads(text.split(b"\n")[0])["name"] == "Ada Lovelace"
    second = tmp_path / "second.mapfs"
    # The dump read from standard input, as in `mapfs dump A | mapfs build --input - ...`.
    build(mapfs_bin, SAMPLE_SCHEMA, "Person", "-", second, *opts, input=text)
    assert second.read_bytes() == first.read_bytes()


def test_dump_writes_the_schema_a_rebuild_needs(mapfs_bin, every, tmp_path):
    first = tmp_path / "first.mapfs"
    build(mapfs_bin, every / "every.yaml", "Every", every / "every.jsonl", first, "--key", "name")
    r = run(mapfs_bin, "dump", first, "--schema", tmp_path / "s.yaml", "-o", tmp_path / "d.jsonl")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b""
    second = tmp_path / "second.mapfs"
    build(mapfs_bin, tmp_path / "s.yaml", "Every", tmp_path / "d.jsonl", second, "--key", "name")
    assert second.read_bytes() == first.read_bytes()


def test_dump_output_dash_and_file_are_the_same(mapfs_bin, tmp_path):
    seg = tmp_path / "p.mapfs"
    build(mapfs_bin, SAMPLE_SCHEMA, "Person", PEOPLE, seg)
    out = tmp_path / "out.jsonl"
    assert run(mapfs_bin, "dump", seg, "--output", out).returncode == 0
    assert out.read_bytes() == dump(mapfs_bin, seg, "--output", "-") == dump(mapfs_bin, seg)
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []


def test_dump_of_a_bad_file_names_it_and_writes_nothing(mapfs_bin, tmp_path):
    bad = tmp_path / "bad.mapfs"
    bad.write_text("hello\n")
    r = run(mapfs_bin, "dump", bad, "-o", tmp_path / "out.jsonl", text=True)
    assert r.returncode == 2
    assert r.stderr == f"mapfs: {bad}: not a mapfs segment (no magic)\n"
    assert not (tmp_path / "out.jsonl").exists()


def test_build_input_dash_is_standard_input(mapfs_bin, tmp_path):
    from_file = tmp_path / "file.mapfs"
    from_stdin = tmp_path / "stdin.mapfs"
    build(mapfs_bin, SAMPLE_SCHEMA, "Person", PEOPLE, from_file, "--key", "name")
    with open(PEOPLE, "rb") as f:
        build(mapfs_bin, SAMPLE_SCHEMA, "Person", "-", from_stdin, "--key", "name", stdin=f)
    assert from_stdin.read_bytes() == from_file.read_bytes()


def test_standard_input_errors_name_stdin_and_the_line(mapfs_bin, tmp_path):
    r = run(mapfs_bin, "build", "--schema", SAMPLE_SCHEMA, "--type", "Person", "--input", "-",
            "--output", tmp_path / "o.mapfs", input='{"id": 1}\n\n{"age": "old"}\n', text=True)
    assert r.returncode == 2
    assert r.stderr == ('mapfs: <stdin>:3: field "age": expected int32, got "old"\n'), r.stderr
    assert list(tmp_path.iterdir()) == []
