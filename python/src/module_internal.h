// What the extension's source files share. Each file registers its part of
// the module; the declarations below are the seams between them.
//
// Ownership: every view object holds a strong reference to an "owner" Python
// object that keeps the bytes and the Schema it points into alive (a Segment,
// or the holder made by mapfs.view for a caller's buffer). A view never
// outlives its bytes, whatever the caller closes or drops.
#ifndef MAPFS_PYTHON_MODULE_INTERNAL_H_
#define MAPFS_PYTHON_MODULE_INTERNAL_H_

#include <Python.h>
#include <pybind11/pybind11.h>

#include <memory>
#include <string>

#include "mapfs/record.h"
#include "mapfs/status.h"
#include "mapfs/types.h"

namespace mapfs::python {

// errors.cc: mapfs.Error (base), mapfs.CorruptionError (also a ValueError).
// A NotFound status maps to KeyError, InvalidArgument to ValueError,
// IOError to OSError with its errno, OutOfRange to IndexError.
void RegisterErrors(pybind11::module_& m);
// Sets the Python exception for `st` (not ok) and returns nullptr, for the
// CPython-API paths: `return SetStatusError(st);`.
PyObject* SetStatusError(const Status& st);
// Throws pybind11::error_already_set for `st` (not ok), for pybind11 paths.
[[noreturn]] void ThrowStatus(const Status& st);

// schema.cc: mapfs.Schema wraps a shared, immutable mapfs::Schema.
void RegisterSchema(pybind11::module_& m);
// A new mapfs.Schema object sharing `schema`.
pybind11::object SchemaToPy(std::shared_ptr<const Schema> schema);
// The schema of a mapfs.Schema object, or of a schema YAML path (str or
// os.PathLike); throws TypeError/ValueError otherwise.
std::shared_ptr<const Schema> SchemaFromPy(pybind11::handle obj);

// read.cc and the files it uses: mapfs.open, Segment, record and container
// views, conversion of views to Python values.
void RegisterRead(pybind11::module_& m);
// A Python object for the value `v` (a record view for structs, a container
// view, a scalar, None for a null view). `owner` keeps v's bytes and schema
// alive and is referenced by every view made from it.
PyObject* ValueToPy(const View& v, PyObject* owner);
// If `obj` is a record (struct) view of this module, sets *out to its View
// and returns true.
bool RecordViewFromPy(PyObject* obj, View* out);

// build.cc: mapfs.build, mapfs.pack, mapfs.pack_into, mapfs.view.
void RegisterBuild(pybind11::module_& m);

// dataset_read.cc: mapfs._mapfs._ShardedBase, the lookup path of
// mapfs.Dataset (python/mapfs/dataset.py).
void RegisterDatasetRead(pybind11::module_& m);
// The type of field `key` of struct `type`; throws ValueError if either is
// not in the schema.
const Type& KeyType(const Schema& schema, const std::string& type, const std::string& key);

// arrays.cc: mapfs.TypedArray and the shared-array functions
// (mapfs._mapfs.shared_*; mapfs/shared.py gives them SharedArray's names).
void RegisterArrays(pybind11::module_& m);

}  // namespace mapfs::python

#endif  // MAPFS_PYTHON_MODULE_INTERNAL_H_
