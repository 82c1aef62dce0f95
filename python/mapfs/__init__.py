"""mapfs: typed mapped files from Python (docs/python.md)."""
from mapfs._mapfs import *  # noqa: F401,F403
from mapfs._mapfs import Error, CorruptionError  # noqa: F401
from mapfs import shared  # noqa: F401
