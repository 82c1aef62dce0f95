"""mapfs.Schema: load, from_yaml, to_yaml round trip, equality, errors with
FILE:LINE:COL."""
import pathlib

import pytest

import mapfs

from build_util import EVERY_TYPE_YAML, REPO


def test_load_and_structs():
    s = mapfs.Schema.load(REPO / "sample" / "schema.yaml")
    assert s.structs == ["Point", "Person"]
    assert ("tags", "frozenset<int64>") in s.fields("Person")
    assert s.fields("Point") == [("x", "float64"), ("y", "float64")]
    with pytest.raises(KeyError):
        s.fields("Nope")
    assert repr(s) == "mapfs.Schema(structs=['Point', 'Person'])"


def test_to_yaml_round_trips():
    for text in (EVERY_TYPE_YAML, (REPO / "sample" / "schema.yaml").read_text(),
                 "structs:\n  A:\n    typecode: '#'\n    fields: {\"a: b\": int, \"null\": list}\n",
                 "structs:\n  E:\n    fields: {}\n"):
        s = mapfs.Schema.from_yaml(text)
        y = s.to_yaml()
        again = mapfs.Schema.from_yaml(y)
        assert again == s
        assert again.to_yaml() == y
        assert hash(again) == hash(s)


def test_to_yaml_is_canonical():
    a = mapfs.Schema.from_yaml("structs:\n  A:\n    fields: {x: int, y: 'list'}\n")
    b = mapfs.Schema.from_yaml("structs:\n  A:\n    fields:\n      x: int64\n      y: list<object>\n")
    assert a == b
    assert a.to_yaml() == b.to_yaml()
    assert "x: int64" in a.to_yaml()
    assert a.to_json() == '{"mapfs_schema":1,"structs":[{"name":"A","fields":[["x","int64"],["y","list<object>"]]}]}'


def test_inequality():
    a = mapfs.Schema.from_yaml("structs:\n  A:\n    fields: {x: int}\n")
    b = mapfs.Schema.from_yaml("structs:\n  A:\n    fields: {x: int32}\n")
    assert a != b
    assert a != "structs"


def test_errors_name_file_line_col(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("structs:\n  A:\n    fields:\n      x: flaot64\n")
    with pytest.raises(ValueError, match=r"bad\.yaml:4:10: unknown type 'flaot64'"):
        mapfs.Schema.load(p)
    with pytest.raises(ValueError, match=r"<string>:4:10: unknown type"):
        mapfs.Schema.from_yaml(p.read_text())
    with pytest.raises(ValueError, match=r"mine:4:10"):
        mapfs.Schema.from_yaml(p.read_text(), name="mine")
    with pytest.raises(FileNotFoundError):
        mapfs.Schema.load(tmp_path / "missing.yaml")
    with pytest.raises(TypeError):
        mapfs.Schema.load(42)


def test_load_takes_str_and_pathlike():
    p = REPO / "sample" / "schema.yaml"
    assert mapfs.Schema.load(str(p)) == mapfs.Schema.load(pathlib.Path(p))
