"""mapfs.TypedArray behaves as array.array on a mapping (docs/python.md, "Arrays")."""
import array
import copy
import errno
import os
import pickle
import struct
import threading

import numpy as np
import pytest

import mapfs
from mapfs import TypedArray

TYPECODES = "bBhHiIlLqQfd"
# (typecode, struct format of one little-endian item, min, max) of the integer typecodes.
INT_RANGES = {
    "b": ("<b", -2**7, 2**7 - 1), "B": ("<B", 0, 2**8 - 1),
    "h": ("<h", -2**15, 2**15 - 1), "H": ("<H", 0, 2**16 - 1),
    "i": ("<i", -2**31, 2**31 - 1), "I": ("<I", 0, 2**32 - 1),
    "l": ("<q", -2**63, 2**63 - 1), "L": ("<Q", 0, 2**64 - 1),
    "q": ("<q", -2**63, 2**63 - 1), "Q": ("<Q", 0, 2**64 - 1),
}


def both(typecode, items=()):
    """The same items in an array.array and an anonymous TypedArray."""
    return array.array(typecode, items), TypedArray(typecode, items)


# ---- construction ----

@pytest.mark.parametrize("tc", TYPECODES)
def test_every_typecode_round_trips_its_extremes(tc):
    if tc in INT_RANGES:
        fmt, lo, hi = INT_RANGES[tc]
        items = [lo, 0, hi]
    else:
        fmt = "<" + tc
        items = [-1.5, 0.0, 3.25]
    a = TypedArray(tc, items)
    assert a.typecode == tc
    assert a.itemsize == struct.calcsize(fmt)
    assert a.tolist() == items
    assert a.tobytes() == b"".join(struct.pack(fmt, x) for x in items)
    assert len(a) == 3


def test_bad_typecodes_raise_like_array_array():
    with pytest.raises(ValueError):
        array.array("z")
    with pytest.raises(ValueError, match="bad typecode"):
        TypedArray("z")
    with pytest.raises(ValueError):
        TypedArray("u")  # no unicode arrays
    with pytest.raises(TypeError):
        TypedArray(1)
    with pytest.raises(TypeError):
        TypedArray("ii")


def test_initializers():
    assert TypedArray("i", range(5)).tolist() == [0, 1, 2, 3, 4]
    assert TypedArray("i", (x * 2 for x in range(3))).tolist() == [0, 2, 4]
    assert TypedArray("H", b"\x01\x00\x02\x01").tolist() == [1, 258]
    assert TypedArray("d", array.array("d", [1.5])).tolist() == [1.5]
    assert TypedArray("i", TypedArray("i", [7])).tolist() == [7]
    with pytest.raises(TypeError):
        TypedArray("i", "abc")
    with pytest.raises(TypeError):
        TypedArray("i", array.array("d", [1.0]))


# ---- values: array.array's errors ----

@pytest.mark.parametrize("tc", [t for t in TYPECODES if t in INT_RANGES])
def test_out_of_range_ints_are_overflow_errors(tc):
    _, lo, hi = INT_RANGES[tc]
    a = TypedArray(tc, [0])
    for bad in (lo - 1, hi + 1, 2**200, -2**200):
        with pytest.raises(OverflowError):
            a.append(bad)
        with pytest.raises(OverflowError):
            a[0] = bad
        with pytest.raises(OverflowError):
            a.insert(0, bad)
    assert a.tolist() == [0]


def test_wrong_value_types_are_type_errors():
    ref, a = both("i", [1])
    for bad in (1.0, "1", None, b"1", [1]):
        with pytest.raises(TypeError):
            ref.append(bad)
        with pytest.raises(TypeError):
            a.append(bad)
    with pytest.raises(TypeError):
        TypedArray("d").append("x")
    assert a.tolist() == [1]


def test_index_objects_and_bools_are_ints_and_ints_are_floats():
    a = TypedArray("q", [True, np.int64(5), np.uint8(3)])
    assert a.tolist() == [1, 5, 3]
    assert all(type(x) is int for x in a)
    d = TypedArray("f", [1, np.float32(2.5), 2**20])
    assert d.tolist() == [1.0, 2.5, 1048576.0]
    assert all(type(x) is float for x in d)


def test_float_typecode_f_refuses_what_would_become_infinity():
    f = TypedArray("f")
    with pytest.raises(OverflowError):
        f.append(1e300)
    f.extend([float("inf"), float("-inf"), float("nan")])
    assert f[0] == float("inf") and f[1] == float("-inf") and f[2] != f[2]


