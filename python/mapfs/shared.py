"""Named shared arrays with SharedArray's function names (docs/python.md)."""
