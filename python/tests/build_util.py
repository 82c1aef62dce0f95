"""Helpers of the build tests: the CLI binary, a schema with every type, records
of it written as JSONL, and JSONL values turned into the Python values the
reading side returns (date strings -> date, base64 -> bytes, ...)."""
import base64
import datetime
import decimal
import json
import math
import os
import pathlib
import random
import subprocess

import numpy as np

from mapfs_testlib import build_command

REPO = pathlib.Path(__file__).resolve().parents[2]


def mapfs_bin():
    path = os.environ.get("MAPFS_BIN") or str(REPO / "build" / "cli" / "mapfs")
    if not os.access(path, os.X_OK):
        import pytest
        pytest.skip(f"the mapfs CLI is not built ({path}); set MAPFS_BIN")
    return path


def cli_build(schema_path, type_name, jsonl_path, out_path, key=None, multi=False, approx=False):
    subprocess.run(build_command(mapfs_bin(), schema_path, jsonl_path, type_name, out_path,
                                 key=key, multi=multi, approx=approx),
                   check=True, capture_output=True, timeout=300)
    return pathlib.Path(out_path).read_bytes()


def every_type_inputs(directory, count, seed=7):
    """Writes the every-type schema and `count` records as JSONL into
    `directory`; returns (schema path, JSONL path, Schema, Python records)."""
    import mapfs
    schema_path = directory / "schema.yaml"
    schema_path.write_text(EVERY_TYPE_YAML)
    jsonl = directory / "recs.jsonl"
    write_jsonl(jsonl, every_type_jsonl_records(count, seed=seed))
    schema = mapfs.Schema.load(schema_path)
    return schema_path, jsonl, schema, jsonl_to_python(load_jsonl(jsonl), schema, "Rec")


# A schema with one field of every type and container shape.
EVERY_TYPE_YAML = """\
structs:
  Point:
    typecode: P
    fields: {x: float64, y: float64}
  Rec:
    fields:
      id: uint64
      name: str
      group: str
      i8: int8
      i16: int16
      i32: int32
      i64: int64
      u8: uint8
      u16: uint16
      u32: uint32
      f32: float32
      f64: float64
      flag: bool
      raw: bytes
      day: date
      at: datetime
      amount: decimal
      iset: frozenset<int64>
      sset: frozenset<str>
      names: list<str>
      nums: list<int16>
      pair: tuple<str, int64>
      gkey: tuple<str, int64>
      m: dict<str, object>
      im: dict<int64, str>
      dm: dict<date, float64>
      home: Point
      pts: list<Point>
      arr: ndarray<float32>
      iarr: ndarray<int16>
      anyarr: ndarray
      extra: object
      bare: tuple
      blist: list
      bset: frozenset
      bdict: dict
"""


def every_type_jsonl_records(n, seed=7):
    """`n` JSON-ready records of Rec, varied, some fields missing or null."""
    rnd = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "Émilie", "日本", "x" * 40, ""]
    out = []
    for i in range(n):
        r = {
            "id": i * 7919 + (2**63 if i % 50 == 3 else 0),
            "name": f"name-{i:05d}-{rnd.choice(words)}",
            "group": f"g{i % 13}",
            "i8": rnd.randint(-128, 127),
            "i16": rnd.randint(-2**15, 2**15 - 1),
            "i32": rnd.randint(-2**31, 2**31 - 1),
            "i64": rnd.choice([-2**63, 2**63 - 1, 0, rnd.randint(-10**12, 10**12)]),
            "u8": rnd.randint(0, 255),
            "u16": rnd.randint(0, 2**16 - 1),
            "u32": rnd.randint(0, 2**32 - 1),
            "f32": rnd.choice([0.5, -1.25, 3.0, 1e-3, 65504.0, "NaN", "-Infinity", 7]),
            "f64": rnd.choice([0.1, -0.0, 1e300, 2.5e-310, "Infinity", 42, rnd.random()]),
            "flag": rnd.random() < 0.5,
            "raw": base64.b64encode(bytes(rnd.randrange(256) for _ in range(rnd.randint(0, 20)))).decode(),
            "day": (datetime.date(1, 1, 1) + datetime.timedelta(days=rnd.randint(0, 3_000_000))).isoformat(),
            "at": rnd.choice(["2024-05-06T09:08:09.123456+02:00", "1970-01-01T00:00:00Z",
                              "2000-02-29T23:59:59", "1815-12-10T10:00:00-05:30",
                              "9999-12-31T23:59:59.999999"]),
            "amount": rnd.choice(["1234.50", "-1E+3", "0", "-0", "3.14159265358979323846264338327950288",
                                  "1E-30", "Infinity", "NaN", 0.1, 17, "-0.000"]),
            "iset": rnd.sample(range(-50, 500), rnd.randint(0, 12)),
            "sset": rnd.sample(words, rnd.randint(0, 4)),
            "names": [rnd.choice(words) for _ in range(rnd.randint(0, 4))],
            "nums": [rnd.randint(-2**15, 2**15 - 1) for _ in range(rnd.randint(0, 5))],
            "pair": [rnd.choice(words), rnd.randint(-5, 5)],
            "gkey": [f"k{i % 97}", i],
            "m": {"a": 1, "b": [1.5, "two", None, True, {"c": -3}], "big": 2**64 - 1},
            "im": {str(rnd.randint(-10**6, 10**6)): rnd.choice(words) for _ in range(rnd.randint(0, 4))},
            "dm": {"2024-01-0%d" % rnd.randint(1, 9): rnd.random() for _ in range(rnd.randint(0, 3))},
            "home": {"x": rnd.random(), "y": -rnd.random()},
            "pts": [{"x": float(j), "y": j * 0.5} for j in range(rnd.randint(0, 3))],
            "arr": rnd.choice([[[0.5, 1.0], [-2.0, 3.25]], [], [[], []], 1.5, [1, 2, 3]]),
            "iarr": rnd.choice([[[1, -2, 3]], [[[7]]], [], [32767, -32768]]),
            "anyarr": rnd.choice([[1, 2, 3], [[1.5, 2], [3, 4]], [True, False], [2**63, 1], [], 5]),
            "extra": rnd.choice([42, "Amazing Grace", [1.5, "two", True, None, {"three": 3}],
                                 {"notes": ["analytical engine", None]}, -2**63, 2**64 - 1, 0.25,
                                 False, []]),
            "bare": [1, "a", None, [2.5]],
            "blist": [{"k": [1, 2]}, "s", 3],
            "bset": [3, 1, "a", 2.5, False],
            "bdict": {"z": 1, "a": [None]},
        }
        # Some fields missing, some null: both are absent.
        for f in rnd.sample(sorted(r), rnd.randint(0, 6)):
            if f in ("id", "name", "group", "gkey", "i8"):
                continue
            if rnd.random() < 0.5:
                del r[f]
            else:
                r[f] = None
        out.append(r)
    return out


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


