// The functions behind mapfs.shared (python/mapfs/shared.py gives them
// SharedArray's names; docs/python.md, "Arrays"; the format and the checks
// at attach are in docs/arrays.md).
//
// create/attach return a numpy array on the attachment's mapping whose base
// is a SharedMapping object owning the mapfs::SharedArray: the mapping lives
// as long as any numpy array (or view of one) made from it, whatever happens
// to the name. msync/mlock/munlock find that base again from the array.
#include <Python.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <sys/mman.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "array_internal.h"
#include "mapfs/shared_array.h"
#include "mapfs/types.h"

namespace py = pybind11;

namespace mapfs::python {
namespace {

// One attachment, kept alive by the numpy arrays on it.
struct SharedMapping {
  explicit SharedMapping(SharedArray a) : array(std::move(a)) {}
  SharedArray array;
};

// Like ThrowStatus, with the OSError subclasses SharedArray's users catch: a
// missing array is FileNotFoundError, an existing one FileExistsError.
[[noreturn]] void ThrowSharedStatus(const Status& st) {
  int err = 0;
  PyObject* type = nullptr;
  if (st.code() == StatusCode::kNotFound) {
    err = ENOENT;
    type = PyExc_FileNotFoundError;
  } else if (st.code() == StatusCode::kAlreadyExists) {
    err = EEXIST;
    type = PyExc_FileExistsError;
  } else {
    ThrowStatus(st);
  }
  PyObject* args = Py_BuildValue("(is)", err, st.ToString().c_str());
  if (args != nullptr) {
    PyErr_SetObject(type, args);
    Py_DECREF(args);
  }
  throw py::error_already_set();
}

void CheckShared(const Status& st) {
  if (!st.ok()) ThrowSharedStatus(st);
}

// The mapfs dtype of a numpy dtype-like (float, "f4", np.int32, ...);
// TypeError for one a shared array cannot hold.
DType DTypeFromPy(py::handle obj) {
  py::dtype dt = py::dtype::from_args(py::reinterpret_borrow<py::object>(obj));
  for (int i = 0; i < kDTypeCount; ++i) {
    DType d = static_cast<DType>(i);
    py::dtype candidate(std::string(DTypeNumpyDescr(d)));
    if (dt.equal(candidate)) return d;
  }
  throw py::type_error("shared arrays hold int8..int64, uint8..uint64, float32, float64 or bool "
                       "in little-endian order, not dtype " +
                       py::str(dt).cast<std::string>());
}

// A shape as numpy.zeros takes it: an int or a sequence of ints.
std::vector<uint64_t> ShapeFromPy(py::handle obj) {
  std::vector<py::object> dims;
  if (PyIndex_Check(obj.ptr())) {
    dims.push_back(py::reinterpret_borrow<py::object>(obj));
  } else {
    if (!PySequence_Check(obj.ptr()) || PyUnicode_Check(obj.ptr())) {
      throw py::type_error("shape must be an int or a sequence of ints");
    }
    for (py::handle d : py::iter(obj)) dims.push_back(py::reinterpret_borrow<py::object>(d));
  }
  std::vector<uint64_t> shape;
  for (const py::object& d : dims) {
    if (!PyIndex_Check(d.ptr())) throw py::type_error("shape must be an int or a sequence of ints");
    Py_ssize_t n = PyNumber_AsSsize_t(d.ptr(), PyExc_ValueError);
    if (n == -1 && PyErr_Occurred()) throw py::error_already_set();
    if (n < 0) throw py::value_error("negative dimensions are not allowed");
    shape.push_back(static_cast<uint64_t>(n));
  }
  return shape;
}

std::string NameFromPy(py::handle name) {
  if (!PyUnicode_Check(name.ptr())) {
    throw py::type_error("a shared array's name must be a str (shm://NAME, file://PATH or NAME)");
  }
  return name.cast<std::string>();
}

// A numpy array on the attachment's data; its base owns the attachment.
py::array ToNumpy(SharedArray a) {
  const DType dtype = a.dtype();
  const bool read_only = a.read_only();
  std::vector<py::ssize_t> shape;
  for (uint64_t d : a.shape()) {
    // A zero-size array may list any other extent; numpy's are signed.
    if (d > static_cast<uint64_t>(PY_SSIZE_T_MAX)) {
      ThrowStatus(Status::Corruption(a.uri() + ": shape entry " + std::to_string(d) +
                                     " is too large for numpy"));
    }
    shape.push_back(static_cast<py::ssize_t>(d));
  }
  void* data = const_cast<std::byte*>(a.bytes().data());
  py::object owner = py::cast(std::make_unique<SharedMapping>(std::move(a)));
  py::array out(py::dtype(std::string(DTypeNumpyDescr(dtype))), shape, data, owner);
  if (read_only) out.attr("setflags")(py::arg("write") = false);
  return out;
}

// The attachment under a numpy array made by create/attach (or a view of one).
SharedMapping& MappingOf(py::handle array) {
  py::object obj = py::reinterpret_borrow<py::object>(array);
  for (int depth = 0; depth < 64 && !obj.is_none(); ++depth) {
    if (py::isinstance<SharedMapping>(obj)) return obj.cast<SharedMapping&>();
    obj = py::getattr(obj, "base", py::none());
  }
  throw py::type_error("expected a numpy array returned by mapfs.shared.create or attach");
}

// Runs `call` on the attachment under `array` with the GIL released (page
// locking and syncing may block), then raises its error, if any.
template <typename Call>
void WithoutGil(py::handle array, Call call) {
  SharedMapping& s = MappingOf(array);
  Status st;
  {
    py::gil_scoped_release release;
    st = call(s.array);
  }
  CheckShared(st);
}

}  // namespace

void RegisterSharedArrays(py::module_& m) {
  py::class_<SharedMapping>(m, "_SharedMapping",
                            "The attachment a shared numpy array keeps alive (its .base).")
      .def_property_readonly("uri", [](SharedMapping& s) { return s.array.uri(); })
      .def_property_readonly("readonly", [](SharedMapping& s) { return s.array.read_only(); })
      .def("__repr__", [](SharedMapping& s) {
        return "<mapfs shared array mapping " + s.array.uri() + ">";
      });

  m.attr("MS_ASYNC") = MS_ASYNC;
  m.attr("MS_SYNC") = MS_SYNC;
  m.attr("MS_INVALIDATE") = MS_INVALIDATE;

  m.def("_shared_create", [](py::handle name, py::handle shape_obj, py::handle dtype_obj) {
    std::string uri = NameFromPy(name);
    std::vector<uint64_t> shape = ShapeFromPy(shape_obj);
    DType dtype = DTypeFromPy(dtype_obj);
    Result<SharedArray> r = [&] {
      py::gil_scoped_release release;  // reserving a large object takes a while
      return SharedArray::Create(uri, shape, dtype);
    }();
    if (!r.ok()) ThrowSharedStatus(r.status());
    return ToNumpy(std::move(r).value());
  }, py::arg("name"), py::arg("shape"), py::arg("dtype"));

  m.def("_shared_attach", [](py::handle name, bool ro) {
    std::string uri = NameFromPy(name);
    Result<SharedArray> r = [&] {
      py::gil_scoped_release release;
      return SharedArray::Attach(uri, ro);
    }();
    if (!r.ok()) ThrowSharedStatus(r.status());
    return ToNumpy(std::move(r).value());
  }, py::arg("name"), py::arg("ro") = false);

  m.def("_shared_delete", [](py::handle name) {
    std::string uri = NameFromPy(name);
    Status st;
    {
      py::gil_scoped_release release;
      st = SharedArray::Remove(uri);
    }
    CheckShared(st);
  }, py::arg("name"));

  // [(name, numpy dtype descr, shape tuple)] of the shm:// arrays.
  m.def("_shared_list", [] {
    Result<std::vector<SharedArrayInfo>> r = [] {
      py::gil_scoped_release release;
      return SharedArray::List();
    }();
    if (!r.ok()) ThrowSharedStatus(r.status());
    py::list out;
    for (const SharedArrayInfo& info : *r) {
      py::tuple shape(info.shape.size());
      for (size_t i = 0; i < info.shape.size(); ++i) {
        shape[i] = py::int_(static_cast<size_t>(info.shape[i]));
      }
      out.append(py::make_tuple(info.name, std::string(DTypeNumpyDescr(info.dtype)), shape));
    }
    return out;
  });

  // The array argument keeps the mapping alive while the GIL is released.
  m.def("_shared_msync", [](py::handle array, int flags) {
    WithoutGil(array, [flags](SharedArray& a) { return a.Msync(flags); });
  }, py::arg("array"), py::arg("flags"));
  m.def("_shared_mlock", [](py::handle array) {
    WithoutGil(array, [](SharedArray& a) { return a.Mlock(); });
  }, py::arg("array"));
  m.def("_shared_munlock", [](py::handle array) {
    WithoutGil(array, [](SharedArray& a) { return a.Munlock(); });
  }, py::arg("array"));
}

}  // namespace mapfs::python
