"""mapfs.shared: SharedArray's functions on mapfs shared arrays (docs/python.md, "Arrays";
the format is docs/arrays.md)."""
import errno
import multiprocessing
import os
import pathlib
import struct
import subprocess
import uuid

import numpy as np
import pytest

import mapfs
from mapfs import shared
from mapfs_testlib import run_concurrently

REPO = pathlib.Path(__file__).resolve().parents[2]
HEADER = 4096


@pytest.fixture
def name():
    """A fresh shm name, removed after the test."""
    n = f"mapfs-pytest-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    yield n
    try:
        shared.delete(n)
    except FileNotFoundError:
        pass


def mapfs_bin():
    path = os.environ.get("MAPFS_BIN", str(REPO / "build" / "cli" / "mapfs"))
    if not os.path.exists(path):
        pytest.skip(f"no mapfs command at {path} (set MAPFS_BIN)")
    return path


def test_create_attach_share_memory(name):
    a = shared.create("shm://" + name, 10)
    assert a.dtype == np.float64 and a.shape == (10,) and a.flags.writeable
    assert not a.any()
    b = shared.attach(name)  # a bare name is shm://
    a[0] = 42
    assert b[0] == 42
    b[9] = -1
    assert a[9] == -1
    assert a.ctypes.data % 4096 == 0  # page-aligned data
    assert not np.shares_memory(a, np.zeros(1))
    assert os.path.getsize(f"/dev/shm/{name}") >= HEADER + 80


def test_shapes_and_dtypes(name):
    for i, (shape, dtype) in enumerate([((3, 4), "f4"), ((), np.int16), ((2, 0, 5), bool),
                                        ([2, 2], np.uint64), (7, int), (np.int64(3), "i1")]):
        n = f"{name}-{i}"
        try:
            a = shared.create(n, shape, dtype)
            want = np.zeros(shape, dtype)
            assert a.shape == want.shape and a.dtype == want.dtype
            b = shared.attach(n)
            assert b.shape == want.shape and b.dtype == want.dtype
        finally:
            shared.delete(n)


def test_bad_arguments(name):
    with pytest.raises(TypeError):
        shared.create(name, 3, np.complex128)
    with pytest.raises(TypeError):
        shared.create(name, 3, ">f8")
    with pytest.raises(TypeError):
        shared.create(name, 3, "U4")
    with pytest.raises(ValueError):
        shared.create(name, (3, -1))
    with pytest.raises(TypeError):
        shared.create(name, "3")
    with pytest.raises(TypeError):
        shared.create(b"x", 3)
    with pytest.raises(ValueError):
        shared.create("shm://a/b", 3)
    with pytest.raises(ValueError):
        shared.create("http://x", 3)
    assert not os.path.exists(f"/dev/shm/{name}")


def test_too_large_arrays_fail_at_create_and_leave_nothing(name):
    with pytest.raises(OSError) as e:
        shared.create(name, 2**46, "u1")  # far beyond any /dev/shm: ENOSPC, not SIGBUS later
    assert e.value.errno in (errno.ENOSPC, errno.EFBIG, errno.ENOMEM)
    assert not os.path.exists(f"/dev/shm/{name}")
    with pytest.raises(ValueError, match="too large"):
        shared.create(name, (2**40, 2**40), "u1")
    assert not os.path.exists(f"/dev/shm/{name}")


def test_errors_for_missing_and_existing_arrays(name):
    with pytest.raises(FileNotFoundError):
        shared.attach(name)
    with pytest.raises(FileNotFoundError):
        shared.delete(name)
    shared.create(name, 2)
    with pytest.raises(FileExistsError):
        shared.create(name, 2)
    with pytest.raises(FileExistsError):
        shared.create("shm://" + name, 5, "i4")
    assert shared.attach(name).shape == (2,)


def test_read_only_attach(name):
    a = shared.create(name, 4, "i4")
    a[:] = [1, 2, 3, 4]
    ro = shared.attach(name, ro=True)
    assert not ro.flags.writeable
    with pytest.raises(ValueError):
        ro[0] = 5
    with pytest.raises(ValueError):
        ro.setflags(write=True)  # the mapping is PROT_READ: numpy must not allow it
    assert ro.tolist() == [1, 2, 3, 4]
    a[0] = 9
    assert ro[0] == 9