class FloatText(float):
    """A JSON number that remembers its text (decimal fields keep it exactly)."""

    def __new__(cls, text):
        obj = super().__new__(cls, text)
        obj.text = text
        return obj


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line, parse_float=FloatText) for line in f if line.strip()]


# Type text -> a parsed tree: (name, [params]).
def parse_type(text):
    text = text.replace(" ", "")
    pos = 0

    def parse():
        nonlocal pos
        start = pos
        while pos < len(text) and text[pos] not in "<>,":
            pos += 1
        name = text[start:pos]
        params = []
        if pos < len(text) and text[pos] == "<":
            pos += 1
            params.append(parse())
            while text[pos] == ",":
                pos += 1
                params.append(parse())
            assert text[pos] == ">"
            pos += 1
        return (name, params)

    return parse()


FLOAT_WORDS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
INT_KINDS = {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}


def plain(v):
    """A JSON value with FloatText made plain floats (for `object`)."""
    if isinstance(v, FloatText):
        return float(v)
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    return v


def to_python(v, t, schema):
    """A JSONL value of type `t` as the Python value the reading side returns."""
    if v is None:
        return None
    name, params = t
    if name in INT_KINDS:
        return v
    if name in ("float32", "float64"):
        return FLOAT_WORDS[v] if isinstance(v, str) else float(v)
    if name in ("bool", "str"):
        return v
    if name == "bytes":
        return base64.b64decode(v)
    if name == "date":
        return datetime.date.fromisoformat(v)
    if name == "datetime":
        d = datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
        return d
    if name == "decimal":
        return decimal.Decimal(v.text if isinstance(v, FloatText) else str(v))
    if name == "object":
        return plain(v)
    if name == "list":
        et = params[0] if params else ("object", [])
        return [to_python(x, et, schema) for x in v]
    if name == "frozenset":
        et = params[0] if params else ("object", [])
        items = [to_python(x, et, schema) for x in v]
        try:
            return frozenset(items)
        except TypeError:  # unhashable elements: any iterable will do
            return items
    if name == "tuple":
        if not params:
            return tuple(plain(x) for x in v)
        return tuple(to_python(x, p, schema) for x, p in zip(v, params))
    if name == "dict":
        kt, vt = params if params else (("object", []), ("object", []))
        out = {}
        for k, x in v.items():
            key = k if kt[0] in ("str", "object") else to_python(
                int(k) if kt[0] in INT_KINDS else k, kt, schema)
            out[key] = to_python(x, vt, schema)
        return out
    if name == "ndarray":
        if params:
            def fix(x):
                if isinstance(x, list):
                    return [fix(y) for y in x]
                return FLOAT_WORDS[x] if isinstance(x, str) else x
            return np.array(fix(v), dtype=params[0][0])
        return plain(v)  # nested lists: the dtype is inferred as from JSONL
    # A struct.
    return {f: to_python(v.get(f), parse_type(ft), schema)
            for f, ft in schema.fields(name) if f in v}


def jsonl_to_python(records, schema, type_name):
    fields = [(f, parse_type(t)) for f, t in schema.fields(type_name)]
    out = []
    for r in records:
        out.append({f: to_python(r[f], t, schema) for f, t in fields if f in r})
    return out
