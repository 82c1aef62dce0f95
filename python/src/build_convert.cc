// Python -> Value conversion for building (see build_convert.h). The hot path
// (dict records of ints, floats, strs and int sets) uses the CPython API
// directly: interned field names, PyDict_GetItemWithError, no pybind11 casts.
#include "build_convert.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "build_convert_internal.h"
#include "module_internal.h"

namespace mapfs::python {

using namespace convert_internal;  // NOLINT: the conversion's shared vocabulary

ValueConverter::ValueConverter(const Schema& schema) : schema_(schema) {
  field_names_.resize(schema.structs().size());
  for (size_t s = 0; s < schema.structs().size(); ++s) {
    for (const Field& f : schema.structs()[s].fields) {
      PyObject* name = PyUnicode_FromStringAndSize(f.name.data(), static_cast<Py_ssize_t>(f.name.size()));
      if (name != nullptr) PyUnicode_InternInPlace(&name);
      if (name == nullptr) PyErr_Clear();  // only on memory exhaustion; lookups then fail cleanly
      field_names_[s].push_back(name);
    }
  }
}

ValueConverter::~ValueConverter() {
  for (auto& names : field_names_) {
    for (PyObject* n : names) Py_XDECREF(n);
  }
}

std::string ValueConverter::Where() const {
  std::string where;
  for (const PathElem& e : path_) {
    if (e.name != nullptr) {
      if (!where.empty()) where += '.';
      where += *e.name;
    } else if (e.key != nullptr) {
      // A str key as its text (as the JSONL reader names it), others as repr().
      std::string text;
      if (PyUnicode_Check(e.key)) {
        Py_ssize_t n = 0;
        const char* s = PyUnicode_AsUTF8AndSize(e.key, &n);
        if (s == nullptr) PyErr_Clear();
        else text.assign(s, static_cast<size_t>(std::min<Py_ssize_t>(n, 40)));
      } else {
        text = ShortRepr(e.key);
      }
      where += '[' + text + ']';
    } else {
      where += '[' + std::to_string(e.index) + ']';
    }
  }
  return where;
}

bool ValueConverter::Fail(PyObject* exc_type, const std::string& msg) {
  std::string full;
  if (!context_.empty()) full = std::string(context_) + ": ";
  std::string where = Where();
  if (!where.empty()) full += "field \"" + where + "\": ";
  full += msg;
  PyErr_SetString(exc_type, full.c_str());
  return false;
}

bool ValueConverter::TypeMismatch(const Type& t, PyObject* got) {
  return Fail(PyExc_TypeError, "expected " + TypeName(t) + ", got " + Describe(got));
}

bool ValueConverter::Record(PyObject* obj, int struct_index, Value* out, std::string_view context) {
  context_ = context;
  path_.clear();
  if (Types() == nullptr) return false;
  return StructValue(obj, struct_index, out, 0);
}

bool ValueConverter::Convert(PyObject* obj, const Type& type, Value* out, std::string_view context) {
  context_ = context;
  path_.clear();
  if (Types() == nullptr) return false;
  return ToValue(obj, type, out, 0);
}

bool ValueConverter::ViewValue(PyObject* obj, bool* handled, Value* out) {
  View view;
  *handled = RecordViewFromPy(obj, &view);
  if (!*handled) return true;
  Result<Value> v = Materialize(view);
  if (!v.ok()) {
    SetStatusError(v.status());
    return false;
  }
  *out = std::move(v).value();
  return true;
}

bool ValueConverter::StructValue(PyObject* obj, int struct_index, Value* out, int depth) {
  const StructDef& def = schema_.struct_def(struct_index);
  if (depth > kMaxDepth) {
    return Fail(PyExc_ValueError, "nested deeper than " + std::to_string(kMaxDepth));
  }
  bool handled = false;
  if (!PyDict_Check(obj)) {
    if (!ViewValue(obj, &handled, out)) return false;
    if (handled) {
      if (out->text() != def.name) {
        return Fail(PyExc_TypeError,
                    "expected " + def.name + ", got a record view of " + out->text());
      }
      return true;
    }
  }
  // Every field gets a slot, in schema order; absent ones hold null, which
  // the packer skips. A Value already in this shape (a record slot reused
  // from the previous batch) is refilled in place, keeping its buffers.
  const size_t n = def.fields.size();
  if (out->kind() != Value::Kind::kStruct || out->text() != def.name ||
      out->field_names().size() != n) {
    std::vector<std::pair<std::string, Value>> all;
    all.reserve(n);
    for (const Field& f : def.fields) all.emplace_back(f.name, Value());
    *out = Value::Struct(def.name, std::move(all));
  }
  std::vector<Value>& slots = out->mutable_items();
  const std::vector<PyObject*>& names = field_names_[struct_index];
  // Field i's value from `item` (a borrowed reference), or null when absent.
  auto fill = [&](size_t i, PyObject* item) {
    if (item == nullptr || item == Py_None) {
      if (!slots[i].is_null()) slots[i] = Value();
      return true;
    }
    PathScope scope(this, &def.fields[i].name);
    return ToValue(item, def.fields[i].type, &slots[i], depth + 1);
  };
  if (PyDict_Check(obj)) {
    Py_ssize_t found = 0;
    for (size_t i = 0; i < n; ++i) {
      PyObject* item = names[i] ? PyDict_GetItemWithError(obj, names[i]) : nullptr;
      if (item == nullptr && PyErr_Occurred()) return false;
      if (item != nullptr) ++found;
      // A conversion may run Python code that changes the dict; hold the value.
      Py_XINCREF(item);
      bool ok = fill(i, item);
      Py_XDECREF(item);
      if (!ok) return false;
    }
    if (found != PyDict_GET_SIZE(obj)) {
      // Some key is not a field: name the first one.
      Py_ssize_t pos = 0;
      PyObject *k, *v;
      while (PyDict_Next(obj, &pos, &k, &v)) {
        bool known = false;
        if (PyUnicode_Check(k)) {
          Py_ssize_t len;
          const char* str = PyUnicode_AsUTF8AndSize(k, &len);
          if (str == nullptr) PyErr_Clear();
          else known = def.FindField(std::string_view(str, static_cast<size_t>(len))).has_value();
        }
        if (!known) {
          return Fail(PyExc_ValueError,
                      "unknown field " + ShortRepr(k) + " in struct " + def.name);
        }
      }
    }
    return true;
  }
  int is_mapping = PyObject_IsInstance(obj, Types()->abc_mapping);
  if (is_mapping < 0) return false;
  if (!is_mapping && (obj == Py_None || PyLong_Check(obj) || PyFloat_Check(obj) ||
                      PyUnicode_Check(obj) || PyBytes_Check(obj) || PyList_Check(obj) ||
                      PyTuple_Check(obj) || PyAnySet_Check(obj))) {
    return TypeMismatch(schema_.struct_type(struct_index), obj);
  }
  // A Mapping by its items, any other object by its attributes.
  PyObject* missing = is_mapping ? PyExc_KeyError : PyExc_AttributeError;
  for (size_t i = 0; i < n; ++i) {
    PyObject* item = is_mapping ? PyObject_GetItem(obj, names[i]) : PyObject_GetAttr(obj, names[i]);
    if (item == nullptr) {
      if (!PyErr_ExceptionMatches(missing)) return false;
      PyErr_Clear();
    }
    bool ok = fill(i, item);
    Py_XDECREF(item);
    if (!ok) return false;
  }
  return true;
}

bool ValueConverter::ToValue(PyObject* obj, const Type& t, Value* out, int depth) {
  if (depth > kMaxDepth) {
    return Fail(PyExc_ValueError, "nested deeper than " + std::to_string(kMaxDepth));
  }
  if (obj == Py_None && t.kind != TypeKind::kObject) return TypeMismatch(t, obj);
  if (IsIntKind(t.kind)) return IntValue(obj, t, out);
  switch (t.kind) {
    case TypeKind::kFloat32: case TypeKind::kFloat64:
      return FloatValue(obj, t, out);
    case TypeKind::kBool:
      if (PyBool_Check(obj)) {
        *out = Value::Bool(obj == Py_True);
        return true;
      }
      if (IsNumpyBool(obj)) {
        int b = PyObject_IsTrue(obj);
        if (b < 0) return false;
        *out = Value::Bool(b == 1);
        return true;
      }
      return TypeMismatch(t, obj);
    case TypeKind::kStr: {
      if (!PyUnicode_Check(obj)) return TypeMismatch(t, obj);
      const char* s;
      Py_ssize_t n;
      if (!Utf8Of(obj, &s, &n)) {
        PyErr_Clear();
        return Fail(PyExc_ValueError, "str is not valid UTF-8 (it holds a lone surrogate)");
      }
      bytes_converted_ += static_cast<size_t>(n);
      *out = Value::Str(std::string(s, static_cast<size_t>(n)));
      return true;
    }
    case TypeKind::kBytes:
      return BytesValue(obj, t, out);
    case TypeKind::kDate:
      return DateValue(obj, t, out);
    case TypeKind::kDateTime:
      return DateTimeValue(obj, t, out);
    case TypeKind::kDecimal:
      return DecimalValue(obj, t, out);
    case TypeKind::kList: case TypeKind::kTuple: case TypeKind::kFrozenSet:
      return SequenceValue(obj, t, out, depth);
    case TypeKind::kDict:
      return DictValue(obj, t, out, depth);
    case TypeKind::kStruct:
      return StructValue(obj, t.struct_index, out, depth);
    case TypeKind::kNdArray:
      return NdArrayValue(obj, t, out, depth);
    case TypeKind::kObject:
      return ObjectValue(obj, out, depth);
    default:
      return Fail(PyExc_TypeError, "unsupported type " + TypeName(t));
  }
}

bool ToValue(PyObject* obj, const Type& type, const Schema& schema, Value* out,
             std::string_view context) {
  ValueConverter conv(schema);
  return conv.Convert(obj, type, out, context);
}

bool ToLookupValue(PyObject* obj, const Type& type, const Schema& schema, Value* out) {
  ValueConverter conv(schema);
  conv.set_exact_types(true);
  return conv.Convert(obj, type, out, "");
}

}  // namespace mapfs::python
