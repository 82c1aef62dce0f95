"""mapfs: typed mapped files from Python (docs/python.md)."""
from mapfs._mapfs import *  # noqa: F401,F403
