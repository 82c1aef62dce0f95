"""A crafted record whose list elements point back at the list itself is an
endless value: every whole-value read (to_python, to_json, comparison) must
raise mapfs.CorruptionError, never loop; the other records read as usual."""
import faulthandler
import struct

import pytest

import mapfs
from mapfs_testlib import array_record_offset, reseal_segment
from read_util import build_segment

SCHEMA = """structs:
  Cyc:
    fields: {id: int64, o: object}
"""
RECORDS, BAD, ELEMENTS = 10, 4, 50


@pytest.fixture
def cyclic(tmp_path):
    """The bytes of a segment whose record BAD's `o` list has every element
    pointing at the list itself, every checksum made to agree: only the
    record verifier can tell."""
    path = build_segment(tmp_path, SCHEMA, "Cyc",
                         [{"id": i, "o": [[] for _ in range(ELEMENTS)]} for i in range(RECORDS)],
                         extra=["--dedup-memory", "0"])  # every record's list its own
    data = bytearray(path.read_bytes())
    rec = array_record_offset(data, BAD)
    body = struct.unpack_from("<I", data, rec + 9)[0]  # bitmap byte, int64 id, then o's ref
    assert data[rec + body] == 11 and data[rec + body + 1] == ELEMENTS  # object: a list
    for i in range(ELEMENTS):
        struct.pack_into("<I", data, rec + body + 2 + 4 * i, body)
    reseal_segment(data)
    return bytes(data)


@pytest.fixture(autouse=True)
def no_hang():
    """Ends the run, with the stacks, instead of hanging when a read loops
    (a watchdog thread: the loop would be in C, where no signal handler runs)."""
    faulthandler.dump_traceback_later(120, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


def test_whole_value_reads_of_a_cyclic_record_raise(cyclic):
    seg = mapfs.open(cyclic)
    rec = seg[BAD]
    assert rec.id == BAD
    for read in (rec.to_python, rec.to_json, lambda: rec.o.to_python(), lambda: rec.o.to_json(),
                 lambda: rec == {"id": BAD, "o": []}, lambda: rec.o == [],
                 lambda: rec.o[0].to_python()):
        with pytest.raises(mapfs.CorruptionError):
            read()
    with pytest.raises(mapfs.CorruptionError):
        seg.verify()


def test_the_other_records_read_as_usual(cyclic):
    seg = mapfs.open(cyclic)
    for i in range(RECORDS):
        if i == BAD:
            continue
        assert seg[i].to_python() == {"id": i, "o": [[]] * ELEMENTS}
        assert seg[i].to_json() == '{"id":%d,"o":[%s]}' % (i, ",".join(["[]"] * ELEMENTS))