def test_data_outlives_the_name_and_the_first_array(name):
    a = shared.create(name, 3)
    b = shared.attach(name)
    view = b[1:]
    a[:] = [1.0, 2.0, 3.0]
    del a
    shared.delete(name)
    assert not os.path.exists(f"/dev/shm/{name}")
    assert b.tolist() == [1.0, 2.0, 3.0]
    del b
    view[0] = 5.0  # the slice alone keeps the mapping
    assert view.tolist() == [5.0, 3.0]
    shared.msync(view, shared.MS_SYNC)  # still finds its mapping
    base = view
    while isinstance(base, np.ndarray):
        base = base.base
    assert type(base).__name__ == "_SharedMapping" and base.uri == "shm://" + name
    with pytest.raises(FileNotFoundError):
        shared.attach(name)


def test_list(name):
    shared.create(name, (2, 3), "u2")
    found = [d for d in shared.list() if d.name == name]
    assert len(found) == 1
    desc = found[0]
    assert desc.dtype == np.dtype("u2") and desc.shape == (2, 3)
    assert desc == (name, np.dtype("u2"), (2, 3))
    names = [d.name for d in shared.list()]
    assert names == sorted(names)


def test_file_arrays_and_msync(tmp_path):
    path = tmp_path / "x.arr"
    a = shared.create(f"file://{path}", (2, 2), "f8")
    a[:] = [[1, 2], [3, 4]]
    for flags in (shared.MS_SYNC, shared.MS_ASYNC, shared.MS_SYNC | shared.MS_INVALIDATE):
        shared.msync(a, flags)
    shared.msync(a[1], shared.MS_SYNC)  # a view of it
    data = path.read_bytes()
    assert data[:8] == b"MAPFSARR"
    assert struct.unpack("<4d", data[HEADER:HEADER + 32]) == (1.0, 2.0, 3.0, 4.0)
    b = shared.attach(f"file://{path}", ro=True)
    assert b.tolist() == [[1, 2], [3, 4]]
    shared.delete(f"file://{path}")
    assert not path.exists()
    assert mapfs.MS_SYNC == shared.MS_SYNC and mapfs.MS_ASYNC == shared.MS_ASYNC
    assert mapfs.MS_INVALIDATE == shared.MS_INVALIDATE


def test_mlock_and_munlock(name):
    a = shared.create(name, 100, "u1")
    try:
        shared.mlock(a)
    except OSError as e:  # an RLIMIT_MEMLOCK below one page is the machine's, not ours
        pytest.skip(f"mlock not allowed here: {e}")
    shared.munlock(a)
    shared.mlock(a[10:])
    shared.munlock(a)


def test_sync_functions_need_a_shared_array():
    for f in (lambda x: shared.msync(x, shared.MS_SYNC), shared.mlock, shared.munlock):
        with pytest.raises(TypeError):
            f(np.zeros(3))
        with pytest.raises(TypeError):
            f([1, 2])


# ---- hostile objects: errors, never SIGBUS ----

def header(dtype=9, ndim=1, shape=(4,), data_offset=HEADER, data_size=None, magic=b"MAPFSARR",
           version=1):
    if data_size is None:
        data_size = int(np.prod(shape)) * 8
    dims = list(shape) + [0] * (32 - len(shape))
    h = magic + struct.pack("<IBBHQQ", version, dtype, ndim, 0, data_offset, data_size)
    h += struct.pack("<32Q", *dims)
    return h + bytes(HEADER - len(h))


@pytest.mark.parametrize("content", [
    b"",
    b"MAPFSARR",
    header()[:100],
    header()[:HEADER],  # data missing: the object is truncated
    header() + bytes(31),  # one byte short
    header(magic=b"NOTMAPFS") + bytes(32),
    header(dtype=99) + bytes(32),
    header(ndim=40) + bytes(32),
    header(data_size=1) + bytes(32),
    header(data_offset=100) + bytes(32),
    header(data_offset=2**63) + bytes(32),
    header(shape=(2**62, 2**62), ndim=2, data_size=0) + bytes(32),
    header(shape=(0, 2**64 - 1), ndim=2, data_size=0),  # empty, but no numpy shape
], ids=lambda c: f"{len(c)}bytes")
def test_bad_files_are_corruption_errors(tmp_path, content):
    path = tmp_path / "bad.arr"
    path.write_bytes(content)
    with pytest.raises(mapfs.CorruptionError, match="bad.arr"):
        shared.attach(f"file://{path}")
    with pytest.raises(mapfs.CorruptionError):
        shared.attach(f"file://{path}", ro=True)


