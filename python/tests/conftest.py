"""The module under test is the build tree's (PYTHONPATH=build/python). The
CLI helpers (building segments with `mapfs build`, running code in threads)
are the integration suite's, shared from integration/mapfs_testlib.py."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "integration"))
