"""mapfs.open and the record views on the bundled every-type sample
(docs/python.md, "Reading"): each value as its Python type, to_python and
to_json checked against what `mapfs get` prints for the same key."""
import base64
import datetime
import decimal
import gc
import json
import math
import mmap

import numpy as np
import pytest

import mapfs
from read_util import SAMPLE, build_from_files, cli_get

NAMES = ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Émilie du Châtelet"]


@pytest.fixture(scope="module")
def sample_array(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample") / "people.mapfs"
    return build_from_files(SAMPLE / "schema.yaml", SAMPLE / "people.jsonl", "Person", out)


@pytest.fixture(scope="module")
def sample_by_name(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample") / "people_by_name.mapfs"
    return build_from_files(SAMPLE / "schema.yaml", SAMPLE / "people.jsonl", "Person", out,
                            key="name")


def jsonish(v):
    """A plain Python value as the JSON rendering of docs/layout.md shows it."""
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    if isinstance(v, datetime.datetime):
        assert v.tzinfo is datetime.timezone.utc
        text = v.strftime("%Y-%m-%dT%H:%M:%S")
        if v.microsecond:
            text += ".%06d" % v.microsecond
        return text + "Z"
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, frozenset):
        return [jsonish(x) for x in sorted(v)]
    if isinstance(v, (list, tuple)):
        return [jsonish(x) for x in v]
    if isinstance(v, dict):
        return {(k if isinstance(k, str) else str(k)): jsonish(x) for k, x in v.items()}
    if isinstance(v, np.ndarray):
        return jsonish(v.tolist())
    return v


def same_json(a, b):
    """Equality of parsed JSON where NaN equals NaN and -0.0 keeps its sign."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_segment_attributes(sample_array, sample_by_name):
    with mapfs.open(sample_array) as seg:
        assert seg.kind == "array"
        assert seg.type == "Person"
        assert seg.key_field is None
        assert len(seg) == 4
        assert not seg.closed
        assert "people.mapfs" in seg.name
    seg = mapfs.open(str(sample_by_name))
    assert seg.kind == "mapping"
    assert seg.key_field == "name"
    assert len(seg) == 4
    seg.verify()
    seg.close()
    assert seg.closed


def test_schema_attribute(sample_array):
    seg = mapfs.open(sample_array)
    try:
        schema = seg.schema
    except (NotImplementedError, TypeError) as e:
        pytest.skip(f"mapfs.Schema not in this build: {e}")
    assert "Person" in schema.to_yaml()


@pytest.mark.parametrize("index", range(4))
def test_every_record_matches_the_cli(sample_array, index):
    seg = mapfs.open(sample_array)
    rec = seg[index]
    expected = cli_get(sample_array, index)
    assert rec.to_json() == expected
    assert same_json(jsonish(rec.to_python()), json.loads(expected))


@pytest.mark.parametrize("name", NAMES)
def test_every_key_matches_the_cli(sample_by_name, name):
    seg = mapfs.open(sample_by_name)
    expected = cli_get(sample_by_name, name)
    assert seg[name].to_json() == expected
    assert same_json(jsonish(seg[name].to_python()), json.loads(expected))


def test_scalar_types(sample_array):
    ada = mapfs.open(sample_array)[0]
    assert ada.id == 1 and type(ada.id) is int
    assert ada.name == "Ada Lovelace" and ada["name"] == "Ada Lovelace"
    assert ada.age == 36
    assert ada.score == 99.5
    assert ada.active is True
    assert ada.photo == base64.b64decode("iVBORw0KGgo=")
    assert ada.born == datetime.date(1815, 12, 10) and type(ada.born) is datetime.date
    assert ada.seen == datetime.datetime(2024, 5, 6, 7, 8, 9, 123456,
                                         tzinfo=datetime.timezone.utc)
    assert ada.seen.tzinfo is datetime.timezone.utc
    assert ada.balance == decimal.Decimal("1234.50")
    assert str(ada.balance) == "1234.50"
    emilie = mapfs.open(sample_array)[3]
    assert str(emilie.balance) == "3.14159265358979323846264338327950288"
    grace = mapfs.open(sample_array)[2]
    assert math.isnan(grace.score)
    assert str(grace.balance) == "-1E+3"
    assert math.copysign(1.0, emilie.score) == -1.0


def test_absent_and_unknown_fields(sample_array):
    alan = mapfs.open(sample_array)[1]
    assert alan.photo is None
    assert alan["pair"] is None
    assert "photo" not in alan.keys()
    assert alan.keys()[:3] == ["id", "name", "age"]
    assert "name" in alan and "photo" not in alan and "nope" not in alan
    with pytest.raises(AttributeError, match="nope"):
        alan.nope
    with pytest.raises(KeyError):
        alan["nope"]
    with pytest.raises(TypeError):
        alan[0]


def test_containers(sample_array):
    ada = mapfs.open(sample_array)[0]
    tags = ada.tags
    assert isinstance(tags, mapfs.SetView)
    assert len(tags) == 3 and 2 in tags and 4 not in tags and "x" not in tags
    assert tags == frozenset({1, 2, 3}) and tags != frozenset({1, 2})
    assert sorted(tags) == [1, 2, 3]
    aliases = ada.aliases
    assert isinstance(aliases, mapfs.SequenceView)
    assert len(aliases) == 2
    assert aliases[0] == "Ada" and aliases[-1] == "Countess of Lovelace"
    assert aliases[::-1] == ["Countess of Lovelace", "Ada"]
    assert aliases[5:] == []
    assert aliases == ["Ada", "Countess of Lovelace"]
    assert aliases == ("Ada", "Countess of Lovelace")
    assert aliases != ["Ada"]
    assert "Ada" in aliases and "Bob" not in aliases
    assert list(aliases) == ["Ada", "Countess of Lovelace"]
    with pytest.raises(IndexError):
        aliases[2]
    with pytest.raises(IndexError):
        aliases[-3]
    assert ada.pair == ("x", 2) and ada.pair[1] == 2
    attrs = ada.attrs
    assert isinstance(attrs, mapfs.DictView)
    assert len(attrs) == 2
    assert attrs["field"] == "mathematics" and attrs["papers"] == 1
    assert attrs.get("nope") is None and attrs.get("nope", 5) == 5
    assert "papers" in attrs and "nope" not in attrs and 3 not in attrs
    with pytest.raises(KeyError):
        attrs["nope"]
    assert sorted(attrs.keys()) == ["field", "papers"]
    assert sorted(attrs) == ["field", "papers"]
    assert sorted(attrs.values(), key=str) == [1, "mathematics"]
    assert dict(attrs.items()) == {"field": "mathematics", "papers": 1}
    assert attrs == {"field": "mathematics", "papers": 1}
    home = ada.home
    assert isinstance(home, mapfs.Record)
    assert home.x == 51.5072 and home.y == -0.1276
    assert ada.extra == {"notes": ["analytical engine", None]}
    assert ada.extra["notes"][1] is None
    emilie = mapfs.open(sample_array)[3]
    assert emilie.extra == [1.5, "two", True, None, {"three": 3}]
    assert emilie.extra[4]["three"] == 3
    assert mapfs.open(sample_array)[1].extra == 42


def test_to_python_is_plain(sample_array):
    d = mapfs.open(sample_array)[0].to_python()
    assert type(d) is dict
    assert type(d["tags"]) is frozenset and d["tags"] == {1, 2, 3}
    assert type(d["aliases"]) is list
    assert type(d["pair"]) is tuple
    assert type(d["attrs"]) is dict
    assert type(d["home"]) is dict and d["home"] == {"x": 51.5072, "y": -0.1276}
    assert type(d["embedding"]) is np.ndarray
    assert d["embedding"].flags.owndata and d["embedding"].flags.writeable
    assert d["extra"] == {"notes": ["analytical engine", None]}


def test_ndarray_is_zero_copy_and_read_only(sample_array):
    seg = mapfs.open(sample_array)
    emb = seg[0].embedding
    assert emb.shape == (2, 2) and emb.dtype == np.float32
    assert emb.tolist() == [[0.5, 1.0], [-2.0, 3.25]]
    assert not emb.flags.owndata and not emb.flags.writeable
    with pytest.raises(ValueError):
        emb[0, 0] = 1.0
    # The array points into the segment's own mapping: its bytes are the file's.
    assert sample_array.read_bytes().find(emb.tobytes()) >= 0
    mm = np.memmap(sample_array, dtype=np.uint8, mode="r")
    on_memmap = mapfs.open(mm)[0].embedding
    assert np.shares_memory(on_memmap, mm)
    assert not on_memmap.flags.owndata
    assert seg[1].embedding.shape == (0,)
    assert seg[2].embedding.tolist() == [[1.0, 2.0, 3.0]]


def test_ndarray_shares_memory_with_an_mmap(sample_array):
    with open(sample_array, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    seg = mapfs.open(mm)
    emb = seg[0].embedding
    whole = np.frombuffer(mm, dtype=np.uint8)
    assert np.shares_memory(emb, whole)
    assert not emb.flags.owndata
    del whole
    with pytest.raises(BufferError):
        mm.close()  # the segment holds the buffer
    del seg, emb
    gc.collect()
    mm.close()


def test_record_equality_and_repr(sample_array):
    seg = mapfs.open(sample_array)
    assert seg[0] == seg[0]
    assert seg[0] != seg[1]
    assert seg[0].home == {"x": 51.5072, "y": -0.1276}
    assert repr(seg[1]).startswith('Person({"id":2,')
    with pytest.raises(TypeError):
        hash(seg[0])
    assert {"id", "name", "embedding", "to_json", "keys"} <= set(dir(seg[0]))
    assert mapfs.Record.keys(seg[1])[:2] == ["id", "name"]


def test_array_indexing(sample_array):
    seg = mapfs.open(sample_array)
    assert seg[-1].id == 4 and seg[-4].id == 1
    with pytest.raises(IndexError):
        seg[4]
    with pytest.raises(IndexError):
        seg[-5]
    with pytest.raises(IndexError):
        seg[2**80]
    with pytest.raises(TypeError):
        seg["x"]
    assert [r.id for r in seg[1:3]] == [2, 3]
    assert [r.id for r in seg[::-2]] == [4, 2]
    assert [r.id for r in seg] == [1, 2, 3, 4]
    assert seg[np.int64(2)].id == 3
    with pytest.raises(TypeError):
        "x" in seg
    with pytest.raises(TypeError):
        seg.keys()


def test_open_bytes_and_errors(sample_array, tmp_path):
    data = sample_array.read_bytes()
    seg = mapfs.open(data)
    assert seg[0].to_json() == cli_get(sample_array, 0)
    seg = mapfs.open(bytearray(data))
    assert seg[3].name == NAMES[3]
    with pytest.raises(FileNotFoundError):
        mapfs.open(tmp_path / "missing.mapfs")
    with pytest.raises(mapfs.CorruptionError):
        mapfs.open(b"not a segment")
    (tmp_path / "junk.mapfs").write_bytes(b"\0" * 4096)
    with pytest.raises(mapfs.CorruptionError, match="junk.mapfs"):
        mapfs.open(tmp_path / "junk.mapfs")
    with pytest.raises(TypeError):
        mapfs.open(42)


def test_close_and_lifetimes(sample_array):
    seg = mapfs.open(sample_array)
    rec = seg[0]
    tags = rec.tags
    emb = rec.embedding
    aliases = rec.aliases
    seg.close()
    seg.close()  # idempotent
    with pytest.raises(ValueError):
        seg[0]
    with pytest.raises(ValueError):
        len(seg)
    with pytest.raises(ValueError):
        seg.verify()
    del seg
    gc.collect()
    assert rec.name == "Ada Lovelace"
    assert 3 in tags
    assert aliases[1] == "Countess of Lovelace"
    assert emb.tolist() == [[0.5, 1.0], [-2.0, 3.25]]
    del rec, tags, aliases
    gc.collect()
    sub = emb[1]  # a derived array keeps the base chain alive
    del emb
    gc.collect()
    assert sub.tolist() == [-2.0, 3.25]
    with mapfs.open(sample_array) as seg2:
        home = seg2[0].home
    with pytest.raises(ValueError):
        seg2[0]
    assert home.x == 51.5072