def test_a_good_handmade_header_attaches(tmp_path):
    path = tmp_path / "good.arr"
    path.write_bytes(header() + struct.pack("<4d", 1, 2, 3, 4))
    assert shared.attach(f"file://{path}").tolist() == [1, 2, 3, 4]


def test_unknown_version_is_a_mapfs_error(tmp_path):
    path = tmp_path / "v9.arr"
    path.write_bytes(header(version=9) + bytes(32))
    with pytest.raises(mapfs.Error):
        shared.attach(f"file://{path}")


def test_truncated_shm_object_and_foreign_objects(name):
    a = shared.create(name, 1000, "f8")
    a[-1] = 1.0
    os.truncate(f"/dev/shm/{name}", HEADER + 100)  # someone else cut it
    with pytest.raises(mapfs.CorruptionError):
        shared.attach(name)
    foreign = name + "-foreign"
    with open(f"/dev/shm/{foreign}", "wb") as f:
        f.write(b"not an array" * 1000)
    try:
        with pytest.raises(mapfs.CorruptionError):
            shared.attach(foreign)
        with pytest.raises(ValueError):
            shared.delete(foreign)  # not ours: kept
        assert os.path.exists(f"/dev/shm/{foreign}")
        assert foreign not in [d.name for d in shared.list()]
    finally:
        os.unlink(f"/dev/shm/{foreign}")


# ---- across processes ----

def _child_writes(n, ready, done):
    b = shared.attach(n)
    b[5] = 123.0
    ready.set()
    done.wait(10)
    # The parent's write after attach is seen here.
    assert b[6] == 7.0, b[6]


def test_writes_are_seen_by_another_process(name):
    a = shared.create(name, 10)
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter, no inherited mapping
    ready, done = ctx.Event(), ctx.Event()
    p = ctx.Process(target=_child_writes, args=(name, ready, done))
    p.start()
    try:
        assert ready.wait(30)
        assert a[5] == 123.0
        a[6] = 7.0
        done.set()
        p.join(30)
        assert p.exitcode == 0
    finally:
        if p.is_alive():
            p.kill()


def test_fork_child_sees_and_writes(name):
    a = shared.create(name, 4, "i8")
    a[0] = 11
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            b = shared.attach(name)
            ok = a[0] == 11 and b[0] == 11
            b[1] = 22
            os.write(w, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(w)
    assert os.read(r, 1) == b"1"
    os.close(r)
    os.waitpid(pid, 0)
    assert a[1] == 22


def test_threads_create_attach_and_delete(name):
    def work(k):
        n = f"{name}-t{k}"
        for _ in range(20):
            x = shared.create(n, (64, 64), "f4")
            x[k] = k
            y = shared.attach(n)
            assert y[k, 0] == k
            shared.msync(y, shared.MS_ASYNC)
            shared.delete(n)

    run_concurrently(work, 4)


# ---- the mapfs shm command ----

def test_cli_lists_and_reads_an_array_made_in_python(name):
    exe = mapfs_bin()
    shared.create(name, (1000, 64), "float32")
    out = subprocess.run([exe, "shm", "list"], check=True, capture_output=True, text=True).stdout
    assert f"{name}\tfloat32\t1000,64" in out.splitlines()
    info = subprocess.run([exe, "shm", "info", "shm://" + name], check=True, capture_output=True,
                          text=True).stdout
    assert "dtype: float32" in info and "data_size: 256000" in info
    subprocess.run([exe, "shm", "remove", "shm://" + name], check=True)
    with pytest.raises(FileNotFoundError):
        shared.attach(name)


def test_cli_reads_a_file_array_made_in_python(tmp_path):
    exe = mapfs_bin()
    uri = f"file://{tmp_path}/frames.arr"
    shared.create(uri, (), "bool")
    info = subprocess.run([exe, "shm", "info", uri], check=True, capture_output=True,
                          text=True).stdout
    assert "dtype: bool" in info and "shape: ()" in info and "elements: 1" in info


def test_python_attaches_an_array_made_by_the_cli(name):
    exe = mapfs_bin()
    subprocess.run([exe, "shm", "create", "shm://" + name, "--shape", "3,4", "--dtype", "int16"],
                   check=True)
    a = shared.attach(name)
    assert a.shape == (3, 4) and a.dtype == np.int16 and not a.any()
    a[2, 3] = -5
    assert shared.attach(name)[2, 3] == -5
    r = subprocess.run([exe, "shm", "create", "shm://" + name, "--shape", "1"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "already exists" in r.stderr
