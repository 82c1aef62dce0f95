// What the files of mapfs.TypedArray share (array_typed.cc registers the
// class; array_typed_values.cc converts values; array_typed_slots.cc holds
// the object's life, its buffer protocol and fast slots). Everything is in
// namespace mapfs::python::typed and is used with the GIL held unless said.
#ifndef MAPFS_PYTHON_ARRAY_TYPED_INTERNAL_H_
#define MAPFS_PYTHON_ARRAY_TYPED_INTERNAL_H_

#include <Python.h>
#include <pybind11/pybind11.h>
#include <sys/types.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "mapfs/typed_array.h"
#include "module_internal.h"

namespace mapfs::python::typed {

namespace py = pybind11;

inline constexpr const char* kTypecodes = "bBhHiIlLqQfd";

inline bool IsFloatTypecode(char tc) { return tc == 'f' || tc == 'd'; }

// The buffer format of each typecode: array.array's own (native = little
// endian here; 'l' is 8 bytes on LP64 as in docs/arrays.md).
const char* BufferFormat(char tc);

// A file's identity, for the table of files open as TypedArrays.
struct FileKey {
  dev_t dev;
  ino_t ino;
  auto operator<=>(const FileKey&) const = default;
};

// A writable TypedArray keeps its file longer than its items while open and
// trims it at flush and close (docs/arrays.md), so a second mapping of the
// same file could fault (SIGBUS) past the new end. Within one process that is
// prevented: a file is open either once writable or any number of times
// read-only. CheckFileFree raises OSError(EBUSY) if opening `path` (writable
// or not) would break that; the PyTypedArray constructor registers it.
void CheckFileFree(const std::string& path, bool writable);

// A mapfs.TypedArray object's state: the C++ array (none once closed), the
// count of buffers exported from it, and the mutex that flush(), which runs
// without the GIL, shares with every change of the C++ array.
class PyTypedArray {
 public:
  // Registers a file-backed array in the process's table of open files
  // (CheckFileFree must have allowed it).
  explicit PyTypedArray(TypedArray a);
  ~PyTypedArray();
  PyTypedArray(const PyTypedArray&) = delete;
  PyTypedArray& operator=(const PyTypedArray&) = delete;

  char typecode() const { return typecode_; }
  bool closed() const { return !arr_.has_value(); }
  // The C++ array; ValueError once closed.
  TypedArray& arr() {
    if (!arr_) throw py::value_error("operation on a closed TypedArray");
    return *arr_;
  }
  // BufferError if buffers are exported and the length would change.
  void CheckResize(size_t new_size) {
    if (exports_ > 0 && new_size != arr().size()) {
      throw py::buffer_error("cannot resize a TypedArray that is exporting buffers");
    }
  }
  std::mutex& mu() { return mu_; }
  // The C++ array or nullptr once closed; for code running without the GIL.
  TypedArray* maybe_arr() { return arr_ ? &*arr_ : nullptr; }

  // Flushes and unmaps (once); BufferError while buffers are exported.
  void Close();

  static int GetBuffer(PyObject* obj, Py_buffer* view, int flags);
  static void ReleaseBuffer(PyObject* obj, Py_buffer* view);

 private:
  // Drops this array from the table of open files (once).
  void ReleaseFile();

  std::optional<FileKey> file_key_;
  char typecode_;
  std::optional<TypedArray> arr_;
  std::mutex mu_;
  Py_ssize_t exports_ = 0;
  // Shape and stride handed to the exports; the length cannot change while
  // any export is alive, so they stay right for all of them.
  Py_ssize_t shape_ = 0;
  Py_ssize_t stride_ = 0;
};

inline void Check(const Status& st) {
  if (!st.ok()) ThrowStatus(st);
}

template <typename T>
T Check(Result<T> r) {
  if (!r.ok()) ThrowStatus(r.status());
  return std::move(r).value();
}

// Runs f(TypedArray&) holding the array's mutex (a change of the C++ array).
template <typename F>
decltype(auto) Locked(PyTypedArray& self, F&& f) {
  TypedArray& a = self.arr();
  std::lock_guard<std::mutex> lock(self.mu());
  return f(a);
}

// ---- values (array_typed_values.cc) ----

// `v` as a Number the typecode can hold, with array.array's errors
// (TypeError for a non-number, OverflowError out of range).
Number ToNumber(char tc, py::handle v);
// `v` as a Number to compare items with (index, count, remove, in), or
// nullopt for a value no item can equal (a str, an int beyond 64 bits, ...).
std::optional<Number> ProbeNumber(py::handle v);
PyObject* NumberToPy(const Number& n);  // a new reference, or nullptr
// Item i (< size) as a new reference; nullptr with the error set on failure.
PyObject* ItemToPyRaw(const TypedArray& a, size_t i);
py::object ItemToPy(const TypedArray& a, size_t i);
py::list ToList(const TypedArray& a);

// ---- other arrays (array_typed_values.cc) ----

PyTypedArray* AsTypedArray(py::handle obj);  // nullptr unless a TypedArray
bool IsArrayArray(py::handle obj);           // an array.array
char ArrayArrayTypecode(py::handle obj);
// The raw bytes of a buffer-protocol object (e.g. an array.array).
std::string BufferBytes(py::handle obj);
// The items of an iterable converted for typecode `tc` (all before any change).
std::vector<Number> NumbersFrom(char tc, py::handle iterable);
// A new anonymous TypedArray of typecode `tc` holding the items of `src`:
// a TypedArray or array.array of the same typecode, or a list (TypeError
// otherwise).
TypedArray AnonymousFrom(char tc, py::handle src);
// A new mapfs.TypedArray object owning `a`.
py::object Wrap(TypedArray a);

// ---- slots (array_typed_slots.cc) ----

// Puts the buffer protocol and the fast a[i], a[i] = x and len(a) slots on
// the class, once all its methods are defined.
void InstallSlots(PyTypeObject* type);

}  // namespace mapfs::python::typed

#endif  // MAPFS_PYTHON_ARRAY_TYPED_INTERNAL_H_
