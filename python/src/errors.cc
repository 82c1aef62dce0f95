// Status → Python exception, in one place (docs/python.md, "Errors").
#include <string>

#include "module_internal.h"

namespace mapfs::python {
namespace {

PyObject* g_error = nullptr;             // mapfs.Error
PyObject* g_corruption_error = nullptr;  // mapfs.CorruptionError(Error, ValueError)

}  // namespace

void RegisterErrors(pybind11::module_& m) {
  g_error = PyErr_NewExceptionWithDoc("mapfs.Error", "Base class of mapfs's own errors.",
                                      nullptr, nullptr);
  if (g_error == nullptr) throw pybind11::error_already_set();
  PyObject* bases = PyTuple_Pack(2, g_error, PyExc_ValueError);
  if (bases == nullptr) throw pybind11::error_already_set();
  g_corruption_error = PyErr_NewExceptionWithDoc(
      "mapfs.CorruptionError", "A file or buffer that breaks the mapfs format.", bases, nullptr);
  Py_DECREF(bases);
  if (g_corruption_error == nullptr) throw pybind11::error_already_set();
  // The module keeps its own references; the globals borrow them.
  m.add_object("Error", pybind11::handle(g_error));
  m.add_object("CorruptionError", pybind11::handle(g_corruption_error));
}

PyObject* SetStatusError(const Status& st) {
  const std::string msg = st.ToString();
  switch (st.code()) {
    case StatusCode::kCorruption:
      PyErr_SetString(g_corruption_error, msg.c_str());
      break;
    case StatusCode::kNotFound:
      PyErr_SetString(PyExc_KeyError, msg.c_str());
      break;
    case StatusCode::kInvalidArgument:
      PyErr_SetString(PyExc_ValueError, msg.c_str());
      break;
    case StatusCode::kOutOfRange:
      PyErr_SetString(PyExc_IndexError, msg.c_str());
      break;
    case StatusCode::kIOError: {
      int err = st.posix_errno();
      PyObject* args = Py_BuildValue("(is)", err != 0 ? err : EIO, msg.c_str());
      if (args != nullptr) {
        PyErr_SetObject(PyExc_OSError, args);  // OSError(errno, msg) picks the subclass
        Py_DECREF(args);
      }
      break;
    }
    default:
      PyErr_SetString(g_error, msg.c_str());
      break;
  }
  return nullptr;
}

void ThrowStatus(const Status& st) {
  SetStatusError(st);
  throw pybind11::error_already_set();
}

}  // namespace mapfs::python
