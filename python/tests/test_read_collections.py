"""Every collection kind from Python: arrays, mappings by str, uint and
generic keys, multimaps, approximate multimaps (docs/python.md, "Reading")."""
import gc

import pytest

import mapfs
from mapfs_testlib import reseal_segment, run_concurrently
from read_util import build_segment, cli_get

ITEM = """
structs:
  Item:
    fields: {name: str, id: uint64, n: int32, pair: "tuple<str, int32>", when: date, v: float64}
"""


def items(count=50, dup=1):
    out = []
    for i in range(count):
        for j in range(dup):
            out.append({"name": f"k{i}", "id": i * 1000 + 7, "n": i - 25,
                        "pair": [f"p{i % 7}", i], "when": f"2020-01-{1 + i % 28:02d}",
                        "v": i + j / 10})
    return out


def test_mapping_by_str(tmp_path):
    path = build_segment(tmp_path, ITEM, "Item", items(), key="name")
    seg = mapfs.open(path)
    assert seg.kind == "mapping" and seg.key_field == "name" and len(seg) == 50
    assert seg["k7"].n == -18
    assert seg["k7"].to_json() == cli_get(path, "k7")
    with pytest.raises(KeyError):
        seg["nope"]
    with pytest.raises(KeyError):
        seg[7]
    with pytest.raises(KeyError):
        seg["\ud800"]  # not encodable: no such key, not a crash
    assert seg.get("nope") is None and seg.get("nope", 3) == 3
    assert seg.get("k3").id == 3007
    assert "k3" in seg and "k50" not in seg and None not in seg
    keys = list(seg)
    assert sorted(keys) == sorted(f"k{i}" for i in range(50))
    assert list(seg.keys()) == keys
    assert [r.name for r in seg.values()] == keys
    assert all(k == r.name for k, r in seg.items())


def test_mapping_by_uint(tmp_path):
    path = build_segment(tmp_path, ITEM, "Item", items(), key="id")
    seg = mapfs.open(path)
    assert seg[7007].name == "k7"
    assert seg[7007].to_json() == cli_get(path, 7007)
    for missing in (7008, -1, 2**64, 2**70, "7007", 7007.0, True):
        with pytest.raises(KeyError):
            seg[missing]
    assert sorted(seg) == sorted(i * 1000 + 7 for i in range(50))
    assert all(type(k) is int for k in seg.keys())


def test_mapping_by_generic_keys(tmp_path):
    seg = mapfs.open(build_segment(tmp_path, ITEM, "Item", items(), key="n", name="by_n"))
    assert seg.kind == "mapping"
    assert seg[-18].name == "k7" and seg[0].name == "k25"
    with pytest.raises(KeyError):
        seg[2**40]  # out of int32: no such key
    with pytest.raises(KeyError):
        seg["x"]
    assert sorted(seg) == list(range(-25, 25))
    seg = mapfs.open(build_segment(tmp_path, ITEM, "Item", items(), key="pair", name="by_pair"))
    assert seg[("p0", 7)].name == "k7"
    assert seg[["p0", 7]].name == "k7"
    assert ("p1", 7) not in seg
    assert sorted(seg)[:2] == [("p0", 0), ("p0", 7)]
    assert all(type(k) is tuple for k in seg)


def test_mapping_by_date(tmp_path):
    import datetime
    recs = items(20)
    seg = mapfs.open(build_segment(tmp_path, ITEM, "Item", recs, key="when"))
    assert seg[datetime.date(2020, 1, 8)].name == "k7"
    assert datetime.date(2021, 1, 8) not in seg
    assert sorted(seg)[0] == datetime.date(2020, 1, 1)


def test_multimap(tmp_path):
    path = build_segment(tmp_path, ITEM, "Item", items(10, dup=3), key="name", multi=True)
    seg = mapfs.open(path)
    assert seg.kind == "multimap" and len(seg) == 10
    recs = seg["k4"]
    assert isinstance(recs, list) and [r.v for r in recs] == [4.0, 4.1, 4.2]
    assert "[" + ",".join(r.to_json() for r in recs) + "]" == cli_get(path, "k4")
    with pytest.raises(KeyError):
        seg["k10"]
    assert seg.get_all("k10") == []
    assert [r.v for r in seg.get_all("k1")] == [1.0, 1.1, 1.2]
    assert [r.v for r in seg.get("k2")] == [2.0, 2.1, 2.2]
    assert seg.get("k10", "none") == "none"
    assert "k9" in seg and "k10" not in seg
    assert sorted(seg) == sorted(f"k{i}" for i in range(10))
    for k, rs in seg.items():
        assert [r.name for r in rs] == [k] * 3
    assert sum(len(v) for v in seg.values()) == 30


