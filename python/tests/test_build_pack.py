"""mapfs.pack / pack_into give the bytes the core packer gives (`mapfs pack
--hex` on the same records), pack_into leaves a too-small buffer untouched, and
mapfs.view reads a packed record back."""
import subprocess

import pytest

import mapfs

from build_util import every_type_inputs, mapfs_bin


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    schema_path, jsonl, schema, recs = every_type_inputs(tmp_path_factory.mktemp("pack"), 120,
                                                         seed=11)
    out = subprocess.run([mapfs_bin(), "pack", "--hex", "--schema", str(schema_path), "--type",
                          "Rec", str(jsonl)], check=True, capture_output=True, text=True).stdout
    want = [bytes.fromhex(line) for line in out.splitlines()]
    assert len(want) == len(recs)
    return schema, recs, want


def test_pack_matches_the_core_packer(packed):
    schema, recs, want = packed
    for i, (r, w) in enumerate(zip(recs, want)):
        assert mapfs.pack(schema, "Rec", r) == w, i


def test_pack_into_writes_at_offset_and_returns_the_end(packed):
    schema, recs, want = packed
    buf = bytearray(b"\xee" * (sum(len(w) for w in want[:10]) + 7))
    off = 7
    for r, w in zip(recs[:10], want[:10]):
        end = mapfs.pack_into(schema, "Rec", r, buf, off)
        assert end == off + len(w)
        assert bytes(buf[off:end]) == w
        off = end
    assert off == len(buf)
    assert buf[:7] == b"\xee" * 7


def test_pack_into_too_small_leaves_the_buffer_untouched(packed):
    schema, recs, want = packed
    buf = bytearray(b"\x01" * (len(want[0]) - 1))
    with pytest.raises(IndexError, match="record needs"):
        mapfs.pack_into(schema, "Rec", recs[0], buf)
    assert buf == bytearray(b"\x01" * (len(want[0]) - 1))
    with pytest.raises(IndexError):
        mapfs.pack_into(schema, "Rec", recs[0], bytearray(1000), 10**6)
    with pytest.raises(IndexError):
        mapfs.pack_into(schema, "Rec", recs[0], bytearray(1000), -1)
    with pytest.raises((TypeError, BufferError)):  # not writable
        mapfs.pack_into(schema, "Rec", recs[0], bytes(1000))


def test_pack_errors_name_the_field(packed):
    schema = packed[0]
    with pytest.raises(TypeError, match=r'^field "home.x": expected float64, got str'):
        mapfs.pack(schema, "Rec", {"home": {"x": "no"}})
    with pytest.raises(ValueError, match="no struct 'Nope'"):
        mapfs.pack(schema, "Nope", {})


def _view_or_skip(*args):
    try:
        return mapfs.view(*args)
    except NotImplementedError as e:
        pytest.skip(f"record views are not available in this build: {e}")


def test_view_reads_a_packed_record(packed):
    schema, recs, want = packed
    buf = bytearray(16) + bytearray(want[3])
    rec = _view_or_skip(schema, "Rec", buf, 16)
    assert rec.name == recs[3]["name"]
    assert rec.to_python()["id"] == recs[3]["id"]


def test_view_keeps_the_buffer_alive(packed):
    schema, recs, want = packed
    rec = _view_or_skip(schema, "Rec", bytes(want[5]))
    import gc
    gc.collect()
    assert rec.name == recs[5]["name"]


def test_view_of_garbage_is_an_error_not_a_crash(packed):
    schema = packed[0]
    with pytest.raises(mapfs.CorruptionError):
        mapfs.view(schema, "Rec", b"\xff" * 3)
    with pytest.raises((IndexError, mapfs.CorruptionError)):
        mapfs.view(schema, "Rec", b"\x00" * 8, 100)
