// mapfs.TypedArray's object life and slots: the table of files open as
// TypedArrays in this process, construction and close, the buffer protocol
// with an export count (a call that would change the length while a buffer
// is exported raises BufferError, as for array.array) and fast paths for
// a[i], a[i] = x and len(a) (docs/python.md, "Arrays").
#include <Python.h>
#include <pybind11/pybind11.h>
#include <sys/stat.h>

#include <cerrno>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "array_typed_internal.h"

namespace mapfs::python::typed {
namespace {

// How many TypedArrays have a file open, read-only and writable.
struct FileUse {
  int readers = 0;
  int writers = 0;
};

// Touched only with the GIL held.
std::map<FileKey, FileUse>& OpenFiles() {
  static auto* files = new std::map<FileKey, FileUse>;  // never destroyed: used at exit
  return *files;
}

std::optional<FileKey> KeyOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileKey{st.st_dev, st.st_ino};
}

// ---- fast paths for a[i], a[i] = x and len(a) ----
//
// pybind11 dispatch costs several hundred nanoseconds a call; a lookup table
// read with a[i] should cost about what array.array's does. These slot
// functions handle a plain int index and fall back to the methods (the slots
// CPython made for __getitem__/__setitem__/__delitem__) for anything else.

binaryfunc g_subscript_fallback = nullptr;
objobjargproc g_ass_subscript_fallback = nullptr;

// The PyTypedArray inside `obj`, or nullptr if it has no open array (its
// __init__ did not run, or it is closed).
TypedArray* OpenArrayOf(PyObject* obj) {
  auto* inst = reinterpret_cast<py::detail::instance*>(obj);
  py::detail::value_and_holder vh = inst->get_value_and_holder(nullptr, false);
  if (!vh || vh.value_ptr() == nullptr) return nullptr;
  return static_cast<PyTypedArray*>(vh.value_ptr())->maybe_arr();
}

PyObject* FastSubscript(PyObject* obj, PyObject* key) {
  if (PyLong_CheckExact(key)) {
    if (TypedArray* a = OpenArrayOf(obj)) {
      Py_ssize_t i = PyLong_AsSsize_t(key);
      if (i != -1 || !PyErr_Occurred()) {
        const Py_ssize_t n = static_cast<Py_ssize_t>(a->size());
        if (i < 0) i += n;
        if (i < 0 || i >= n) {
          PyErr_SetString(PyExc_IndexError, "TypedArray index out of range");
          return nullptr;
        }
        return ItemToPyRaw(*a, static_cast<size_t>(i));
      }
      PyErr_Clear();  // beyond Py_ssize_t: the method says IndexError
    }
  }
  return g_subscript_fallback(obj, key);
}

int FastAssSubscript(PyObject* obj, PyObject* key, PyObject* value) {
  if (value != nullptr && PyLong_CheckExact(key) &&
      (PyLong_CheckExact(value) || PyFloat_CheckExact(value))) {
    if (TypedArray* a = OpenArrayOf(obj)) {
      PyTypedArray* self = static_cast<PyTypedArray*>(
          reinterpret_cast<py::detail::instance*>(obj)->get_value_and_holder().value_ptr());
      Py_ssize_t i = PyLong_AsSsize_t(key);
      const Py_ssize_t n = static_cast<Py_ssize_t>(a->size());
      if ((i != -1 || !PyErr_Occurred()) && i >= -n && i < n && !a->read_only()) {
        try {
          Number num = ToNumber(a->typecode(), value);
          std::lock_guard<std::mutex> lock(self->mu());
          Check(a->Set(i, num));
          return 0;
        } catch (py::error_already_set& e) {
          e.restore();
          return -1;
        }
      }
      PyErr_Clear();  // the method gives the error
    }
  }
  return g_ass_subscript_fallback(obj, key, value);
}

Py_ssize_t FastLength(PyObject* obj) {
  if (TypedArray* a = OpenArrayOf(obj)) return static_cast<Py_ssize_t>(a->size());
  PyErr_SetString(PyExc_ValueError, "operation on a closed TypedArray");
  return -1;
}

}  // namespace

