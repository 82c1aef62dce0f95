"""mapfs.build from Python: the same bytes as `mapfs build` from JSONL for every
type and every collection kind, errors naming the record and field, no output
left behind on any error, and bounded memory."""
import datetime
import decimal
import os
import resource
import subprocess

import numpy as np
import pytest

import mapfs

from build_util import (REPO, EVERY_TYPE_YAML, cli_build, every_type_inputs,
                        every_type_jsonl_records, jsonl_to_python, load_jsonl, mapfs_bin,
                        write_jsonl)


@pytest.fixture(scope="module")
def every(tmp_path_factory):
    """The every-type schema and 300 records, as JSONL and as Python values."""
    d = tmp_path_factory.mktemp("every")
    schema_path, jsonl, schema, recs = every_type_inputs(d, 300)
    return d, schema_path, schema, jsonl, recs


KINDS = [
    pytest.param({}, id="array"),
    pytest.param({"key": "name"}, id="str-mapping"),
    pytest.param({"key": "id"}, id="uint-mapping"),
    pytest.param({"key": "gkey"}, id="generic-mapping"),
    pytest.param({"key": "group", "multi": True}, id="multimap"),
    pytest.param({"key": "group", "approx": True}, id="approx"),
    pytest.param({"key": "i8", "multi": True}, id="generic-multimap"),
]


@pytest.mark.parametrize("kind", KINDS)
def test_every_type_same_bytes_as_cli(every, tmp_path, kind):
    d, schema_path, schema, jsonl, recs = every
    want = cli_build(schema_path, "Rec", jsonl, tmp_path / "cli.mapfs", **kind)
    n = mapfs.build(tmp_path / "py.mapfs", recs, schema=schema, type="Rec", **kind)
    assert n == len(recs)
    got = (tmp_path / "py.mapfs").read_bytes()
    assert got == want


def test_sample_same_bytes_as_cli(tmp_path):
    schema_path = REPO / "sample" / "schema.yaml"
    jsonl = REPO / "sample" / "people.jsonl"
    schema = mapfs.Schema.load(schema_path)
    recs = jsonl_to_python(load_jsonl(jsonl), schema, "Person")
    # The typed values really are the Python types of the reading side.
    assert isinstance(recs[0]["born"], datetime.date)
    assert isinstance(recs[0]["seen"], datetime.datetime)
    assert isinstance(recs[0]["balance"], decimal.Decimal)
    assert isinstance(recs[0]["photo"], bytes)
    assert isinstance(recs[0]["embedding"], np.ndarray)
    for kind in ({}, {"key": "name"}, {"key": "id"}):
        want = cli_build(schema_path, "Person", jsonl, tmp_path / "cli.mapfs", **kind)
        # The schema may also be given as a path.
        mapfs.build(str(tmp_path / "py.mapfs"), iter(recs), schema=str(schema_path),
                    type="Person", **kind)
        assert (tmp_path / "py.mapfs").read_bytes() == want, kind


class Obj:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def test_objects_with_attributes_and_other_python_forms(every, tmp_path):
    """Attributes, tuples for lists, sets, bytearray/memoryview, numpy arrays of
    another dtype: all give the bytes of the plain form."""
    d, schema_path, schema, jsonl, recs = every
    want = cli_build(schema_path, "Rec", jsonl, tmp_path / "cli.mapfs", key="name")

    def variant(r):
        r = dict(r)
        if r.get("raw") is not None:
            r["raw"] = bytearray(r["raw"]) if r["id"] % 2 else memoryview(r["raw"])
        if r.get("names") is not None:
            r["names"] = tuple(r["names"])
        if r.get("iset") is not None:
            r["iset"] = set(r["iset"])
        if isinstance(r.get("iarr"), np.ndarray):
            r["iarr"] = r["iarr"].astype(np.int64)  # converted element by element
        if isinstance(r.get("anyarr"), list) and r["anyarr"] \
                and all(type(x) is int and -2**63 <= x < 2**63 for x in r["anyarr"]):
            r["anyarr"] = np.array(r["anyarr"], dtype=np.int64)
        if r.get("home") is not None:
            r["home"] = Obj(**r["home"])
        if r.get("u32") is not None:
            r["u32"] = np.uint32(r["u32"])
        return Obj(**r)

    mapfs.build(tmp_path / "py.mapfs", (variant(r) for r in recs), schema=schema, type="Rec",
                key="name")
    assert (tmp_path / "py.mapfs").read_bytes() == want


