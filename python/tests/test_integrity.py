"""Block checksums through the module (docs/format.md, "Block checksums"): a
byte flipped in a record raises mapfs.CorruptionError naming the file and the
block instead of returning data; records in other blocks still read."""
import re

import pytest

import mapfs
from read_util import build_segment

SCHEMA = """structs:
  Doc:
    fields:
      name: str
      text: str
"""


def marker(i):
    return f"marker-{i:05d}-"


@pytest.fixture(scope="module")
def docs(tmp_path_factory):
    # ~500 bytes a record: 600 records span five 64 KiB blocks.
    records = [{"name": f"doc{i}", "text": marker(i) + "x" * 480} for i in range(600)]
    return build_segment(tmp_path_factory.mktemp("integrity"), SCHEMA, "Doc", records,
                         key="name", name="docs")


def flipped(path, victim, tmp_path):
    data = bytearray(path.read_bytes())
    at = data.index(marker(victim).encode())
    data[at + 2] ^= 0x01
    out = tmp_path / "flipped.mapfs"
    out.write_bytes(bytes(data))
    return out, at + 2


def test_a_flipped_record_byte_raises_corruption(docs, tmp_path):
    bad, at = flipped(docs, 300, tmp_path)
    seg = mapfs.open(bad)
    block = at // 65536
    with pytest.raises(mapfs.CorruptionError,
                       match=re.escape(str(bad)) + rf": offset \d+: checksum mismatch in block "
                       rf"{block} \(bytes \d+\.\.\d+\)"):
        seg["doc300"]
    # Whole-record reads and field reads alike: nothing of the record is served.
    with pytest.raises(mapfs.CorruptionError):
        seg["doc300"].text
    served = 0
    for i in range(600):
        try:
            rec = seg[f"doc{i}"]
        except mapfs.CorruptionError:
            continue
        assert rec.text.startswith(marker(i))
        served += 1
    assert 300 < served < 600
    # The same bytes opened from memory are checked the same way.
    with pytest.raises(mapfs.CorruptionError, match="checksum mismatch in block"):
        mapfs.open(bad.read_bytes())["doc300"]


def test_the_good_file_reads_every_record(docs):
    seg = mapfs.open(docs)
    assert all(seg[f"doc{i}"].text.startswith(marker(i)) for i in range(600))