void CheckFileFree(const std::string& path, bool writable) {
  std::optional<FileKey> key = KeyOf(path);
  if (!key) return;
  auto it = OpenFiles().find(*key);
  if (it == OpenFiles().end()) return;
  if (it->second.writers > 0 || (writable && it->second.readers > 0)) {
    const std::string msg = path + ": already open as " +
                            (it->second.writers > 0 ? "a writable" : "a read-only") +
                            " TypedArray in this process";
    PyObject* args = Py_BuildValue("(is)", EBUSY, msg.c_str());
    if (args != nullptr) {
      PyErr_SetObject(PyExc_OSError, args);
      Py_DECREF(args);
    }
    throw py::error_already_set();
  }
}

PyTypedArray::PyTypedArray(TypedArray a) : typecode_(a.typecode()), arr_(std::move(a)) {
  if (!arr_->path().empty()) {
    file_key_ = KeyOf(arr_->path());
    if (file_key_) {
      FileUse& use = OpenFiles()[*file_key_];
      ++(arr_->read_only() ? use.readers : use.writers);
    }
  }
}

PyTypedArray::~PyTypedArray() { ReleaseFile(); }

void PyTypedArray::Close() {
  if (!arr_) return;
  if (exports_ > 0) throw py::buffer_error("cannot close a TypedArray that is exporting buffers");
  Status st;
  {
    std::lock_guard<std::mutex> lock(mu_);
    st = arr_->Close();
    ReleaseFile();
    arr_.reset();
  }
  if (!st.ok()) ThrowStatus(st);
}

void PyTypedArray::ReleaseFile() {
  if (!file_key_) return;
  auto it = OpenFiles().find(*file_key_);
  if (it != OpenFiles().end()) {
    --(arr_->read_only() ? it->second.readers : it->second.writers);
    if (it->second.readers == 0 && it->second.writers == 0) OpenFiles().erase(it);
  }
  file_key_.reset();
}

int PyTypedArray::GetBuffer(PyObject* obj, Py_buffer* view, int flags) {
  try {
    PyTypedArray& self = py::handle(obj).cast<PyTypedArray&>();
    TypedArray& a = self.arr();
    if ((flags & PyBUF_WRITABLE) == PyBUF_WRITABLE && a.read_only()) {
      PyErr_SetString(PyExc_BufferError, "TypedArray is read-only");
      return -1;
    }
    static char empty_data = 0;  // a non-NULL address for an empty array
    auto bytes = a.bytes();
    self.shape_ = static_cast<Py_ssize_t>(a.size());
    self.stride_ = static_cast<Py_ssize_t>(a.itemsize());
    view->buf = bytes.empty() ? static_cast<void*>(&empty_data)
                              : const_cast<std::byte*>(bytes.data());
    view->obj = Py_NewRef(obj);
    view->len = static_cast<Py_ssize_t>(bytes.size());
    view->readonly = a.read_only() ? 1 : 0;
    view->itemsize = static_cast<Py_ssize_t>(a.itemsize());
    view->format = (flags & PyBUF_FORMAT) == PyBUF_FORMAT
                       ? const_cast<char*>(BufferFormat(self.typecode()))
                       : nullptr;
    view->ndim = 1;
    view->shape = (flags & PyBUF_ND) == PyBUF_ND ? &self.shape_ : nullptr;
    view->strides = (flags & PyBUF_STRIDES) == PyBUF_STRIDES ? &self.stride_ : nullptr;
    view->suboffsets = nullptr;
    view->internal = nullptr;
    ++self.exports_;
    return 0;
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (py::builtin_exception& e) {
    e.set_error();
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  }
  view->obj = nullptr;
  return -1;
}

void PyTypedArray::ReleaseBuffer(PyObject* obj, Py_buffer*) {
  try {
    --py::handle(obj).cast<PyTypedArray&>().exports_;
  } catch (...) {
    PyErr_Clear();
  }
}

void InstallSlots(PyTypeObject* type) {
  type->tp_as_buffer->bf_getbuffer = &PyTypedArray::GetBuffer;
  type->tp_as_buffer->bf_releasebuffer = &PyTypedArray::ReleaseBuffer;
  // Over the slots CPython made from __getitem__, __setitem__/__delitem__ and __len__.
  g_subscript_fallback = type->tp_as_mapping->mp_subscript;
  g_ass_subscript_fallback = type->tp_as_mapping->mp_ass_subscript;
  type->tp_as_mapping->mp_subscript = &FastSubscript;
  type->tp_as_mapping->mp_ass_subscript = &FastAssSubscript;
  type->tp_as_mapping->mp_length = &FastLength;
  type->tp_as_sequence->sq_length = &FastLength;
  PyType_Modified(type);
}

}  // namespace mapfs::python::typed
