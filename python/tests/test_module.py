"""The module imports from the build tree and says what it is."""
import mapfs


def test_module_has_documentation():
    assert "Typed mapped files" in mapfs._mapfs.__doc__
