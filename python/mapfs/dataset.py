"""Reading datasets: a directory of shard segments named by ``dataset.json``
(docs/format.md, "Datasets") read as one collection (docs/python.md).

``mapfs.open(DIR)`` returns a ``Dataset`` with the reading API of a segment:
a lookup by key routes the key to its one shard (the dataset routing rule)
and reads only that shard; arrays are indexed by dataset-wide record index
(shard i holds a consecutive range); ``len``, iteration, ``keys()``,
``values()`` and ``items()`` run through the shards in shard order.
"""
import itertools
import json
import os

from mapfs import _mapfs

__all__ = ["Dataset"]



class Dataset(_mapfs._ShardedBase):
    """A dataset opened for reading. Opening checks the manifest and every
    shard against it (size, header checksum, counts, kind, key, schema), as
    ``mapfs verify`` and mounts do; a bad dataset raises
    ``mapfs.CorruptionError`` naming ``dataset.json`` or the shard.

    ``ds[key]`` and ``ds[i]`` are answered by the C base class: one routing
    hash, then the shard's own lookup."""

    def __init__(self, path):
        self._path = os.fspath(path)
        manifest_text = _mapfs._open_dataset(self._path)
        self._manifest = json.loads(manifest_text)
        m = self._manifest
        self._shards = [_mapfs.open(os.path.join(self._path, s["file"])) for s in m["shards"]]
        for seg, s in zip(self._shards, m["shards"]):
            # The files opened must be those just checked (they are immutable
            # once published; a shard replaced in between is refused).
            if os.path.getsize(os.path.join(self._path, s["file"])) != s["size"]:
                raise _mapfs.CorruptionError(
                    f"{os.path.join(self._path, s['file'])}: its size differs from "
                    f"{os.path.join(self._path, 'dataset.json')} (a shard replaced while opened?)")
        self._kind = m["kind"]
        self._first = [s["first_record"] for s in m["shards"]]
        keyed = self._kind != "array"
        super().__init__(tuple(self._shards), self._shards[0].schema, m["root_type"],
                         m["key_field"] if keyed else None, self._first, m["record_count"])
        self._closed = False

    # -- attributes ---------------------------------------------------------

    def _check(self):
        if self._closed:
            raise ValueError("I/O operation on a closed dataset")

    @property
    def kind(self):
        return self._kind

    @property
    def type(self):
        return self._manifest["root_type"]

    @property
    def key_field(self):
        return self._manifest["key_field"]

    @property
    def schema(self):
        return self._shards[0].schema

    @property
    def name(self):
        return self._path

    @property
    def closed(self):
        return self._closed

    @property
    def manifest(self):
        """dataset.json as a dict (a copy)."""
        return json.loads(json.dumps(self._manifest))

    @property
    def shards(self):
        """The shards' segments, in shard order."""
        self._check()
        return list(self._shards)

    @property
    def info(self):
        """What a mount's ``@info`` shows: kind, type, key field, counts,
        total size of the shards, and the number of shards."""
        m = self._manifest
        return {"kind": m["kind"], "type": m["root_type"], "key_field": m["key_field"],
                "record_count": m["record_count"], "key_count": m["key_count"],
                "size": sum(s["size"] for s in m["shards"]), "shards": len(m["shards"])}

    def __len__(self):
        self._check()
        if self._kind == "array":
            return self._manifest["record_count"]
        if self._kind == "approximate multimap":
            return sum(len(s) for s in self._shards)
        return self._manifest["key_count"]

    def __repr__(self):
        state = "closed" if self._closed else f"{len(self._shards)} shards"
        return f"<mapfs.Dataset {self._path!r} {self._kind} {state}>"

    # -- lookups --------------------------------------------------------------

    def _shard_of(self, key):
        """The segment a key routes to, or None when it cannot be a key."""
        s = self._shard(key)
        return None if s < 0 else self._shards[s]

    def _getitem_slow(self, key):
        """What the C lookup path leaves to Python: slices of arrays."""
        if isinstance(key, slice):
            return [self[i] for i in range(*key.indices(len(self)))]
        raise TypeError(f"dataset indices must be integers or slices, not {type(key).__name__}")

    def get(self, key, default=None):
        seg = self._shard_of(key)
        return default if seg is None else seg.get(key, default)

    def get_all(self, key):
        seg = self._shard_of(key)
        if seg is None:
            if not self._kind.endswith("multimap"):
                return self._shards[0].get_all(key)  # the segment's error for mappings
            return []
        return seg.get_all(key)

    def __contains__(self, key):
        seg = self._shard_of(key)
        return seg is not None and key in seg

    # -- iteration --------------------------------------------------------------

    def __iter__(self):
        self._check()
        return itertools.chain.from_iterable(self._shards)

    def keys(self):
        self._check()
        if self._kind == "array":
            raise TypeError("an array has no keys")
        return itertools.chain.from_iterable(s.keys() for s in self._shards)

    def values(self):
        self._check()
        return itertools.chain.from_iterable(s.values() for s in self._shards)

    def items(self):
        self._check()
        return itertools.chain.from_iterable(s.items() for s in self._shards)

    # -- checks and lifetime ------------------------------------------------------

    def verify(self):
        """Verifies every shard (checksums and records) and that every key is
        in the shard it routes to; raises ``mapfs.CorruptionError`` naming the
        shard at fault. The GIL is released."""
        self._check()
        _mapfs._verify_dataset(self._path)

    def close(self):
        for s in self._shards:
            s.close()
        self._close_lookups()
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
