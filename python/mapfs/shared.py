"""Named shared arrays with SharedArray's function names (docs/python.md, "Arrays").

An array is named ``shm://NAME`` (POSIX shared memory, /dev/shm/NAME),
``file://PATH`` (a regular file) or a bare ``NAME`` (= ``shm://NAME``); the
format is in docs/arrays.md and ``mapfs shm`` manages the same arrays.

    a = mapfs.shared.create("shm://frames", (3, 4), dtype="f4")
    b = mapfs.shared.attach("frames")      # in any process
    a[0, 0] = 1.5                          # b sees it at once
    mapfs.shared.delete("frames")          # a and b stay valid
"""
import collections as _collections

import numpy as _np

from mapfs import _mapfs

__all__ = ["create", "attach", "delete", "list", "msync", "mlock", "munlock",
           "ArrayDesc", "MS_ASYNC", "MS_SYNC", "MS_INVALIDATE"]

MS_ASYNC = _mapfs.MS_ASYNC
MS_SYNC = _mapfs.MS_SYNC
MS_INVALIDATE = _mapfs.MS_INVALIDATE

ArrayDesc = _collections.namedtuple("ArrayDesc", ["name", "dtype", "shape"])
ArrayDesc.__doc__ = "A shared array in /dev/shm: name (without shm://), numpy dtype, shape."


def create(name, shape, dtype=float):
    """Creates a zero-filled array and returns a writable numpy array on it.

    ``shape`` and ``dtype`` are as for numpy.zeros; the dtype must be one of
    int8..int64, uint8..uint64, float32, float64 or bool (TypeError
    otherwise). FileExistsError if the name is taken.
    """
    return _mapfs._shared_create(name, shape, dtype)


def attach(name, ro=False):
    """A numpy array on an existing shared array (read-only if ``ro``).

    FileNotFoundError if there is none; mapfs.CorruptionError if the object
    is not a valid mapfs shared array (its header is checked against the
    object's size, so a truncated file is an error, never a SIGBUS).
    """
    return _mapfs._shared_attach(name, ro)


def delete(name):
    """Removes the name; arrays already attached stay valid until dropped.

    FileNotFoundError if there is none; ValueError (nothing removed) if the
    object is not a mapfs shared array.
    """
    _mapfs._shared_delete(name)


def list():  # noqa: A001 - SharedArray's name
    """The shm:// arrays as ArrayDesc(name, dtype, shape), sorted by name."""
    return [ArrayDesc(n, _np.dtype(d), s) for n, d, s in _mapfs._shared_list()]


def msync(array, flags):
    """msync(2) of the mapping under ``array`` (MS_ASYNC, MS_SYNC, MS_INVALIDATE).

    Only file:// arrays have anything to flush.
    """
    _mapfs._shared_msync(array, flags)


def mlock(array):
    """mlock(2) of the mapping under ``array``: keeps it in RAM."""
    _mapfs._shared_mlock(array)


def munlock(array):
    """munlock(2) of the mapping under ``array``."""
    _mapfs._shared_munlock(array)


