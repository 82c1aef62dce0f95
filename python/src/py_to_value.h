// Python value → mapfs::Value, guided by a schema type: the one conversion
// used for lookup keys (segment keys, dict keys, set members) and for the
// records given to mapfs.build / mapfs.pack (docs/python.md, "Building").
#ifndef MAPFS_PYTHON_PY_TO_VALUE_H_
#define MAPFS_PYTHON_PY_TO_VALUE_H_

#include <Python.h>

#include "mapfs/types.h"
#include "mapfs/value.h"

namespace mapfs::python {

// Converts `obj` to a Value of `type` (a type of `schema`) into *out and
// returns true; on failure sets a Python exception and returns false:
// TypeError for a value of the wrong Python type, ValueError (or
// OverflowError's ValueError sibling, as ValueError) for a right-typed value
// that does not fit. The message names the place inside the value and then
// the problem, e.g.
//   field "home": field "x": expected float64, got str 'abc'
//   [3]: expected int32, got int 4294967296 (out of range)
// so that a caller prefixes only its own context ("record 17: ").
//
// Accepted (docs/python.md): ints (and numpy integers) for int kinds; floats
// and ints for floats; bool (and numpy.bool_) for bool; str; bytes,
// bytearray, memoryview for bytes; datetime.date for date; datetime.datetime
// for datetime (naive = UTC, aware converted); decimal.Decimal, int, str or
// float (by its repr) for decimal; lists, tuples and views for list/tuple;
// any set, frozenset, list or tuple for frozenset; dicts and dict views for
// dict; numpy arrays (or nested lists) for ndarray; a dict, a record view or
// an object with the fields as attributes for a struct (None or a missing
// attribute = absent field); anything above for `object`. Requires the GIL.
bool PyToValue(PyObject* obj, const Type& type, const Schema& schema, Value* out);

}  // namespace mapfs::python

#endif  // MAPFS_PYTHON_PY_TO_VALUE_H_
