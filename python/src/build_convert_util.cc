// The Python type checks and number reading shared by the build conversion
// (build_convert_internal.h).
// clang-format off
#include <Python.h>
#include <datetime.h>
// clang-format on

#include <cstring>
#include <string>

#include "build_convert_internal.h"

namespace mapfs::python::convert_internal {

namespace {

PyObject* ImportAttr(const char* module, const char* name) {
  PyObject* mod = PyImport_ImportModule(module);
  if (mod == nullptr) return nullptr;
  PyObject* attr = PyObject_GetAttrString(mod, name);
  Py_DECREF(mod);
  return attr;
}

}  // namespace

const PyTypes* Types() {
  static PyTypes* types = nullptr;
  if (types != nullptr) return types;
  PyDateTime_IMPORT;
  if (PyDateTimeAPI == nullptr) return nullptr;
  auto* t = new PyTypes();
  t->decimal = ImportAttr("decimal", "Decimal");
  t->ndarray = ImportAttr("numpy", "ndarray");
  t->abc_mapping = ImportAttr("collections.abc", "Mapping");
  t->abc_set = ImportAttr("collections.abc", "Set");
  t->abc_sequence = ImportAttr("collections.abc", "Sequence");
  if (!t->decimal || !t->ndarray || !t->abc_mapping || !t->abc_set || !t->abc_sequence) {
    delete t;  // the references taken so far stay alive: harmless, and the error is set
    return nullptr;
  }
  types = t;
  return types;
}

TypeKind IntKindOf(DType d) {
  static constexpr TypeKind kKinds[] = {TypeKind::kInt8,  TypeKind::kInt16,  TypeKind::kInt32,
                                        TypeKind::kInt64, TypeKind::kUInt8,  TypeKind::kUInt16,
                                        TypeKind::kUInt32, TypeKind::kUInt64};
  return kKinds[static_cast<int>(d)];
}

bool IsNdArray(PyObject* obj) {
  return PyObject_TypeCheck(obj, reinterpret_cast<PyTypeObject*>(Types()->ndarray));
}

// numpy scalars are recognised by their module, without numpy's C API.
bool IsNumpyScalar(PyObject* obj) {
  const char* name = Py_TYPE(obj)->tp_name;
  return std::strncmp(name, "numpy.", 6) == 0 && !IsNdArray(obj);
}
bool IsNumpyBool(PyObject* obj) {
  const char* name = Py_TYPE(obj)->tp_name;
  return std::strcmp(name, "numpy.bool_") == 0 || std::strcmp(name, "numpy.bool") == 0;
}

// An int-like object that is not a bool: int, or an object with __index__
// (numpy integers).
bool IsIntLike(PyObject* obj) {
  if (PyBool_Check(obj)) return false;
  if (PyLong_Check(obj)) return true;
  // An ndarray has __index__ too (for one-element int arrays): not an int here.
  return !IsNumpyBool(obj) && Py_TYPE(obj)->tp_as_number != nullptr &&
         Py_TYPE(obj)->tp_as_number->nb_index != nullptr && !PyFloat_Check(obj) &&
         !IsNdArray(obj);
}

int ReadInt(PyObject* obj, int64_t* s, uint64_t* u, bool* is_unsigned) {
  PyObject* owned = nullptr;
  if (!PyLong_Check(obj)) {
    owned = PyNumber_Index(obj);
    if (owned == nullptr) return -1;
    obj = owned;
  }
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
  int rc = 0;
  if (v == -1 && PyErr_Occurred()) {
    rc = -1;
  } else if (overflow == 0) {
    *s = v;
    *is_unsigned = false;
  } else if (overflow > 0) {
    unsigned long long uv = PyLong_AsUnsignedLongLong(obj);
    if (uv == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
      PyErr_Clear();
      rc = 1;
    } else {
      *u = uv;
      *is_unsigned = true;
    }
  } else {
    rc = 1;
  }
  Py_XDECREF(owned);
  return rc;
}

// repr(obj) cut to about 40 characters (at a UTF-8 boundary); "?" if repr fails.
std::string ShortRepr(PyObject* obj) {
  PyObject* r = PyObject_Repr(obj);
  if (r == nullptr) {
    PyErr_Clear();
    return "?";
  }
  Py_ssize_t n = 0;
  const char* s = PyUnicode_AsUTF8AndSize(r, &n);
  std::string text = s != nullptr ? std::string(s, static_cast<size_t>(n)) : "?";
  if (s == nullptr) PyErr_Clear();
  Py_DECREF(r);
  constexpr size_t kMax = 40;
  if (text.size() > kMax) {
    size_t cut = kMax;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text = text.substr(0, cut) + "...";
  }
  return text;
}

// "str 'abc'", "int 300", "None": the Python type and a short repr.
std::string Describe(PyObject* obj) {
  if (obj == Py_None) return "None";
  return std::string(Py_TYPE(obj)->tp_name) + " " + ShortRepr(obj);
}

// The UTF-8 of a str; false with ValueError set for lone surrogates.
bool Utf8Of(PyObject* str, const char** data, Py_ssize_t* size) {
  *data = PyUnicode_AsUTF8AndSize(str, size);
  if (*data != nullptr) return true;
  if (PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
    PyErr_Clear();
    PyErr_SetString(PyExc_ValueError, "str is not valid UTF-8 (it holds a lone surrogate)");
  }
  return false;
}

// The str() of an object as UTF-8; false with an error set.
bool StrOf(PyObject* obj, std::string* out) {
  PyObject* s = PyObject_Str(obj);
  if (s == nullptr) return false;
  Py_ssize_t n = 0;
  const char* p = PyUnicode_AsUTF8AndSize(s, &n);
  if (p != nullptr) out->assign(p, static_cast<size_t>(n));
  Py_DECREF(s);
  return p != nullptr;
}

bool IsPyDate(PyObject* obj) { return PyDate_Check(obj); }
bool IsPyDateTime(PyObject* obj) { return PyDateTime_Check(obj); }

}  // namespace mapfs::python::convert_internal
