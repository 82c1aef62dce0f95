"""Values repeated across records are stored once per segment (docs/format.md,
"Value references") and read back through the module like any other value."""
import os

import numpy as np

import mapfs

SCHEMA = """
structs:
  Loc:
    fields: {city: str, zip: str}
  Rec:
    fields:
      id: uint64
      category: str
      tags: "list<str>"
      loc: Loc
      emb: "ndarray<float32>"
      blob: bytes
      any: object
"""


def _records(n, distinct):
    for i in range(n):
        k = i % distinct
        yield {
            "id": i,
            "category": "category number %d" % k,
            "tags": ["tag %d" % k, "tag %d" % (k + 1), "common tag"],
            "loc": {"city": "city of %d" % k, "zip": "zip code %05d" % k},
            "emb": np.arange(64, dtype=np.float32) + k,
            "blob": bytes([k % 256]) * 300,
            "any": {"k": [k, "value %d" % k]},
        }


def test_repeated_values_are_stored_once_and_read_back(tmp_path):
    schema = mapfs.Schema.from_yaml(SCHEMA)
    out = tmp_path / "rep.mapfs"
    mapfs.build(out, _records(3000, 20), schema=schema, type="Rec")
    plain_size = 3000 * (300 + 256 + 100)  # the blobs and embeddings alone, unshared
    assert os.path.getsize(out) < plain_size / 5

    seg = mapfs.open(out)
    assert len(seg) == 3000
    for i in (0, 19, 20, 1234, 2999):
        r = seg[i]
        k = i % 20
        assert r.id == i
        assert r.category == "category number %d" % k
        assert r.tags == ["tag %d" % k, "tag %d" % (k + 1), "common tag"]
        assert r.loc.city == "city of %d" % k and r.loc.zip == "zip code %05d" % k
        assert r.blob == bytes([k]) * 300
        assert r.any == {"k": [k, "value %d" % k]}
        emb = r.emb
        assert emb.dtype == np.float32 and emb.shape == (64,)
        assert np.array_equal(emb, np.arange(64, dtype=np.float32) + k)
        # Read in place from the first copy: still aligned for its dtype.
        assert emb.ctypes.data % 4 == 0
