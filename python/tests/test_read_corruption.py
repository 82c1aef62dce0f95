"""No segment bytes can crash the interpreter (docs/python.md, "Errors and
safety"): truncated and byte-flipped copies of every-type segments go
through open, every record, every value, to_json, to_python and verify, and
may only raise the module's documented errors."""
import random

import numpy as np
import pytest

import mapfs
import test_read_values
from read_util import SAMPLE, build_from_files, build_segment

ALLOWED = (mapfs.Error, ValueError, KeyError, IndexError, OSError)
opened = [0]  # variants that opened, so reached the lazy read paths


def walk(v, depth=0):
    """Touches every value reachable from a view, lazily, as a user would."""
    if depth > 80:
        return
    if isinstance(v, mapfs.Record):
        for name in v.keys():
            walk(getattr(v, name), depth + 1)
    elif isinstance(v, mapfs.DictView):
        for k, x in v.items():
            walk(x, depth + 1)
            k in v
    elif isinstance(v, (mapfs.SequenceView, mapfs.SetView)):
        n = 0
        for x in v:
            walk(x, depth + 1)
            if isinstance(v, mapfs.SetView):
                x in v
            n += 1
        if isinstance(v, mapfs.SequenceView) and len(v):
            v[-1], v[::2]
    elif isinstance(v, np.ndarray):
        v.sum() if v.dtype != bool else v.any()


def exercise(data):
    """Reads everything in `data`; returns how many calls raised."""
    errors = 0

    def guard(fn, *args):
        nonlocal errors
        try:
            return fn(*args)
        except ALLOWED:
            errors += 1
            return None

    seg = guard(mapfs.open, data)
    if seg is None:
        return errors
    records = []
    if seg.kind == "array":
        for i in range(min(len(seg), 50)):
            records.append(guard(seg.__getitem__, i))
    elif seg.kind != "approximate multimap":
        def keys():
            return list(seg.items())
        for item in guard(keys) or []:
            records.extend(item[1] if isinstance(item[1], list) else [item[1]])
    if seg.kind != "array":
        for name in ("Ada Lovelace", "Grace Hopper", "kA", "k3", 1, 3, "a", "c"):
            got = guard(seg.get, name)
            records.extend(got if isinstance(got, list) else [got])
            guard(seg.__contains__, name)
    opened[0] += 1
    for rec in records:
        if rec is None:
            continue
        guard(rec.to_json)
        guard(rec.to_python)
        guard(repr, rec)
        guard(walk, rec)
    guard(seg.verify)
    return errors


def variants(data, flips, seed):
    rng = random.Random(seed)
    n = len(data)
    for size in sorted({0, 1, 8, 63, 64, 65, 127, 128, 255, 256, 4095, 4096, n // 2, n - 1,
                        *rng.sample(range(n), min(40, n))}):
        if size < n:
            yield bytes(data[:size])
    for _ in range(flips):
        b = bytearray(data)
        for _ in range(rng.choice((1, 1, 2, 8))):
            pos = rng.randrange(n)
            b[pos] = rng.choice((b[pos] ^ (1 << rng.randrange(8)), 0, 0xFF, rng.randrange(256)))
        yield bytes(b)


@pytest.fixture(scope="module")
def segments(tmp_path_factory):
    d = tmp_path_factory.mktemp("corrupt")
    out = [build_from_files(SAMPLE / "schema.yaml", SAMPLE / "people.jsonl", "Person",
                            d / "array.mapfs"),
           build_from_files(SAMPLE / "schema.yaml", SAMPLE / "people.jsonl", "Person",
                            d / "by_name.mapfs", key="name")]
    schema = "structs:\n  T:\n    fields: {name: str, id: uint64, tags: \"list<str>\"}\n"
    recs = [{"name": f"k{i % 5}", "id": i, "tags": ["a"] * (i % 3)} for i in range(12)]
    out.append(build_segment(d, schema, "T", recs, key="name", multi=True, name="multi"))
    out.append(build_segment(d, schema, "T", recs, key="name", approx=True, name="approx"))
    out.append(build_segment(d, schema, "T", recs[:5], key="id", name="by_id"))
    out.append(build_segment(d, test_read_values.SCHEMA, "V", test_read_values.RECORDS,
                             key="k", name="values"))
    return out


@pytest.mark.parametrize("which", range(6))
def test_corrupt_segments_raise_only_documented_errors(segments, which):
    data = segments[which].read_bytes()
    assert exercise(data) == 0  # the intact file reads cleanly
    failures = 0
    count = 0
    opened[0] = 0
    for variant in variants(data, flips=200, seed=which):
        failures += exercise(variant) > 0
        count += 1
    assert count >= 100
    assert opened[0] >= count // 5, (opened[0], count)
    assert failures > 0  # the sweep does reach corruption


def test_header_bytes_one_by_one(segments):
    data = segments[1].read_bytes()
    for pos in range(min(256, len(data))):
        b = bytearray(data)
        b[pos] ^= 0x5A
        exercise(bytes(b))
