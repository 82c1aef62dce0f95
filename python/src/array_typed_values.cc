// mapfs.TypedArray's values: Python objects to and from the Numbers of the
// C++ TypedArray with array.array's errors, and the other arrays it takes
// (docs/python.md, "Arrays").
#include <Python.h>
#include <pybind11/pybind11.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "array_typed_internal.h"

namespace mapfs::python::typed {
namespace {

[[noreturn]] void ThrowKindMismatch(char want, py::handle other) {
  PyErr_Format(PyExc_TypeError,
               "can only use an array of typecode '%c' here, got %.200s", want,
               py::str(py::repr(other)).cast<std::string>().substr(0, 40).c_str());
  throw py::error_already_set();
}

}  // namespace

const char* BufferFormat(char tc) {
  static const char kFormats[][2] = {"b", "B", "h", "H", "i", "I", "l", "L", "q", "Q", "f", "d"};
  const char* p = std::strchr(kTypecodes, tc);
  return kFormats[p - kTypecodes];
}

// ---- values ----

// `v` as a Number the typecode can hold, with array.array's errors.
Number ToNumber(char tc, py::handle v) {
  if (IsFloatTypecode(tc)) {
    double d = PyFloat_AsDouble(v.ptr());  // __float__, then __index__
    if (d == -1.0 && PyErr_Occurred()) throw py::error_already_set();
    if (tc == 'f' && std::isfinite(d) && std::fabs(d) > FLT_MAX) {
      // array.array would store infinity; docs/arrays.md refuses it.
      PyErr_Format(PyExc_OverflowError, "value %R out of range for typecode 'f'", v.ptr());
      throw py::error_already_set();
    }
    return Number(d);
  }
  if (PyFloat_Check(v.ptr()) || !PyIndex_Check(v.ptr())) {
    PyErr_Format(PyExc_TypeError, "TypedArray item of typecode '%c' must be an integer, not %.200s",
                 tc, Py_TYPE(v.ptr())->tp_name);
    throw py::error_already_set();
  }
  py::object idx = py::reinterpret_steal<py::object>(PyNumber_Index(v.ptr()));
  if (!idx) throw py::error_already_set();
  int overflow = 0;
  long long s = PyLong_AsLongLongAndOverflow(idx.ptr(), &overflow);
  if (s == -1 && PyErr_Occurred()) throw py::error_already_set();
  std::optional<Number> n;
  if (overflow == 0) {
    n = Number(static_cast<int64_t>(s));
  } else if (overflow > 0) {
    unsigned long long u = PyLong_AsUnsignedLongLong(idx.ptr());
    if (u == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
      PyErr_Clear();
    } else {
      n = Number(static_cast<uint64_t>(u));
    }
  }
  bool fits = n.has_value() && VisitTypecode(tc, [&]<typename T>(std::type_identity<T>) {
    return n->As<T>().has_value();
  });
  if (!fits) {
    PyErr_Format(PyExc_OverflowError, "value %S out of range for typecode '%c'", idx.ptr(), tc);
    throw py::error_already_set();
  }
  return *n;
}

// `v` as a Number to compare items with (index, count, remove, in), or
// nullopt for a value no item can equal (a str, an int beyond 64 bits, ...).
std::optional<Number> ProbeNumber(py::handle v) {
  PyObject* o = v.ptr();
  if (PyFloat_Check(o)) return Number(PyFloat_AS_DOUBLE(o));
  if (PyLong_Check(o) || PyIndex_Check(o)) {
    py::object idx = py::reinterpret_steal<py::object>(PyNumber_Index(o));
    if (!idx) {
      PyErr_Clear();
      return std::nullopt;
    }
    int overflow = 0;
    long long s = PyLong_AsLongLongAndOverflow(idx.ptr(), &overflow);
    if (overflow == 0 && !(s == -1 && PyErr_Occurred())) return Number(static_cast<int64_t>(s));
    PyErr_Clear();
    if (overflow > 0) {
      unsigned long long u = PyLong_AsUnsignedLongLong(idx.ptr());
      if (!(u == static_cast<unsigned long long>(-1) && PyErr_Occurred())) {
        return Number(static_cast<uint64_t>(u));
      }
      PyErr_Clear();
    }
    return std::nullopt;
  }
  // Other real numbers (numpy floating scalars): by their float value.
  if (Py_TYPE(o)->tp_as_number != nullptr && Py_TYPE(o)->tp_as_number->nb_float != nullptr &&
      !PyComplex_Check(o)) {
    double d = PyFloat_AsDouble(o);
    if (d == -1.0 && PyErr_Occurred()) {
      PyErr_Clear();
      return std::nullopt;
    }
    return Number(d);
  }
  return std::nullopt;
}

PyObject* NumberToPy(const Number& n) {
  switch (n.kind()) {
    case Number::Kind::kInt: return PyLong_FromLongLong(n.int_value());
    case Number::Kind::kUInt: return PyLong_FromUnsignedLongLong(n.uint_value());
    case Number::Kind::kFloat: break;
  }
  return PyFloat_FromDouble(n.float_value());
}

// Item i (< size) as a new reference; nullptr with the error set on failure.
PyObject* ItemToPyRaw(const TypedArray& a, size_t i) {
  const std::byte* p = a.bytes().data() + i * a.itemsize();
  return VisitTypecode(a.typecode(), [&]<typename T>(std::type_identity<T>) -> PyObject* {
    T v;
    std::memcpy(&v, p, sizeof v);
    if constexpr (std::is_floating_point_v<T>) return PyFloat_FromDouble(static_cast<double>(v));
    else if constexpr (std::is_signed_v<T>) return PyLong_FromLongLong(static_cast<long long>(v));
    else return PyLong_FromUnsignedLongLong(static_cast<unsigned long long>(v));
  });
}

py::object ItemToPy(const TypedArray& a, size_t i) {
  PyObject* o = ItemToPyRaw(a, i);
  if (o == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(o);
}

py::list ToList(const TypedArray& a) {
  py::list out(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    PyList_SET_ITEM(out.ptr(), static_cast<Py_ssize_t>(i), ItemToPy(a, i).release().ptr());
  }
  return out;
}

// ---- other arrays ----

PyTypedArray* AsTypedArray(py::handle obj) {
  if (!py::isinstance<PyTypedArray>(obj)) return nullptr;
  return &obj.cast<PyTypedArray&>();
}

bool IsArrayArray(py::handle obj) {
  static PyObject* array_type = [] {
    py::object t = py::module_::import("array").attr("array");
    return t.release().ptr();  // kept for the life of the interpreter
  }();
  return PyObject_IsInstance(obj.ptr(), array_type) == 1;
}

char ArrayArrayTypecode(py::handle obj) {
  return obj.attr("typecode").cast<std::string>()[0];
}

// The raw bytes of a buffer-protocol object (e.g. an array.array).
std::string BufferBytes(py::handle obj) {
  Py_buffer view;
  if (PyObject_GetBuffer(obj.ptr(), &view, PyBUF_SIMPLE) != 0) throw py::error_already_set();
  std::string out(static_cast<const char*>(view.buf), static_cast<size_t>(view.len));
  PyBuffer_Release(&view);
  return out;
}

// The items of an iterable converted for typecode `tc` (all before any change).
std::vector<Number> NumbersFrom(char tc, py::handle iterable) {
  std::vector<Number> values;
  Py_ssize_t hint = PyObject_LengthHint(iterable.ptr(), 0);
  if (hint < 0) throw py::error_already_set();
  values.reserve(static_cast<size_t>(hint));
  for (py::handle item : py::iter(iterable)) values.push_back(ToNumber(tc, item));
  return values;
}


// A new anonymous TypedArray of typecode `tc` holding the items of `src`:
// a TypedArray or array.array of the same typecode, or a list.
TypedArray AnonymousFrom(char tc, py::handle src) {
  TypedArray out = Check(TypedArray::Anonymous(tc));
  if (PyTypedArray* t = AsTypedArray(src)) {
    if (t->typecode() != tc) ThrowKindMismatch(tc, src);
    Check(out.Extend(t->arr()));
  } else if (IsArrayArray(src)) {
    if (ArrayArrayTypecode(src) != tc) ThrowKindMismatch(tc, src);
    Check(out.FromBytes(BufferBytes(src)));
  } else if (PyList_Check(src.ptr())) {
    std::vector<Number> values = NumbersFrom(tc, src);
    Check(out.Extend(values));
  } else {
    PyErr_Format(PyExc_TypeError,
                 "can only assign a TypedArray, array.array or list (not \"%.200s\") to a "
                 "TypedArray slice",
                 Py_TYPE(src.ptr())->tp_name);
    throw py::error_already_set();
  }
  return out;
}

py::object Wrap(TypedArray a) {
  return py::cast(std::make_unique<PyTypedArray>(std::move(a)));
}

}  // namespace mapfs::python::typed