def test_extend_is_all_or_nothing():
    a = TypedArray("b", [1])
    with pytest.raises(OverflowError):
        a.extend([2, 3, 1000])
    with pytest.raises(TypeError):
        a.extend([2, "x"])
    assert a.tolist() == [1]


# ---- the list-like API, against array.array ----

def test_operations_match_array_array():
    ref, a = both("i", [5, 1, 4, 1, 5, 9, 2, 6])
    for op in [
        lambda x: x.append(3),
        lambda x: x.extend([7, 8]),
        lambda x: x.insert(0, -1),
        lambda x: x.insert(-2, 42),
        lambda x: x.insert(100, 43),
        lambda x: x.insert(-100, 44),
        lambda x: x.remove(1),
        lambda x: x.reverse(),
        lambda x: x.pop(),
        lambda x: x.pop(0),
        lambda x: x.pop(-3),
    ]:
        r1, r2 = op(ref), op(a)
        assert r1 == r2
        assert a.tolist() == ref.tolist()
    assert a.index(5) == ref.index(5)
    assert a.index(5, 3) == ref.index(5, 3)
    assert a.index(5, -3) == ref.index(5, -3)
    assert a.count(5) == ref.count(5) and a.count(1.0) == ref.count(1.0)
    assert a.count(1.5) == 0 and a.count("x") == 0 and a.count(2**70) == 0
    assert (9 in a) and (9.0 in a) and (77 not in a) and ("9" not in a)
    assert list(a) == ref.tolist()
    assert a[0] == ref[0] and a[-1] == ref[-1]


def test_missing_values_and_bad_indices():
    a = TypedArray("i", [1, 2, 3])
    with pytest.raises(ValueError):
        a.remove(7)
    with pytest.raises(ValueError):
        a.index(7)
    with pytest.raises(ValueError):
        a.index(1, 1)
    for i in (3, -4, 2**70):
        with pytest.raises(IndexError):
            a[i]
        with pytest.raises(IndexError):
            a[i] = 0
        with pytest.raises(IndexError):
            del a[i]
        with pytest.raises(IndexError if i < 2**63 else OverflowError):
            a.pop(i)
    with pytest.raises(TypeError):
        a["x"]
    with pytest.raises(TypeError):
        a[1.0]
    with pytest.raises(IndexError):
        TypedArray("i").pop()
    assert a.tolist() == [1, 2, 3]


def test_byteswap_buffer_info_and_bytes():
    ref, a = both("I", [1, 0x01020304])
    ref.byteswap()
    a.byteswap()
    assert a.tobytes() == ref.tobytes()
    addr, n = a.buffer_info()
    assert n == 2 and addr != 0
    a.frombytes(b"\xff\xff\xff\xff")
    assert a[-1] == 0xFFFFFFFF
    a.frombytes(memoryview(b"\x01\x00\x00\x00"))
    assert a[-1] == 1
    with pytest.raises(ValueError):
        a.frombytes(b"\x00\x00\x00")
    a.fromlist([5])
    assert a[-1] == 5
    with pytest.raises(TypeError):
        a.fromlist((5,))


def test_tofile_and_fromfile(tmp_path):
    a = TypedArray("h", range(-5, 5))
    with open(tmp_path / "x", "wb") as f:
        a.tofile(f)
    b = TypedArray("h")
    with open(tmp_path / "x", "rb") as f:
        b.fromfile(f, 4)
        assert b.tolist() == [-5, -4, -3, -2]
        with pytest.raises(EOFError):
            b.fromfile(f, 100)
    assert b.tolist() == list(range(-5, 5))


# ---- slices ----

SLICES = [slice(None), slice(1, 4), slice(-3, None), slice(None, None, 2), slice(None, None, -1),
          slice(5, 1, -2), slice(100, 200), slice(-100, 2), slice(1, 6, 3), slice(4, 4)]


@pytest.mark.parametrize("s", SLICES, ids=str)
def test_slices_read_like_array_array(s):
    ref, a = both("d", [0.5 * i for i in range(8)])
    got = a[s]
    assert isinstance(got, TypedArray) and got.typecode == "d" and got.path is None
    assert got.tolist() == ref[s].tolist()
    got.append(1.0)  # a copy, as array.array's slices are
    assert a.tolist() == ref.tolist()


@pytest.mark.parametrize("s", SLICES, ids=str)
def test_slice_deletion_like_array_array(s):
    ref, a = both("B", range(8))
    del ref[s]
    del a[s]
    assert a.tolist() == ref.tolist()


