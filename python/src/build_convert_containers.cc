// Containers of the build conversion: lists, tuples, sets, dicts and
// `object` values typed by their run-time Python type (see build_convert.h).
#include <string>
#include <utility>
#include <vector>

#include "build_convert_internal.h"
#include "module_internal.h"

namespace mapfs::python {

using namespace convert_internal;  // NOLINT: the conversion's shared vocabulary

// One element of a list, tuple or set, appended to `items`. Int elements of
// an int type, the common case, skip the generic dispatch.
bool ValueConverter::Element(PyObject* e, const Type& et, size_t i, std::vector<Value>* items,
                             int depth) {
  if (IsIntKind(et.kind) && PyLong_CheckExact(e)) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(e, &overflow);
    IntRange r = IntRangeOf(et.kind);
    if (overflow == 0 && !(v == -1 && PyErr_Occurred()) && v >= r.min &&
        (v < 0 || static_cast<uint64_t>(v) <= r.max)) {
      items->push_back(IsSignedIntKind(et.kind) ? Value::Int(v)
                                                : Value::UInt(static_cast<uint64_t>(v)));
      return true;
    }
    PyErr_Clear();  // the general path below reports it
  }
  PathScope scope(this, i);
  items->emplace_back();
  return ToValue(e, et, &items->back(), depth + 1);
}

namespace {

// The element vector to fill for a container Value of `kind`: `out`'s own
// when it already is one (its capacity is reused), else `fresh`.
std::vector<Value>* ElementsOf(Value* out, Value::Kind kind, std::vector<Value>* fresh) {
  std::vector<Value>* items = out->kind() == kind ? &out->mutable_items() : fresh;
  items->clear();
  return items;
}

Value::Kind SequenceKind(TypeKind k) {
  return k == TypeKind::kList    ? Value::Kind::kList
         : k == TypeKind::kTuple ? Value::Kind::kTuple
                                 : Value::Kind::kFrozenSet;
}

void SetSequence(Value* out, Value::Kind kind, std::vector<Value>* items, std::vector<Value>* fresh) {
  if (items != fresh) return;  // filled in place
  switch (kind) {
    case Value::Kind::kList: *out = Value::List(std::move(*fresh)); break;
    case Value::Kind::kTuple: *out = Value::Tuple(std::move(*fresh)); break;
    default: *out = Value::FrozenSet(std::move(*fresh)); break;
  }
}

}  // namespace

bool ValueConverter::SetValue(PyObject* set, const Type& t, Value* out, int depth) {
  static const Type kObjectType = Type::Object();
  const Type& et = t.params.empty() ? kObjectType : t.params[0];
  std::vector<Value> fresh;
  std::vector<Value>& items = *ElementsOf(out, Value::Kind::kFrozenSet, &fresh);
  items.reserve(static_cast<size_t>(PySet_GET_SIZE(set)));
  Py_ssize_t pos = 0;
  PyObject* e;
  Py_hash_t hash;
  size_t i = 0;
  while (_PySet_NextEntry(set, &pos, &e, &hash)) {
    // A conversion may run Python code that mutates the set; hold the element.
    Py_INCREF(e);
    bool ok = Element(e, et, i++, &items, depth);
    Py_DECREF(e);
    if (!ok) return false;
  }
  bytes_converted_ += items.size() * sizeof(Value);
  SetSequence(out, Value::Kind::kFrozenSet, &items, &fresh);
  return true;
}

