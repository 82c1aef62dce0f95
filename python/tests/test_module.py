"""The module imports from the build tree and its error classes nest as documented."""
import mapfs


def test_corruption_error_is_a_mapfs_error_and_a_value_error():
    assert issubclass(mapfs.CorruptionError, mapfs.Error)
    assert issubclass(mapfs.CorruptionError, ValueError)
    assert not issubclass(mapfs.Error, ValueError)
