"""The module under test is the build tree's (PYTHONPATH=build/python)."""