def test_aware_datetimes_are_converted_to_utc(tmp_path):
    schema = mapfs.Schema.from_yaml("structs:\n  T:\n    fields: {at: datetime, n: int}\n")
    tz = datetime.timezone(datetime.timedelta(hours=2))
    a = mapfs.pack(schema, "T", {"at": datetime.datetime(2024, 5, 6, 11, 8, 9, 5, tzinfo=tz)})
    b = mapfs.pack(schema, "T", {"at": datetime.datetime(2024, 5, 6, 9, 8, 9, 5)})
    c = mapfs.pack(schema, "T", {"at": "2024-05-06T09:08:09.000005Z"})
    assert a == b == c


def _schema():
    return mapfs.Schema.from_yaml(
        "structs:\n  P:\n    typecode: P\n    fields: {x: float64}\n"
        "  T:\n    fields:\n      name: str\n      age: int32\n      tags: list<int8>\n"
        "      home: P\n      m: dict<str, int64>\n      when: date\n      extra: object\n"
        "      k: tuple<str, int64>\n")


@pytest.mark.parametrize("bad, exc, msg", [
    ({"age": "abc"}, TypeError, "record 2: field \"age\": expected int32, got str 'abc'"),
    ({"age": 2**31}, ValueError, "record 2: field \"age\": value 2147483648 out of range for int32"),
    ({"age": True}, TypeError, "record 2: field \"age\": expected int32, got bool True"),
    ({"tags": [1, 2, 300]}, ValueError, "record 2: field \"tags[2]\": value 300 out of range for int8"),
    ({"tags": [1, None]}, TypeError, "record 2: field \"tags[1]\": expected int8, got None"),
    ({"home": {"x": "1"}}, TypeError, "record 2: field \"home.x\": expected float64, got str '1'"),
    ({"m": {"a": 1.5}}, TypeError, "record 2: field \"m[a]\": expected int64, got float 1.5"),
    ({"when": datetime.datetime(2020, 1, 1)}, TypeError, "record 2: field \"when\": expected date"),
    ({"when": "2021-02-30"}, ValueError, "record 2: field \"when\": expected date, got str '2021-02-30'"),
    ({"extra": object()}, TypeError, "record 2: field \"extra\": cannot store object"),
    ({"k": ("a", 1, 2)}, ValueError, "record 2: field \"k\": expected tuple<str, int64> of 2 elements, got 3"),
    ({"name": "\ud800"}, ValueError, "record 2: field \"name\": str is not valid UTF-8"),
    ({"nope": 1}, ValueError, "record 2: unknown field 'nope' in struct T"),
])
def test_errors_name_record_and_field_and_leave_no_output(tmp_path, bad, exc, msg):
    out = tmp_path / "out.mapfs"
    recs = [{"name": "a"}, {"name": "b"}, dict({"name": "c"}, **bad), {"name": "d"}]
    with pytest.raises(exc) as e:
        mapfs.build(out, recs, schema=_schema(), type="T")
    assert msg in str(e.value)
    assert os.listdir(tmp_path) == []


def test_record_that_is_not_a_record(tmp_path):
    with pytest.raises(TypeError, match=r"record 1: expected T, got int 5"):
        mapfs.build(tmp_path / "o.mapfs", [{}, 5], schema=_schema(), type="T")
    assert os.listdir(tmp_path) == []


def test_duplicate_key_without_multi_names_the_key(tmp_path):
    recs = [{"name": "a"}, {"name": "dup"}, {"name": "b"}, {"name": "dup"}]
    with pytest.raises(ValueError, match="dup") as e:
        mapfs.build(tmp_path / "o.mapfs", recs, schema=_schema(), type="T", key="name")
    assert "record" in str(e.value)
    assert os.listdir(tmp_path) == []
    # With multi=True the same records build.
    mapfs.build(tmp_path / "o.mapfs", recs, schema=_schema(), type="T", key="name", multi=True)
    assert os.listdir(tmp_path) == ["o.mapfs"]


def test_missing_key_names_the_record(tmp_path):
    with pytest.raises(ValueError, match=r"record 1: field \"name\": the key is missing"):
        mapfs.build(tmp_path / "o.mapfs", [{"name": "a"}, {"age": 1}], schema=_schema(),
                    type="T", key="name")
    assert os.listdir(tmp_path) == []


def test_option_errors(tmp_path):
    s = _schema()
    with pytest.raises(ValueError, match="approx=True needs a str key; field 'age' is int32"):
        mapfs.build(tmp_path / "o", [], schema=s, type="T", key="age", approx=True)
    with pytest.raises(ValueError, match="need a key"):
        mapfs.build(tmp_path / "o", [], schema=s, type="T", multi=True)
    with pytest.raises(ValueError, match="no field 'zz'"):
        mapfs.build(tmp_path / "o", [], schema=s, type="T", key="zz")
    with pytest.raises(ValueError, match="no struct 'Nope'"):
        mapfs.build(tmp_path / "o", [], schema=s, type="Nope")
    with pytest.raises(TypeError):
        mapfs.build(tmp_path / "o", [], schema=42, type="T")
    with pytest.raises(TypeError):
        mapfs.build(tmp_path / "o", 42, schema=s, type="T")
    assert os.listdir(tmp_path) == []


