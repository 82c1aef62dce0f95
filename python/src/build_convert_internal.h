// Private to the build conversion (build_convert*.cc): the Python type checks
// and number reading its files share, and the scope that names the path of
// a value in errors.
#ifndef MAPFS_PYTHON_BUILD_CONVERT_INTERNAL_H_
#define MAPFS_PYTHON_BUILD_CONVERT_INTERNAL_H_

#include <Python.h>

#include <cstdint>
#include <string>

#include "build_convert.h"

namespace mapfs::python {
namespace convert_internal {

// Python types looked up once (strong references kept for the process).
struct PyTypes {
  PyObject* decimal = nullptr;        // decimal.Decimal
  PyObject* ndarray = nullptr;        // numpy.ndarray
  PyObject* abc_mapping = nullptr;    // collections.abc.Mapping
  PyObject* abc_set = nullptr;        // collections.abc.Set
  PyObject* abc_sequence = nullptr;   // collections.abc.Sequence
};
// The types, imported on first use (with the GIL); nullptr with an error set
// if an import fails. Every conversion starts by calling it.
const PyTypes* Types();

TypeKind IntKindOf(DType d);  // int dtypes only

bool IsNdArray(PyObject* obj);
// numpy scalars are recognised by their module, without numpy's C API.
bool IsNumpyScalar(PyObject* obj);
bool IsNumpyBool(PyObject* obj);
// An int-like object that is not a bool: int, or an object with __index__
// (numpy integers) other than an ndarray.
bool IsIntLike(PyObject* obj);
// An integer's value, in *s (*is_unsigned false) or, above int64, in *u.
// Returns 0 ok, 1 beyond int64/uint64 (no error set), -1 a Python error.
int ReadInt(PyObject* obj, int64_t* s, uint64_t* u, bool* is_unsigned);
// datetime.date / datetime.datetime instances (subclasses too).
bool IsPyDate(PyObject* obj);
bool IsPyDateTime(PyObject* obj);

// repr(obj) cut to about 40 characters (at a UTF-8 boundary); "?" if repr fails.
std::string ShortRepr(PyObject* obj);
// "str 'abc'", "int 300", "None": the Python type and a short repr.
std::string Describe(PyObject* obj);
// The UTF-8 of a str; false with ValueError set for lone surrogates.
bool Utf8Of(PyObject* str, const char** data, Py_ssize_t* size);
// The str() of an object as UTF-8; false with an error set.
bool StrOf(PyObject* obj, std::string* out);

}  // namespace convert_internal

class ValueConverter::PathScope {
 public:
  PathScope(ValueConverter* c, const std::string* name) : c_(c) {
    c_->path_.push_back({name, 0, nullptr});
  }
  PathScope(ValueConverter* c, size_t index) : c_(c) {
    c_->path_.push_back({nullptr, index, nullptr});
  }
  PathScope(ValueConverter* c, PyObject* key) : c_(c) { c_->path_.push_back({nullptr, 0, key}); }
  ~PathScope() { c_->path_.pop_back(); }
  PathScope(const PathScope&) = delete;
  PathScope& operator=(const PathScope&) = delete;

 private:
  ValueConverter* c_;
};

}  // namespace mapfs::python

#endif  // MAPFS_PYTHON_BUILD_CONVERT_INTERNAL_H_
