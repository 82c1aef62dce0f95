"""mapfs: typed mapped files from Python (docs/python.md)."""
import os as _os

from mapfs._mapfs import *  # noqa: F401,F403
from mapfs._mapfs import Error, CorruptionError  # noqa: F401
from mapfs._mapfs import open as _open_segment
from mapfs import shared  # noqa: F401
from mapfs.dataset import Dataset  # noqa: F401


def open(source):  # noqa: A001 (the module's documented name)
    """Opens a segment (a path or a buffer) or, for a directory holding a
    dataset.json, a dataset (docs/python.md). Bytes and other buffers are
    segments read in place."""
    if isinstance(source, (str, _os.PathLike)) and _os.path.isdir(source):
        return Dataset(_os.fsdecode(source))
    return _open_segment(source)

