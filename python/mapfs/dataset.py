"""Reading datasets: a directory of shard segments named by ``dataset.json``
(docs/format.md, "Datasets") read as one collection (docs/python.md).

``mapfs.open(DIR)`` returns a ``Dataset`` with the reading API of a segment:
a lookup by key routes the key to its one shard (the dataset routing rule)
and reads only that shard; arrays are indexed by dataset-wide record index
(shard i holds a consecutive range); ``len``, iteration, ``keys()``,
``values()`` and ``items()`` run through the shards in shard order.
"""
import bisect
import itertools
import json
import operator
import os

from mapfs import _mapfs

__all__ = ["Dataset"]



def _no_keys(key):
    raise TypeError("an array has no keys: index it by record number")


def _closed(key):
    raise ValueError("I/O operation on a closed dataset")


class Dataset:
    """A dataset opened for reading. Opening checks the manifest and every
    shard against it (size, header checksum, counts, kind, key, schema), as
    ``mapfs verify`` and mounts do; a bad dataset raises
    ``mapfs.CorruptionError`` naming ``dataset.json`` or the shard."""

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
        self._router = None
        if self._kind != "array":
            self._router = _mapfs._Router(self._shards[0].schema, m["root_type"], m["key_field"],
                                          len(self._shards))
        # The lookup path reads these two only (close() replaces the route).
        self._route = self._router if self._router is not None else _no_keys
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
        s = self._route(key)
        return None if s < 0 else self._shards[s]

    def _record(self, i):
        n = self._manifest["record_count"]
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"record index out of range (the dataset has {n} records)")
        s = bisect.bisect_right(self._first, i) - 1
        return self._shards[s][i - self._first[s]]

    def __getitem__(self, key):
        if self._router is not None:
            s = self._route(key)  # one call into C++: the hot path
            if s < 0:
                raise KeyError(key)
            return self._shards[s][key]
        self._check()
        if isinstance(key, slice):
            return [self._record(i) for i in range(*key.indices(len(self)))]
        return self._record(operator.index(key))

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
        self._route = _closed
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