@pytest.mark.parametrize("src", [lambda: array.array("i", [7, 8, 9]),
                                 lambda: TypedArray("i", [7, 8, 9]),
                                 lambda: [7, 8, 9]], ids=["array", "TypedArray", "list"])
def test_slice_assignment_from_arrays_and_lists(src):
    ref, a = both("i", range(6))
    ref[1:3] = array.array("i", [7, 8, 9])
    a[1:3] = src()
    assert a.tolist() == ref.tolist()  # grew
    ref[::2] = array.array("i", [0, 0, 0, 0])
    a[::2] = [0, 0, 0, 0]
    assert a.tolist() == ref.tolist()
    a[:] = a  # itself
    assert a.tolist() == ref.tolist()
    a[2:] = []
    assert a.tolist() == ref.tolist()[:2]


def test_an_empty_array_assigned_to_an_extended_slice_deletes_it():
    for s in (slice(None, None, 2), slice(None, None, -1), slice(5, 0, -2), slice(4, 1, 1)):
        ref, a = both("i", range(6))
        ref[s] = array.array("i")
        a[s] = []
        assert a.tolist() == ref.tolist(), s


def test_slice_assignment_needs_the_same_typecode_and_length():
    a = TypedArray("I", [1, 1, 1, 1])
    a[2:4] = array.array("I", (2, 2))
    assert a.tolist() == [1, 1, 2, 2]
    with pytest.raises(TypeError):
        a[2:4] = array.array("b", (3, 3))
    with pytest.raises(TypeError):
        a[2:4] = TypedArray("i", (3, 3))
    with pytest.raises(TypeError):
        a[2:4] = (3, 3)
    with pytest.raises(ValueError):
        a[::2] = [1, 2, 3]  # extended slice of 2
    with pytest.raises(OverflowError):
        a[0:1] = [-1]
    assert a.tolist() == [1, 1, 2, 2]


# ---- comparisons and operators ----

def test_equality_with_arrays_and_lists():
    a = TypedArray("i", [1, 2, 3])
    assert a == TypedArray("i", [1, 2, 3])
    assert a == TypedArray("q", [1, 2, 3])
    assert a == array.array("i", [1, 2, 3])
    assert a == [1, 2, 3] and a == [1.0, 2.0, 3.0]
    assert a != [1, 2] and a != TypedArray("i", [1, 2, 4]) and not (a == (1, 2, 3))
    assert a < [1, 2, 4] and a >= TypedArray("B", [1, 2])
    nan = TypedArray("d", [float("nan")])
    assert nan != nan and nan != array.array("d", [float("nan")])
    with pytest.raises(TypeError):
        hash(a)


def test_operators():
    a = TypedArray("h", [1, 2])
    b = a + TypedArray("h", [3])
    assert b.tolist() == [1, 2, 3] and a.tolist() == [1, 2]
    assert (a + array.array("h", [4])).tolist() == [1, 2, 4]
    with pytest.raises(TypeError):
        a + [3]
    with pytest.raises(TypeError):
        a + TypedArray("i", [3])
    assert (a * 3).tolist() == [1, 2] * 3 and (2 * a).tolist() == [1, 2] * 2
    assert (a * 0).tolist() == [] and (a * -1).tolist() == []
    c = a
    a += TypedArray("h", [5])
    assert a is c and a.tolist() == [1, 2, 5]
    with pytest.raises(TypeError):
        a += [6]
    a *= 2
    assert a is c and a.tolist() == [1, 2, 5, 1, 2, 5]
    a *= 0
    assert a.tolist() == []


def test_repr_copy_and_pickle():
    a = TypedArray("i", [1, -2])
    assert repr(a) == "TypedArray('i', [1, -2])"
    assert repr(TypedArray("d")) == "TypedArray('d')"
    big = TypedArray("B", bytes(5000))
    assert repr(big).endswith(", ...], len=5000)")
    c = copy.copy(a)
    c.append(3)
    assert a.tolist() == [1, -2]
    assert copy.deepcopy(a).tolist() == [1, -2]
    p = pickle.loads(pickle.dumps(a))
    assert isinstance(p, TypedArray) and p.typecode == "i" and p.tolist() == [1, -2]


def test_iteration_stops_when_the_array_shrinks():
    a = TypedArray("i", range(5))
    it = iter(a)
    assert next(it) == 0
    del a[1:]
    assert list(it) == []


# ---- the buffer protocol ----

