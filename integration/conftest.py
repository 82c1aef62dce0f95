"""Shared pytest fixtures for the mapfs integration suites."""
import os
import uuid

import pytest


@pytest.fixture(scope="session")
def mapfs_bin():
    """Path of the mapfs binary under test, from $MAPFS_BIN."""
    path = os.environ.get("MAPFS_BIN")
    if not path:
        pytest.fail("set MAPFS_BIN to the mapfs binary (e.g. build/cli/mapfs)")
    if not os.access(path, os.X_OK):
        pytest.fail(f"MAPFS_BIN={path} is not an executable file")
    # Absolute: tests run commands from other working directories.
    return os.path.abspath(path)


@pytest.fixture
def shm_name():
    """A unique shm name; the object is removed afterwards whatever happened."""
    name = f"mapfs-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    yield name
    try:
        os.unlink(f"/dev/shm/{name}")
    except FileNotFoundError:
        pass
