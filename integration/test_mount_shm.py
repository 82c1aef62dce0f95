"""Mounting shared arrays (docs/layout.md, "Shared arrays"): a `shm://name`
or shared-array file source shows one `<name>.npy` file that numpy reads
with mmap_mode="r", and a fresh reader sees what other processes wrote."""
import errno
import mmap
import os
import subprocess
import sys
import uuid

import numpy as np
import pytest

from mapfs_testlib import mounted

WRITER = """
import mmap, sys
import numpy as np
path, offset, shape, value = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
shape = tuple(int(n) for n in shape.split(","))
with open(path, "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
a = np.ndarray(shape, dtype="<f8", buffer=m, offset=offset)
a[...] = np.arange(a.size, dtype="<f8").reshape(shape) + value
del a
m.close()
"""


def shm(mapfs_bin, *args):
    proc = subprocess.run([mapfs_bin, "shm", *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def data_offset(mapfs_bin, uri):
    fields = dict(line.split(": ", 1) for line in shm(mapfs_bin, "info", uri).splitlines())
    return int(fields["data_offset"])


def write_from_another_process(path, offset, shape, value):
    """Fills the array at `path` with arange + value from a separate process."""
    subprocess.run([sys.executable, "-c", WRITER, path, str(offset),
                    ",".join(map(str, shape)), str(value)], check=True, timeout=60)


def expected(shape, value):
    return np.arange(int(np.prod(shape)), dtype="<f8").reshape(shape) + value


def load_fresh(path):
    a = np.load(path, mmap_mode="r")
    out = np.array(a)  # a copy, so the mapping is gone before the next open
    assert isinstance(a, np.memmap)
    del a
    return out


def test_shm_source_shows_one_npy_file(mapfs_bin, shm_name, tmp_path):
    uri = f"shm://{shm_name}"
    shm(mapfs_bin, "create", uri, "--shape", "3,4", "--dtype", "float64")
    with mounted(mapfs_bin, uri, tmp_path / "mnt") as m:
        assert os.listdir(m.path) == [f"{shm_name}.npy"]
        path = m.path / f"{shm_name}.npy"
        raw = path.read_bytes()
        assert os.stat(path).st_size == len(raw)
        assert raw.startswith(b"\x93NUMPY\x01\x00")
        header_len = len(raw) - 96
        assert header_len % 64 == 0
        a = np.load(path, mmap_mode="r")
        assert isinstance(a, np.memmap)
        assert a.dtype == np.dtype("<f8") and a.shape == (3, 4)
        assert not a.any()
        del a


# no_open is overridden for mounts with arrays: it would keep pages across opens.
@pytest.mark.parametrize("options", [None, "no_open"])
def test_fresh_readers_see_writes_from_other_processes(mapfs_bin, shm_name, tmp_path, options):
    uri = f"shm://{shm_name}"
    shape = (3, 4)
    shm(mapfs_bin, "create", uri, "--shape", "3,4", "--dtype", "float64")
    offset = data_offset(mapfs_bin, uri)
    with mounted(mapfs_bin, uri, tmp_path / "mnt", options=options) as m:
        path = m.path / f"{shm_name}.npy"
        # Fill the kernel's page cache with the zeros first, both ways.
        assert not load_fresh(path).any()
        assert path.read_bytes()[-96:] == bytes(96)
        for value in (1.0, 100.5, -7.25):
            write_from_another_process(f"/dev/shm/{shm_name}", offset, shape, value)
            got = load_fresh(path)
            assert got.dtype == np.dtype("<f8") and got.shape == shape
            np.testing.assert_array_equal(got, expected(shape, value))
            assert path.read_bytes()[-96:] == expected(shape, value).tobytes()


def test_writes_to_the_mount_are_refused(mapfs_bin, shm_name, tmp_path):
    uri = f"shm://{shm_name}"
    shm(mapfs_bin, "create", uri, "--shape", "4", "--dtype", "int32")
    with mounted(mapfs_bin, uri, tmp_path / "mnt") as m:
        path = m.path / f"{shm_name}.npy"
        for flags in (os.O_WRONLY, os.O_RDWR, os.O_WRONLY | os.O_TRUNC):
            with pytest.raises(OSError) as e:
                os.open(path, flags)
            assert e.value.errno == errno.EROFS
        with pytest.raises(OSError) as e:
            open(m.path / "new.npy", "wb")
        assert e.value.errno == errno.EROFS
        with open(path, "rb") as f:
            with pytest.raises((OSError, PermissionError)):
                mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_WRITE)
        assert np.load(path, mmap_mode="r").tolist() == [0, 0, 0, 0]


def test_shared_array_files_mount_by_uri_and_by_path(mapfs_bin, tmp_path):
    arr = tmp_path / "frames.arr"
    shm(mapfs_bin, "create", f"file://{arr}", "--shape", "2,3", "--dtype", "float64")
    offset = data_offset(mapfs_bin, f"file://{arr}")
    for i, source in enumerate((f"file://{arr}", str(arr))):
        with mounted(mapfs_bin, source, tmp_path / f"mnt{i}") as m:
            assert os.listdir(m.path) == ["frames.npy"]
            write_from_another_process(str(arr), offset, (2, 3), float(i))
            np.testing.assert_array_equal(load_fresh(m.path / "frames.npy"),
                                          expected((2, 3), float(i)))


def test_directory_source_shows_array_files_as_npy(mapfs_bin, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    shm(mapfs_bin, "create", f"file://{src / 'grid.arr'}", "--shape", "2", "--dtype", "int64")
    (src / "notes.txt").write_text("not an array")
    with mounted(mapfs_bin, src, tmp_path / "mnt") as m:
        assert os.listdir(m.path) == ["grid.npy"]
        assert np.load(m.path / "grid.npy", mmap_mode="r").tolist() == [0, 0]


def test_missing_shm_source_fails_to_mount(mapfs_bin, tmp_path):
    (tmp_path / "mnt").mkdir()
    proc = subprocess.run([mapfs_bin, "mount", "-f", f"shm://mapfs-none-{uuid.uuid4().hex}",
                           str(tmp_path / "mnt")], capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    assert "shm://" in proc.stderr
    assert not os.path.ismount(tmp_path / "mnt")