@pytest.mark.parametrize("tc", TYPECODES)
def test_numpy_and_memoryview_share_memory(tc):
    a = TypedArray(tc, [1, 2, 3])
    view = np.asarray(a)
    assert view.dtype == np.array(array.array(tc, [1])).dtype
    assert view.shape == (3,) and view.flags.writeable
    view[1] = 7
    assert a[1] == 7
    a[2] = 9
    assert view[2] == 9
    m = memoryview(a)
    assert m.format == tc and m.itemsize == a.itemsize and m.tolist() == a.tolist()
    m[0] = 5
    assert a[0] == 5


def test_growth_while_exported_is_a_buffer_error():
    a = TypedArray("q", range(10))
    ref = array.array("q", range(10))
    m, rm = memoryview(a), memoryview(ref)
    for op in [lambda x: x.append(1), lambda x: x.extend([1]), lambda x: x.insert(0, 1),
               lambda x: x.pop(), lambda x: x.remove(3), lambda x: x.frombytes(bytes(8)),
               lambda x: x.fromlist([1]), lambda x: x.__delitem__(0),
               lambda x: x.__delitem__(slice(0, 2)),
               lambda x: x.__setitem__(slice(0, 2), array.array("q", [1]))]:
        with pytest.raises(BufferError):
            op(ref)
        with pytest.raises(BufferError):
            op(a)
    with pytest.raises(BufferError):
        a *= 2
    with pytest.raises(BufferError):
        a.close()
    assert a.tolist() == list(range(10))
    # What keeps the length is allowed, as for array.array.
    a[0:2] = [7, 8]
    a.reverse()
    a[0] = 1
    assert m[0] == 1 and m[-1] == 7
    m.release()
    rm.release()
    a.append(11)
    assert a[-1] == 11
    v = np.asarray(a)
    with pytest.raises(BufferError):
        a.append(12)
    del v
    a.append(12)
    assert a.tolist() == [1, 8, 7, 6, 5, 4, 3, 2, 8, 7, 11, 12]


def test_frombytes_of_its_own_view_is_refused():
    a = TypedArray("i", [1, 2])
    with pytest.raises(BufferError):
        a.frombytes(memoryview(a))
    a.frombytes(a.tobytes())
    assert a.tolist() == [1, 2, 1, 2]


# ---- files ----

def test_file_backed_array_is_plain_little_endian(tmp_path):
    path = tmp_path / "ids.arr"
    with TypedArray("Q", [1, 2**64 - 1], path=path) as a:
        assert a.path == str(path)
        a.append(42)
    data = path.read_bytes()
    assert data == struct.pack("<3Q", 1, 2**64 - 1, 42)
    assert np.fromfile(path, "<u8").tolist() == [1, 2**64 - 1, 42]
    b = TypedArray("Q", path=str(path))  # reopened: items kept
    assert b.tolist() == [1, 2**64 - 1, 42]
    b.extend([7])
    b.flush()
    assert os.path.getsize(path) == 32
    b.close()
    assert b.closed
    b.close()  # twice is fine
    with pytest.raises(ValueError):
        len(b)
    with pytest.raises(ValueError):
        b.append(1)
    assert repr(b) == "<closed TypedArray('Q')>"
    assert TypedArray("Q", [5], path=path, mode="w").tolist() == [5]


def test_read_only_file(tmp_path):
    path = tmp_path / "ro.arr"
    path.write_bytes(struct.pack("<3i", 1, 2, 3))
    a = TypedArray("i", path=path, mode="r")
    assert a.readonly and a.tolist() == [1, 2, 3]
    with pytest.raises(OSError):
        a.append(4)
    with pytest.raises(OSError):
        a[0] = 4
    view = np.asarray(a)
    assert not view.flags.writeable and view.tolist() == [1, 2, 3]
    assert memoryview(a).readonly
    with pytest.raises(FileNotFoundError):
        TypedArray("i", path=tmp_path / "missing", mode="r")
    with pytest.raises(ValueError):
        TypedArray("i", path=path, mode="x")
    with pytest.raises(ValueError):
        TypedArray("i", mode="r")


@pytest.mark.parametrize("size", [1, 3, 4097])
def test_file_of_odd_size_is_a_corruption_error(tmp_path, size):
    path = tmp_path / "odd.arr"
    path.write_bytes(b"\xab" * size)
    for tc in "hiqd":
        with pytest.raises(mapfs.CorruptionError, match="odd.arr"):
            TypedArray(tc, path=path)
    # A byte array reads any length.
    assert len(TypedArray("B", path=path, mode="r")) == size