def test_multimap_by_uint(tmp_path):
    seg = mapfs.open(build_segment(tmp_path, ITEM, "Item", items(10, dup=2), key="id",
                                   multi=True))
    assert [r.v for r in seg[3007]] == [3.0, 3.1]
    assert seg.get_all(3008) == []


def test_approximate_multimap(tmp_path):
    path = build_segment(tmp_path, ITEM, "Item", items(30, dup=2), key="name", approx=True)
    seg = mapfs.open(path)
    assert seg.kind == "approximate multimap" and seg.key_field == "name"
    assert [r.v for r in seg["k5"]] == [5.0, 5.1]
    assert "[" + ",".join(r.to_json() for r in seg["k5"]) + "]" == cli_get(path, "k5")
    with pytest.raises(KeyError):
        seg["k30"]
    assert seg.get_all("k30") == []
    assert "k29" in seg and "k30" not in seg
    with pytest.raises(TypeError):
        iter(seg)
    with pytest.raises(TypeError):
        seg.keys()


def test_approximate_multimap_filters_a_forced_collision(tmp_path):
    # Records of "kA" and "kB"; then the second "kA" record's key bytes are
    # rewritten to "kZ" in place. It stays in kA's hash group (the index
    # does not change), so it is a candidate for "kA" whose key differs: a
    # collision, which the lookup must filter out.
    recs = [{"name": "kA", "id": 1}, {"name": "kB", "id": 2}, {"name": "kA", "id": 3}]
    path = build_segment(tmp_path, ITEM, "Item", recs, key="name", approx=True)
    assert [r.id for r in mapfs.open(path)["kA"]] == [1, 3]
    data = bytearray(path.read_bytes())
    first = data.find(b"kA")
    second = data.find(b"kA", first + 1)
    assert second > first >= 0
    data[second:second + 2] = b"kZ"
    # Only the edited section's own checksum stays stale: verify still sees it.
    reseal_segment(data, sections=False)
    seg = mapfs.open(bytes(data))
    assert [r.id for r in seg["kA"]] == [1]
    assert [r.id for r in seg.get_all("kA")] == [1]
    with pytest.raises(KeyError):
        seg["kZ"]  # its hash leads elsewhere
    with pytest.raises(mapfs.CorruptionError):
        seg.verify()


def test_threads_read_one_segment(tmp_path):
    path = build_segment(tmp_path, ITEM, "Item", items(500), key="name")
    seg = mapfs.open(path)
    expected = {f"k{i}": seg[f"k{i}"].to_json() for i in range(500)}
    def reader(offset):
        for rep in range(20):
            for i in range(offset, 500, 7):
                k = f"k{i}"
                r = seg[k]
                assert r.to_json() == expected[k]
                assert r.pair[1] == i
                assert r.id == i * 1000 + 7
        seg.verify()

    run_concurrently(reader, 8)


def test_views_outlive_a_closed_multimap(tmp_path):
    seg = mapfs.open(build_segment(tmp_path, ITEM, "Item", items(5, dup=2), key="name",
                                   multi=True))
    recs = seg["k1"]
    it = seg.items()
    seg.close()
    del seg
    gc.collect()
    assert [r.v for r in recs] == [1.0, 1.1]
    assert len(list(it)) == 5  # an iterator holds the mapping too


def test_a_key_that_closes_the_segment_while_converting(tmp_path):
    path = build_segment(tmp_path, ITEM, "Item", items(), key="id")
    seg = mapfs.open(path)

    class Closing:
        def __index__(self):
            seg.close()
            gc.collect()
            return 7007

    assert seg[Closing()].name == "k7"  # the lookup keeps the mapping until it returns
    with pytest.raises(ValueError):
        seg[7007]
    seg = mapfs.open(build_segment(tmp_path, ITEM, "Item", items(5, dup=2), key="id",
                                   multi=True, name="multi"))
    assert [r.v for r in seg.get_all(Closing())] == []  # 7007 is not among 5 keys
    seg = mapfs.open(build_segment(tmp_path, ITEM, "Item", items(10, dup=2), key="id",
                                   multi=True, name="multi10"))
    assert [r.v for r in seg.get(Closing())] == [7.0, 7.1]


def test_an_index_that_closes_the_array(tmp_path):
    seg = mapfs.open(build_segment(tmp_path, ITEM, "Item", items(10)))

    class Closing:
        def __index__(self):
            seg.close()
            gc.collect()
            return 3

    assert seg[Closing()].name == "k3"
    seg = mapfs.open(build_segment(tmp_path, ITEM, "Item", items(10), name="again"))
    assert [r.name for r in seg[Closing():5]] == ["k3", "k4"]
