"""Values of every kind and edge, read through views and compared with the
CLI's JSON (docs/python.md, "Values")."""
import datetime
import decimal
import json
import math

import numpy as np
import pytest

import mapfs
from read_util import build_segment, cli_get

SCHEMA = """
structs:
  P:
    typecode: P
    fields: {x: int32, y: str}
  V:
    fields:
      k: str
      u64: uint64
      i64: int64
      i8: int8
      f32: float32
      when: datetime
      day: date
      dec: decimal
      by_int: "dict<int32, str>"
      by_date: "dict<date, int64>"
      names: "frozenset<str>"
      pairs: "frozenset<tuple<str, int32>>"
      days: "frozenset<date>"
      points: "list<P>"
      cube: "ndarray<int16>"
      flags: ndarray
      any: object
      anys: "list<object>"
      nested: "dict<str, list<dict<str, int32>>>"
      t: tuple
"""

RECORDS = [
    {"k": "a", "u64": 18446744073709551615, "i64": -9223372036854775808, "i8": -128,
     "f32": 0.1, "when": "1900-02-28T23:59:59.999999Z", "day": "0001-01-01",
     "dec": "NaN", "by_int": {"-5": "minus five", "7": "seven"},
     "by_date": {"2020-02-29": 1, "1999-12-31": 2}, "names": ["b", "a", "ü"],
     "pairs": [["x", 1], ["x", -1], ["a", 5]], "days": ["2000-01-01", "1970-01-01"],
     "points": [{"x": 1, "y": "one"}, {"x": 2}], "cube": [[[1, 2], [3, 4]], [[5, 6], [7, -8]]],
     "flags": [True, False, True], "any": {"x": [1, 2.5, "s", None, True]},
     "anys": [1, "two", [3], {"four": 4}, None, -1.5],
     "nested": {"a": [{"x": 1}, {}], "b": []}, "t": [1, "x", None]},
    {"k": "b", "u64": 0, "i64": 0, "i8": 0, "f32": -0.0, "when": "2262-04-11T23:47:16Z",
     "day": "9999-12-31", "dec": "-Infinity", "by_int": {}, "by_date": {}, "names": [],
     "pairs": [], "days": [], "points": [], "cube": [], "flags": [], "any": None,
     "anys": [], "nested": {}, "t": []},
    {"k": "c", "dec": "0.000001000", "f32": "Infinity", "any": 12345678901234567890},
]


@pytest.fixture(scope="module")
def seg(tmp_path_factory):
    path = build_segment(tmp_path_factory.mktemp("values"), SCHEMA, "V", RECORDS, key="k")
    return path, mapfs.open(path)


@pytest.mark.parametrize("key", ["a", "b", "c"])
def test_json_matches_the_cli(seg, key):
    path, s = seg
    assert s[key].to_json() == cli_get(path, key)


def test_scalars_at_their_limits(seg):
    _, s = seg
    a, b, c = s["a"], s["b"], s["c"]
    assert a.u64 == 2**64 - 1 and a.i64 == -2**63 and a.i8 == -128
    assert a.f32 == float(np.float32(0.1))
    assert math.copysign(1, b.f32) == -1 and c.f32 == math.inf
    assert a.when == datetime.datetime(1900, 2, 28, 23, 59, 59, 999999,
                                       tzinfo=datetime.timezone.utc)
    assert b.when == datetime.datetime(2262, 4, 11, 23, 47, 16, tzinfo=datetime.timezone.utc)
    assert a.day == datetime.date(1, 1, 1) and b.day == datetime.date(9999, 12, 31)
    assert a.dec.is_nan() and b.dec == decimal.Decimal("-Infinity")
    assert str(c.dec) == "0.000001000"
    assert c.by_int is None and c.any == 12345678901234567890


def test_dict_views_with_typed_keys(seg):
    _, s = seg
    a = s["a"]
    assert a.by_int[-5] == "minus five" and a.by_int[7] == "seven"
    assert -5 in a.by_int and 6 not in a.by_int and "7" not in a.by_int
    assert a.by_int.get(2**40) is None  # out of int32: absent, not an error
    assert a.by_int.keys() == [-5, 7]
    d = datetime.date
    assert a.by_date[d(2020, 2, 29)] == 1
    assert d(2020, 3, 1) not in a.by_date and "2020-02-29" not in a.by_date
    assert a.by_date == {d(1999, 12, 31): 2, d(2020, 2, 29): 1}
    assert a.nested["a"][0]["x"] == 1 and a.nested["a"][1] == {}
    assert a.nested.to_python() == {"a": [{"x": 1}, {}], "b": []}
    assert s["b"].by_int == {} and len(s["b"].by_int) == 0


def test_set_views_with_typed_elements(seg):
    _, s = seg
    a = s["a"]
    assert "ü" in a.names and "c" not in a.names and 1 not in a.names
    assert list(a.names) == ["a", "b", "ü"]
    assert a.names == {"a", "b", "ü"}
    assert ("x", -1) in a.pairs and ["x", 1] in a.pairs and ("x", 2) not in a.pairs
    assert a.pairs == frozenset({("x", 1), ("x", -1), ("a", 5)})
    assert set(a.pairs) == {("x", 1), ("x", -1), ("a", 5)}  # elements come out hashable
    assert list(a.pairs) == sorted(a.pairs)
    assert datetime.date(1970, 1, 1) in a.days and datetime.date(1970, 1, 2) not in a.days
    assert s["b"].names == frozenset() and "a" not in s["b"].names


def test_structs_ndarrays_and_objects(seg):
    _, s = seg
    a = s["a"]
    assert a.points[0].y == "one" and a.points[1].y is None
    assert a.points == [{"x": 1, "y": "one"}, {"x": 2, "y": None}]
    cube = a.cube
    assert cube.shape == (2, 2, 2) and cube.dtype == np.int16 and cube[1, 1, 1] == -8
    assert not cube.flags.writeable
    assert a.flags.dtype == np.bool_ and a.flags.tolist() == [True, False, True]
    assert s["b"].cube.shape == (0,)
    assert a.any == {"x": [1, 2.5, "s", None, True]}
    assert a.anys[3]["four"] == 4 and a.anys[4] is None and a.anys[-1] == -1.5
    assert a.t == (1, "x", None)
    assert s["b"].any is None
    plain = a.to_python()
    assert plain["pairs"] == frozenset({("x", 1), ("x", -1), ("a", 5)})
    assert plain["points"][0] == {"x": 1, "y": "one"}
    assert isinstance(plain["cube"], np.ndarray) and plain["cube"].flags.owndata
    assert json.loads(a.to_json())["cube"] == cube.tolist()