def test_hostile_files_never_crash(tmp_path):
    # Any bytes are valid items of a typecode whose size divides their length.
    rng = np.random.default_rng(7)
    for n in (0, 8, 16, 4096, 8192 + 8):
        path = tmp_path / f"rand{n}.arr"
        path.write_bytes(rng.integers(0, 256, n, dtype=np.uint8).tobytes())
        for tc in TYPECODES:
            if n % TypedArray(tc).itemsize:
                continue
            a = TypedArray(tc, path=path, mode="r")
            assert a.tobytes() == path.read_bytes()
            if tc not in "fd":  # NaN differs from itself
                assert a.tolist() == array.array(tc, path.read_bytes()).tolist()
            assert len(list(a)) == n // a.itemsize
            repr(a)
    with pytest.raises(OSError):
        TypedArray("i", path=tmp_path)  # a directory
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file"):
        TypedArray("i", path=fifo)


def test_growing_file_array_keeps_items(tmp_path):
    path = tmp_path / "big.arr"
    a = TypedArray("i", path=path)
    for chunk in range(20):
        a.extend(range(chunk * 1000, chunk * 1000 + 1000))
    assert len(a) == 20000 and a[12345] == 12345 and a[-1] == 19999
    a.close()
    assert os.path.getsize(path) == 80000


# ---- fork and threads ----

def test_anonymous_array_is_shared_with_a_forked_child():
    a = TypedArray("i", [0] * 10)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: write, tell the parent, exit without cleanup
        try:
            a[3] = 42
            a[9] = -7
            os.write(w, b"x")
        finally:
            os._exit(0)
    os.close(w)
    assert os.read(r, 1) == b"x"
    os.close(r)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert a[3] == 42 and a[9] == -7


def test_threads_appending_and_reading():
    a = TypedArray("q")
    errors = []

    def writer(base):
        try:
            for i in range(2000):
                a.append(base + i)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    def reader():
        try:
            for _ in range(200):
                n = len(a)
                if n:
                    a[n - 1]
                a.count(5)
                list(a[:50])
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(k * 10**6,)) for k in range(4)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(a) == 8000 and sorted(a) == sorted(k * 10**6 + i for k in range(4) for i in range(2000))


def test_flush_from_threads_while_others_append(tmp_path):
    a = TypedArray("d", path=tmp_path / "t.arr")
    stop = threading.Event()
    errors = []

    def flusher():
        try:
            while not stop.is_set():
                a.flush()
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    t = threading.Thread(target=flusher)
    t.start()
    try:
        for i in range(20000):
            a.append(float(i))
    finally:
        stop.set()
        t.join()
    assert not errors
    a.close()
    assert np.fromfile(tmp_path / "t.arr", "<f8").tolist() == [float(i) for i in range(20000)]


def test_subclasses_and_uninitialized_instances_are_safe():
    class Sub(TypedArray):
        pass

    s = Sub("i", [4, 5])
    s[0] = 6
    assert s[0] == 6 and s[-1] == 5 and len(s) == 2 and s == [6, 5]
    u = TypedArray.__new__(TypedArray)  # __init__ never ran
    for op in (lambda: u[0], lambda: len(u), lambda: memoryview(u), lambda: u.__setitem__(0, 1),
               lambda: u.append(1), lambda: list(u)):
        with pytest.raises((ValueError, TypeError)):
            op()


def test_a_file_is_open_once_writable_or_many_times_read_only(tmp_path):
    # A writable array's file is longer than its items while open and is
    # trimmed at close: a second mapping could fault past the new end.
    path = tmp_path / "one.arr"
    a = TypedArray("i", path=path)
    for i in range(5000):  # grows the file in steps, well past its items
        a.append(i)
    for mode in ("a", "w", "r"):
        with pytest.raises(OSError) as e:
            TypedArray("i", path=path, mode=mode)
        assert e.value.errno == errno.EBUSY and "one.arr" in str(e.value)
    a.close()
    r1 = TypedArray("i", path=path, mode="r")
    r2 = TypedArray("i", path=path, mode="r")
    assert r1[4999] == r2[4999] == 4999 and len(r1) == 5000
    with pytest.raises(OSError):
        TypedArray("i", path=path)
    r1.close()
    del r2
    with TypedArray("i", path=path) as w:
        assert len(w) == 5000
    TypedArray("i", path=path).append(1)  # dropped at once: released
    assert len(TypedArray("i", path=path)) == 5001