def test_iterator_raising_midway_leaves_nothing(tmp_path):
    class Boom(Exception):
        pass

    def gen():
        for i in range(5000):  # several batches reach the builder first
            yield {"name": f"n{i}", "age": i}
        raise Boom("midway")

    with pytest.raises(Boom):
        mapfs.build(tmp_path / "o.mapfs", gen(), schema=_schema(), type="T", key="name")
    assert os.listdir(tmp_path) == []


def test_keyboard_interrupt_leaves_nothing(tmp_path):
    def gen():
        for i in range(3000):
            yield {"name": f"n{i}"}
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        mapfs.build(tmp_path / "o.mapfs", gen(), schema=_schema(), type="T")
    assert os.listdir(tmp_path) == []


def test_empty_input_builds_an_empty_segment(tmp_path):
    assert mapfs.build(tmp_path / "o.mapfs", [], schema=_schema(), type="T", key="name") == 0
    assert (tmp_path / "o.mapfs").stat().st_size > 0


def test_existing_output_is_replaced_only_on_success(tmp_path):
    out = tmp_path / "o.mapfs"
    out.write_bytes(b"old")
    with pytest.raises(TypeError):
        mapfs.build(out, [{"age": "x"}], schema=_schema(), type="T")
    assert out.read_bytes() == b"old"
    mapfs.build(out, [{"age": 1}], schema=_schema(), type="T")
    assert out.read_bytes()[:8] == b"MAPFSSEG"


def test_memory_stays_bounded_while_streaming(tmp_path):
    """300k records of ~1 KiB each from a generator: holding them would take
    well over 300 MiB; the build's peak RSS grows far less."""
    schema = mapfs.Schema.from_yaml("structs:\n  R:\n    fields: {k: str, blob: str, n: int}\n")
    pad = "x" * 1000

    def gen():
        for i in range(300_000):
            yield {"k": f"key{i}", "blob": pad + str(i), "n": i}

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
    n = mapfs.build(tmp_path / "o.mapfs", gen(), schema=schema, type="R", key="k", memory_mb=8)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert n == 300_000
    assert (tmp_path / "o.mapfs").stat().st_size > 300_000 * 1000
    assert (after - before) < 150 * 1024, f"peak RSS grew by {(after - before) // 1024} MiB"


def test_build_releases_the_gil(tmp_path):
    """Another thread runs Python code while a build sorts and writes."""
    import threading
    schema = mapfs.Schema.from_yaml("structs:\n  R:\n    fields: {k: str, n: int}\n")
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(1)
            stop.wait(0.001)

    # A list, not a generator: no Python code runs between records, so the
    # other thread runs only where the build releases the GIL.
    recs = [{"k": f"k{i}", "n": i} for i in range(200_000)]
    t = threading.Thread(target=ticker)
    t.start()
    try:
        mapfs.build(tmp_path / "o.mapfs", recs, schema=schema, type="R", key="k")
    finally:
        stop.set()
        t.join()
    assert len(ticks) > 5