bool ValueConverter::SequenceValue(PyObject* obj, const Type& t, Value* out, int depth) {
  const bool fixed_tuple = t.kind == TypeKind::kTuple && !t.params.empty();
  // Sets and dicts have no order a list or tuple could keep from run to run.
  if (PyUnicode_Check(obj) || PyBytes_Check(obj) || PyByteArray_Check(obj) || PyDict_Check(obj) ||
      (t.kind != TypeKind::kFrozenSet && PyAnySet_Check(obj))) {
    return TypeMismatch(t, obj);
  }
  if (PyAnySet_CheckExact(obj)) return SetValue(obj, t, out, depth);
  PyObject* seq;
  if (PyList_Check(obj) || PyTuple_Check(obj)) {
    seq = obj;
    Py_INCREF(seq);
  } else {
    if (Py_TYPE(obj)->tp_iter == nullptr && !PySequence_Check(obj)) return TypeMismatch(t, obj);
    seq = PySequence_Fast(obj, "not iterable");
    if (seq == nullptr) {
      if (!PyErr_ExceptionMatches(PyExc_TypeError)) return false;
      PyErr_Clear();
      return TypeMismatch(t, obj);
    }
  }
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  if (fixed_tuple && static_cast<size_t>(n) != t.params.size()) {
    Py_DECREF(seq);
    return Fail(PyExc_ValueError, "expected " + TypeName(t) + " of " +
                                      std::to_string(t.params.size()) + " elements, got " +
                                      std::to_string(n));
  }
  static const Type kObjectType = Type::Object();
  const Value::Kind kind = SequenceKind(t.kind);
  std::vector<Value> fresh;
  std::vector<Value>& items = *ElementsOf(out, kind, &fresh);
  items.reserve(static_cast<size_t>(n));
  // A list may shrink while Python code runs during a conversion: re-read its size.
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); ++i) {
    const Type& et = fixed_tuple ? t.params[i] : t.params.empty() ? kObjectType : t.params[0];
    PyObject* e = PySequence_Fast_GET_ITEM(seq, i);
    if (e == Py_None && fixed_tuple) {  // an absent tuple element
      items.emplace_back();
      continue;
    }
    Py_INCREF(e);
    bool ok = Element(e, et, static_cast<size_t>(i), &items, depth);
    Py_DECREF(e);
    if (!ok) {
      Py_DECREF(seq);
      return false;
    }
  }
  Py_DECREF(seq);
  if (fixed_tuple && items.size() != t.params.size()) {
    return Fail(PyExc_ValueError, "the tuple changed size while being converted");
  }
  bytes_converted_ += items.size() * sizeof(Value);
  SetSequence(out, kind, &items, &fresh);
  return true;
}

bool ValueConverter::DictValue(PyObject* obj, const Type& t, Value* out, int depth) {
  static const Type kObjectType = Type::Object();
  const Type& kt = t.params.size() == 2 ? t.params[0] : kObjectType;
  const Type& vt = t.params.size() == 2 ? t.params[1] : kObjectType;
  PyObject* items_owner = nullptr;
  std::vector<std::pair<Value, Value>> items;
  auto convert_entry = [&](PyObject* k, PyObject* v) {
    PathScope scope(this, k);
    items.emplace_back();
    if (k == Py_None && kt.kind != TypeKind::kObject) {
      return Fail(PyExc_TypeError, "expected " + TypeName(kt) + " key, got None");
    }
    if (!ToValue(k, kt, &items.back().first, depth + 1)) return false;
    if (v == Py_None && vt.kind != TypeKind::kObject) return TypeMismatch(vt, v);
    return ToValue(v, vt, &items.back().second, depth + 1);
  };
  if (PyDict_Check(obj)) {
    items.reserve(static_cast<size_t>(PyDict_GET_SIZE(obj)));
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(obj, &pos, &k, &v)) {
      Py_INCREF(k);
      Py_INCREF(v);
      bool ok = convert_entry(k, v);
      Py_DECREF(k);
      Py_DECREF(v);
      if (!ok) return false;
    }
  } else {
    int is_mapping = PyObject_IsInstance(obj, Types()->abc_mapping);
    if (is_mapping < 0) return false;
    if (!is_mapping && !PyObject_HasAttrString(obj, "items")) return TypeMismatch(t, obj);
    PyObject* list = PyObject_CallMethod(obj, "items", nullptr);
    if (list == nullptr) return false;
    items_owner = PySequence_Fast(list, "items() is not iterable");
    Py_DECREF(list);
    if (items_owner == nullptr) return false;
    // items() may return a list its owner keeps and changes while we convert.
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(items_owner); ++i) {
      PyObject* pair = PySequence_Fast_GET_ITEM(items_owner, i);
      if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
        Py_DECREF(items_owner);
        return Fail(PyExc_TypeError, "items() of " + Describe(obj) + " gave a non-pair");
      }
      Py_INCREF(pair);
      bool ok = convert_entry(PyTuple_GET_ITEM(pair, 0), PyTuple_GET_ITEM(pair, 1));
      Py_DECREF(pair);
      if (!ok) {
        Py_DECREF(items_owner);
        return false;
      }
    }
    Py_DECREF(items_owner);
  }
  bytes_converted_ += items.size() * 2 * sizeof(Value);
  *out = Value::Dict(std::move(items));
  return true;
}

