"""Random sequences of operations give the same items and errors on mapfs.TypedArray as on
array.array (seeded, so a failure replays)."""
import array
import random

import pytest

from mapfs import TypedArray


def random_slice(rng, n):
    def bound():
        return rng.choice([None, rng.randint(-n - 3, n + 3)])
    return slice(bound(), bound(), rng.choice([None, 1, 1, 2, 3, -1, -2]))


def random_value(rng, tc):
    if tc in "fd":
        return rng.choice([0.0, 1.5, -2.25, float(rng.randint(-100, 100))])
    return rng.randint(0, 100) if tc.isupper() else rng.randint(-100, 100)


def apply(rng, tc, ref, a, ops):
    """One random operation on both; returns (result or exception type) for each."""
    n = len(ref)
    op = rng.choice(ops)
    v = random_value(rng, tc)
    s = random_slice(rng, n)
    i = rng.randint(-n - 2, n + 2)
    k = rng.randint(0, 5)
    src = [random_value(rng, tc) for _ in range(k)]
    actions = {
        "append": lambda x: x.append(v),
        "extend": lambda x: x.extend(src),
        "insert": lambda x: x.insert(i, v),
        "pop": lambda x: x.pop(i) if n else x.pop(),
        "remove": lambda x: x.remove(v),
        "index": lambda x: x.index(v),
        "count": lambda x: x.count(v),
        "reverse": lambda x: x.reverse(),
        "get": lambda x: x[i],
        "set": lambda x: x.__setitem__(i, v),
        "del": lambda x: x.__delitem__(i),
        "getslice": lambda x: x[s].tolist(),
        "setslice": lambda x: x.__setitem__(s, array.array(tc, src)),
        "delslice": lambda x: x.__delitem__(s),
        "contains": lambda x: v in x,
        "frombytes": lambda x: x.frombytes(array.array(tc, src).tobytes()),
    }
    results = []
    for x in (ref, a):
        try:
            results.append(actions[op](x))
        except Exception as e:  # noqa: BLE001 - compared below
            results.append(type(e))
    return op, results


@pytest.mark.parametrize("tc", "bBhHiIlLqQfd")
def test_random_operations_match_array_array(tc):
    rng = random.Random(f"mapfs-{tc}")
    ref, a = array.array(tc), TypedArray(tc)
    ops = ["append", "extend", "insert", "pop", "remove", "index", "count", "reverse", "get",
           "set", "del", "getslice", "setslice", "delslice", "contains", "frombytes"]
    for step in range(1500):
        op, (want, got) = apply(rng, tc, ref, a, ops)
        assert got == want, f"step {step}: {op}: array.array {want!r}, TypedArray {got!r}"
        assert a.tolist() == ref.tolist(), f"step {step} ({op})"
        assert a.tobytes() == ref.tobytes()