def test_cli_rejects_what_python_rejects(tmp_path):
    """The same bad value fails both ways (the CLI names the line)."""
    schema_path = tmp_path / "s.yaml"
    schema_path.write_text(_schema().to_yaml())
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text('{"name": "a"}\n{"age": "abc"}\n')
    r = subprocess.run([mapfs_bin(), "build", "--schema", str(schema_path), "--type", "T",
                        "--input", str(jsonl), "--output", str(tmp_path / "o.mapfs")],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "in.jsonl:2" in r.stderr
    with pytest.raises(TypeError, match="record 1: field \"age\""):
        mapfs.build(tmp_path / "p.mapfs", [{"name": "a"}, {"age": "abc"}], schema=_schema(),
                    type="T")


def test_many_batches_same_bytes_as_cli(tmp_path):
    """Enough records for several conversion batches, whose record slots are
    refilled in place: a field absent in a record must not keep the value of
    the record that used the slot before."""
    schema_path = tmp_path / "schema.yaml"
    schema_path.write_text(EVERY_TYPE_YAML)
    jsonl = tmp_path / "recs.jsonl"
    write_jsonl(jsonl, every_type_jsonl_records(2600, seed=3))
    schema = mapfs.Schema.load(schema_path)
    recs = jsonl_to_python(load_jsonl(jsonl), schema, "Rec")
    want = cli_build(schema_path, "Rec", jsonl, tmp_path / "cli.mapfs", key="id")
    mapfs.build(tmp_path / "py.mapfs", recs, schema=schema, type="Rec", key="id")
    assert (tmp_path / "py.mapfs").read_bytes() == want


def test_reused_record_slots_do_not_leak_fields(tmp_path):
    """Small records, many batches: each batch refills the previous batch's
    record Values in place. A field absent now must not keep an old value,
    and a container must not keep old elements."""
    import json
    import random
    rnd = random.Random(5)
    schema_path = tmp_path / "s.yaml"
    schema_path.write_text("structs:\n  P:\n    fields: {x: float64, y: float64}\n"
                           "  R:\n    fields:\n      k: str\n      n: int32\n"
                           "      tags: frozenset<int64>\n      names: list<str>\n      p: P\n"
                           "      o: object\n")
    lines = []
    for i in range(5000):
        r = {"k": f"k{i}", "n": i, "tags": rnd.sample(range(100), rnd.randint(0, 5)),
             "names": ["a"] * rnd.randint(0, 3), "p": {"x": 1.5, "y": float(i)},
             "o": rnd.choice([[1, 2], {"a": [3]}, "s", None])}
        for f in ("n", "tags", "names", "p", "o"):
            if rnd.random() < 0.3:
                del r[f]
        if "p" in r and rnd.random() < 0.3:
            del r["p"]["y"]
        lines.append(r)
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in lines))
    want = cli_build(schema_path, "R", jsonl, tmp_path / "cli.mapfs", key="k")
    mapfs.build(tmp_path / "py.mapfs", lines, schema=mapfs.Schema.load(schema_path), type="R",
                key="k")
    assert (tmp_path / "py.mapfs").read_bytes() == want


def test_python_only_forms_of_values():
    """Values JSON cannot spell: decimals from floats keep their repr, object
    values keep tuple/frozenset/bytes/date/datetime/Decimal/ndarray apart, a
    set is refused where order matters."""
    s = mapfs.Schema.from_yaml(
        "structs:\n  T:\n    fields: {d: decimal, o: object, l: list<int>, a: ndarray}\n")
    assert mapfs.pack(s, "T", {"d": 0.1}) == mapfs.pack(s, "T", {"d": decimal.Decimal("0.1")})
    assert mapfs.pack(s, "T", {"d": 5}) == mapfs.pack(s, "T", {"d": "5"})
    forms = [(1, 2), [1, 2], frozenset([1, 2]), b"ab", "ab", datetime.date(2020, 1, 2),
             datetime.datetime(2020, 1, 2), decimal.Decimal("1.50"), np.arange(3, dtype=np.int8),
             np.arange(3, dtype=np.int64), {1: "a"}, {"1": "a"}, None, True, 1, 1.0, 2**64 - 1]
    packed = [mapfs.pack(s, "T", {"o": f}) for f in forms]
    assert len(set(packed)) == len(packed)
    with pytest.raises(TypeError, match=r'field "l": expected list<int64>, got set'):
        mapfs.pack(s, "T", {"l": {1, 2}})
    with pytest.raises(ValueError, match=r"beyond int64/uint64"):
        mapfs.pack(s, "T", {"o": 2**64})
    # An ndarray of any dtype keeps it; nested lists infer as from JSONL.
    assert mapfs.pack(s, "T", {"a": [1, 2]}) == mapfs.pack(s, "T", {"a": np.array([1, 2])})
    assert mapfs.pack(s, "T", {"a": [1, 2]}) != mapfs.pack(s, "T", {"a": np.array([1, 2], np.int32)})
    with pytest.raises(ValueError, match="not rectangular"):
        mapfs.pack(s, "T", {"a": [[1, 2], [3]]})
    with pytest.raises(TypeError, match="dtype <c16"):
        mapfs.pack(s, "T", {"a": np.zeros(2, dtype=complex)})


def test_record_views_rebuild_the_same_bytes(every, tmp_path):
    """Records read from a segment (record views) build the same segment."""
    d, schema_path, schema, jsonl, recs = every
    want = cli_build(schema_path, "Rec", jsonl, tmp_path / "cli.mapfs")
    if not hasattr(mapfs, "open"):
        pytest.skip("mapfs.open is not available in this build")
    try:
        seg = mapfs.open(tmp_path / "cli.mapfs")
        views = list(seg)
    except NotImplementedError as e:
        pytest.skip(f"record views are not available in this build: {e}")
    mapfs.build(tmp_path / "again.mapfs", views, schema=schema, type="Rec")
    assert (tmp_path / "again.mapfs").read_bytes() == want
