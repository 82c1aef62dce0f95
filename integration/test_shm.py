"""End-to-end tests of `mapfs shm create|list|info|remove`, reading the data
with numpy the way another program would (docs/arrays.md)."""
import mmap
import os
import subprocess

import numpy as np
import pytest


def run(mapfs_bin, *args, check=True):
    proc = subprocess.run([mapfs_bin, "shm", *args], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"mapfs shm {' '.join(args)} failed: {proc.stderr}")
    return proc


def info(mapfs_bin, uri):
    out = run(mapfs_bin, "info", uri).stdout
    return dict(line.split(": ", 1) for line in out.splitlines())


def map_data(path, offset, size):
    """numpy view of a shared array's data, as any program can make one."""
    with open(path, "r+b") as f:
        m = mmap.mmap(f.fileno(), offset + size)
    return m


def test_create_list_info_read_remove(mapfs_bin, shm_name):
    uri = f"shm://{shm_name}"
    run(mapfs_bin, "create", uri, "--shape", "3,4", "--dtype", "float64")

    rows = [line.split("\t") for line in run(mapfs_bin, "list").stdout.splitlines()]
    assert [shm_name, "float64", "3,4"] in rows

    fields = info(mapfs_bin, uri)
    assert fields["uri"] == uri
    assert fields["dtype"] == "float64"
    assert fields["shape"] == "3,4"
    assert fields["elements"] == "12"
    assert fields["data_size"] == "96"
    offset = int(fields["data_offset"])
    assert offset % 4096 == 0
    assert os.path.getsize(f"/dev/shm/{shm_name}") == int(fields["object_size"])

    m = map_data(f"/dev/shm/{shm_name}", offset, 96)
    try:
        a = np.frombuffer(m, dtype="<f8", count=12, offset=offset).reshape(3, 4)
        assert not a.any()  # created zero-filled
        b = np.ndarray((3, 4), dtype="<f8", buffer=m, offset=offset)
        b[1, 2] = 6.5
        # A second, independent mapping sees the write: it is shared memory.
        m2 = map_data(f"/dev/shm/{shm_name}", offset, 96)
        c = np.frombuffer(m2, dtype="<f8", count=12, offset=offset).reshape(3, 4)
        assert c[1, 2] == 6.5
        del a, b, c
        m2.close()
    finally:
        m.close()

    run(mapfs_bin, "remove", uri)
    assert not os.path.exists(f"/dev/shm/{shm_name}")
    rows = [line.split("\t") for line in run(mapfs_bin, "list").stdout.splitlines()]
    assert all(row[0] != shm_name for row in rows)


@pytest.mark.parametrize("dtype,npdtype", [("int8", "i1"), ("uint16", "<u2"), ("int32", "<i4"),
                                           ("uint64", "<u8"), ("float32", "<f4"),
                                           ("bool", "?")])
def test_file_uri_is_readable_by_numpy(mapfs_bin, tmp_path, dtype, npdtype):
    path = tmp_path / "a.arr"
    uri = f"file://{path}"
    run(mapfs_bin, "create", uri, "--shape", "2,5", "--dtype", dtype)
    fields = info(mapfs_bin, uri)
    assert fields["dtype"] == dtype
    offset = int(fields["data_offset"])
    # np.memmap on the file at the reported offset is all a reader needs.
    a = np.memmap(path, dtype=npdtype, mode="r+", offset=offset, shape=(2, 5))
    assert a.shape == (2, 5) and not a.any()
    a[1, 4] = 1
    a.flush()
    del a
    raw = path.read_bytes()
    assert len(raw) == offset + int(fields["data_size"])
    assert np.frombuffer(raw, dtype=npdtype, offset=offset)[9] == 1
    run(mapfs_bin, "remove", uri)
    assert not path.exists()


def test_duplicate_create_fails(mapfs_bin, shm_name):
    run(mapfs_bin, "create", f"shm://{shm_name}", "--shape", "4")
    proc = run(mapfs_bin, "create", f"shm://{shm_name}", "--shape", "8", check=False)
    assert proc.returncode != 0
    assert proc.stderr.strip() == f"mapfs: shm://{shm_name}: already exists"
    # The original is untouched.
    assert info(mapfs_bin, shm_name)["shape"] == "4"


def test_missing_names_fail(mapfs_bin, shm_name):
    for cmd in ("info", "remove"):
        proc = run(mapfs_bin, cmd, f"shm://{shm_name}", check=False)
        assert proc.returncode != 0
        assert proc.stderr.strip() == f"mapfs: shm://{shm_name}: no such shared array"


def test_bad_arguments_fail(mapfs_bin, shm_name):
    for args in (["--shape", "3,x"], ["--shape", "3", "--dtype", "complex128"]):
        proc = run(mapfs_bin, "create", f"shm://{shm_name}", *args, check=False)
        assert proc.returncode != 0
        assert proc.stderr.startswith("mapfs: bad --")
    proc = run(mapfs_bin, "create", "http://x", "--shape", "3", check=False)
    assert proc.returncode != 0 and "unknown scheme" in proc.stderr
    assert not os.path.exists(f"/dev/shm/{shm_name}")


def test_info_rejects_corrupt_header(mapfs_bin, tmp_path):
    path = tmp_path / "c.arr"
    uri = f"file://{path}"
    run(mapfs_bin, "create", uri, "--shape", "16", "--dtype", "int64")
    raw = bytearray(path.read_bytes())
    raw[0] ^= 0xFF
    path.write_bytes(bytes(raw))
    proc = run(mapfs_bin, "info", uri, check=False)
    assert proc.returncode != 0
    assert proc.stderr.startswith(f"mapfs: {uri}: bad magic")
    # Not ours any more, so remove refuses to delete it.
    assert run(mapfs_bin, "remove", uri, check=False).returncode != 0
    assert path.exists()


def test_list_skips_foreign_objects(mapfs_bin, shm_name):
    with open(f"/dev/shm/{shm_name}", "wb") as f:
        f.write(b"not an array" * 1000)
    rows = [line.split("\t") for line in run(mapfs_bin, "list").stdout.splitlines()]
    assert all(row[0] != shm_name for row in rows)