bool ValueConverter::ObjectValue(PyObject* obj, Value* out, int depth) {
  static const Type kObjectType = Type::Object();
  if (obj == Py_None) { *out = Value::Null(); return true; }
  if (PyBool_Check(obj) || IsNumpyBool(obj)) {
    int b = PyObject_IsTrue(obj);
    if (b < 0) return false;
    *out = Value::Bool(b == 1);
    return true;
  }
  if (IsIntLike(obj) && (PyLong_Check(obj) || IsNumpyScalar(obj))) {
    int64_t s = 0;
    uint64_t u = 0;
    bool is_unsigned = false;
    int rc = ReadInt(obj, &s, &u, &is_unsigned);
    if (rc < 0) return false;
    if (rc > 0) {
      return Fail(PyExc_ValueError, "value " + ShortRepr(obj) + " is beyond int64/uint64");
    }
    *out = is_unsigned ? Value::UInt(u) : Value::Int(s);
    return true;
  }
  if (PyFloat_Check(obj)) { *out = Value::Float(PyFloat_AS_DOUBLE(obj)); return true; }
  if (PyUnicode_Check(obj)) return ToValue(obj, Type::Scalar(TypeKind::kStr), out, depth);
  if (PyBytes_Check(obj) || PyByteArray_Check(obj) || PyMemoryView_Check(obj)) {
    return BytesValue(obj, Type::Scalar(TypeKind::kBytes), out);
  }
  if (IsPyDateTime(obj)) return DateTimeValue(obj, Type::Scalar(TypeKind::kDateTime), out);
  if (IsPyDate(obj)) return DateValue(obj, Type::Scalar(TypeKind::kDate), out);
  static const Type kList = Type::List(kObjectType);
  static const Type kTuple = Type::Tuple({});
  static const Type kSet = Type::FrozenSet(kObjectType);
  static const Type kDict = Type::Dict(kObjectType, kObjectType);
  static const Type kNdArray = Type::NdArray(std::nullopt);
  if (PyList_Check(obj)) return SequenceValue(obj, kList, out, depth + 1);
  if (PyTuple_Check(obj)) return SequenceValue(obj, kTuple, out, depth + 1);
  if (PyAnySet_Check(obj)) return SequenceValue(obj, kSet, out, depth + 1);
  if (PyDict_Check(obj)) return DictValue(obj, kDict, out, depth + 1);
  const PyTypes* types = Types();
  if (PyObject_TypeCheck(obj, reinterpret_cast<PyTypeObject*>(types->decimal))) {
    return DecimalValue(obj, Type::Scalar(TypeKind::kDecimal), out);
  }
  if (PyObject_TypeCheck(obj, reinterpret_cast<PyTypeObject*>(types->ndarray))) {
    return NdArrayValue(obj, kNdArray, out, depth);
  }
  if (IsNumpyScalar(obj) && Py_TYPE(obj)->tp_as_number && Py_TYPE(obj)->tp_as_number->nb_float) {
    double d = PyFloat_AsDouble(obj);
    if (d == -1.0 && PyErr_Occurred()) return false;
    *out = Value::Float(d);
    return true;
  }
  bool handled = false;
  if (!ViewValue(obj, &handled, out)) return false;
  if (handled) {
    // A struct stored in an object is tagged by its typecode in this schema.
    auto index = schema_.FindStruct(out->text());
    if (!index || schema_.struct_def(*index).typecode.empty()) {
      return Fail(PyExc_TypeError, "a record view of " + out->text() +
                                       " cannot be an object value: this schema gives " +
                                       out->text() + " no typecode");
    }
    return true;
  }
  // Other containers (e.g. the views of a segment) by their abstract type.
  int r = PyObject_IsInstance(obj, types->abc_mapping);
  if (r < 0) return false;
  if (r) return DictValue(obj, kDict, out, depth + 1);
  r = PyObject_IsInstance(obj, types->abc_set);
  if (r < 0) return false;
  if (r) return SequenceValue(obj, kSet, out, depth + 1);
  r = PyObject_IsInstance(obj, types->abc_sequence);
  if (r < 0) return false;
  if (r) return SequenceValue(obj, kList, out, depth + 1);
  return Fail(PyExc_TypeError, "cannot store " + Describe(obj) + " in an object value");
}

}  // namespace mapfs::python
