// Python value → mapfs::Value (py_to_value.h).
#include "py_to_value.h"

#include <datetime.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mapfs/record.h"
#include "module_internal.h"

namespace mapfs::python {
namespace {

// Borrowed module-level objects, imported on first use.
struct Imports {
  PyObject* decimal_class = nullptr;  // decimal.Decimal
  PyObject* numpy = nullptr;          // numpy
  PyObject* ndarray = nullptr;        // numpy.ndarray
  PyObject* utc = nullptr;            // datetime.timezone.utc
};

const Imports* GetImports() {
  static Imports imports;
  static bool ready = false;
  if (ready) return &imports;
  if (PyDateTimeAPI == nullptr) {
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == nullptr) return nullptr;
  }
  PyObject* decimal = PyImport_ImportModule("decimal");
  if (decimal == nullptr) return nullptr;
  imports.decimal_class = PyObject_GetAttrString(decimal, "Decimal");
  Py_DECREF(decimal);
  if (imports.decimal_class == nullptr) return nullptr;
  imports.numpy = PyImport_ImportModule("numpy");
  if (imports.numpy == nullptr) return nullptr;
  imports.ndarray = PyObject_GetAttrString(imports.numpy, "ndarray");
  if (imports.ndarray == nullptr) return nullptr;
  imports.utc = PyDateTimeAPI->TimeZone_UTC;
  ready = true;
  return &imports;
}

// "str 'abc'": the Python type and a short repr, for messages.
std::string Describe(PyObject* obj) {
  std::string out = Py_TYPE(obj)->tp_name;
  PyObject* r = PyObject_Repr(obj);
  if (r == nullptr) {
    PyErr_Clear();
    return out;
  }
  Py_ssize_t n;
  const char* s = PyUnicode_AsUTF8AndSize(r, &n);
  if (s == nullptr) {
    PyErr_Clear();
  } else {
    std::string text(s, static_cast<size_t>(n));
    if (text.size() > 60) text = text.substr(0, 57) + "...";
    out += " " + text;
  }
  Py_DECREF(r);
  return out;
}

class Converter {
 public:
  Converter(const Schema& schema, const Imports* imports) : schema_(schema), im_(imports) {}

  bool Convert(PyObject* obj, const Type& t, Value* out, int depth);

 private:
  bool Mismatch(PyObject* obj, const Type& t) {
    PyErr_Format(PyExc_TypeError, "expected %s, got %s", schema_.TypeName(t).c_str(),
                 Describe(obj).c_str());
    return false;
  }
  bool Bad(PyObject* obj, const Type& t, const std::string& why) {
    PyErr_Format(PyExc_ValueError, "expected %s, got %s (%s)", schema_.TypeName(t).c_str(),
                 Describe(obj).c_str(), why.c_str());
    return false;
  }
  // Puts `prefix` before the message of the pending exception.
  static bool Prefix(const std::string& prefix) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    PyObject* msg = value != nullptr ? PyObject_Str(value) : nullptr;
    if (msg != nullptr && (PyErr_GivenExceptionMatches(type, PyExc_TypeError) ||
                           PyErr_GivenExceptionMatches(type, PyExc_ValueError))) {
      PyObject* exc_class = PyErr_GivenExceptionMatches(type, PyExc_TypeError)
                                ? PyExc_TypeError
                                : PyExc_ValueError;
      PyErr_Format(exc_class, "%s: %U", prefix.c_str(), msg);
      Py_DECREF(msg);
      Py_XDECREF(type);
      Py_XDECREF(value);
      Py_XDECREF(tb);
      return false;
    }
    Py_XDECREF(msg);
    PyErr_Restore(type, value, tb);
    return false;
  }

  bool Int(PyObject* obj, const Type& t, Value* out);
  bool Float(PyObject* obj, const Type& t, Value* out);
  bool DecimalValue(PyObject* obj, const Type& t, Value* out);
  bool DateTimeValue(PyObject* obj, const Type& t, Value* out);
  bool Sequence(PyObject* obj, const Type& t, Value* out, int depth);
  bool DictValue(PyObject* obj, const Type& t, Value* out, int depth);
  bool NdArrayValue(PyObject* obj, const Type& t, Value* out);
  bool StructValue(PyObject* obj, const Type& t, Value* out, int depth);
  bool ObjectValue(PyObject* obj, Value* out, int depth);

  const Schema& schema_;
  const Imports* im_;
};

bool IsNumpyBool(PyObject* obj) {
  const char* name = Py_TYPE(obj)->tp_name;
  return std::string_view(name) == "numpy.bool_" || std::string_view(name) == "numpy.bool";
}

bool Converter::Int(PyObject* obj, const Type& t, Value* out) {
  if (PyBool_Check(obj) || IsNumpyBool(obj) || PyFloat_Check(obj) || !PyIndex_Check(obj)) {
    return Mismatch(obj, t);
  }
  PyObject* i = PyNumber_Index(obj);
  if (i == nullptr) return false;
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(i, &overflow);
  bool unsigned_kind = !IsSignedIntKind(t.kind);
  if (overflow > 0 && unsigned_kind) {
    unsigned long long u = PyLong_AsUnsignedLongLong(i);
    Py_DECREF(i);
    if (PyErr_Occurred()) {
      PyErr_Clear();
      return Bad(obj, t, "out of range");
    }
    if (t.kind != TypeKind::kUInt64) return Bad(obj, t, "out of range");
    *out = Value::UInt(u);
    return true;
  }
  Py_DECREF(i);
  if (overflow != 0) return Bad(obj, t, "out of range");
  if (PyErr_Occurred()) return false;
  int bits = static_cast<int>(FixedWidth(t.kind)) * 8;
  bool fits;
  if (unsigned_kind) {
    fits = v >= 0 && (bits == 64 || static_cast<unsigned long long>(v) < (1ULL << bits));
  } else {
    fits = bits == 64 || (v >= -(1LL << (bits - 1)) && v < (1LL << (bits - 1)));
  }
  if (!fits) return Bad(obj, t, "out of range");
  *out = unsigned_kind ? Value::UInt(static_cast<uint64_t>(v)) : Value::Int(v);
  return true;
}

bool Converter::Float(PyObject* obj, const Type& t, Value* out) {
  if (PyBool_Check(obj) || IsNumpyBool(obj) || PyUnicode_Check(obj) || PyBytes_Check(obj)) {
    return Mismatch(obj, t);
  }
  if (!PyFloat_Check(obj) && !PyLong_Check(obj) &&
      (Py_TYPE(obj)->tp_as_number == nullptr || Py_TYPE(obj)->tp_as_number->nb_float == nullptr)) {
    return Mismatch(obj, t);
  }
  double d = PyFloat_AsDouble(obj);
  if (d == -1.0 && PyErr_Occurred()) {
    if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
      PyErr_Clear();
      return Bad(obj, t, "out of range");
    }
    return false;
  }
  *out = Value::Float(d);
  return true;
}

bool Converter::DecimalValue(PyObject* obj, const Type& t, Value* out) {
  PyObject* text = nullptr;
  if (PyObject_IsInstance(obj, im_->decimal_class) == 1 || PyUnicode_Check(obj)) {
    text = PyObject_Str(obj);
  } else if (PyLong_Check(obj) && !PyBool_Check(obj)) {
    text = PyObject_Str(obj);
  } else if (PyFloat_Check(obj)) {
    text = PyObject_Repr(obj);
  } else {
    return Mismatch(obj, t);
  }
  if (text == nullptr) return false;
  Py_ssize_t n;
  const char* s = PyUnicode_AsUTF8AndSize(text, &n);
  if (s == nullptr) {
    Py_DECREF(text);
    return false;
  }
  Result<Decimal> d = Decimal::Parse(std::string_view(s, static_cast<size_t>(n)));
  Py_DECREF(text);
  if (!d.ok()) return Bad(obj, t, d.status().message());
  *out = Value::FromDecimal(std::move(*d));
  return true;
}

bool Converter::DateTimeValue(PyObject* obj, const Type& t, Value* out) {
  if (!PyDateTime_Check(obj)) return Mismatch(obj, t);
  PyObject* dt = obj;
  Py_INCREF(dt);
  PyObject* tz = PyObject_GetAttrString(obj, "tzinfo");
  if (tz == nullptr) {
    Py_DECREF(dt);
    return false;
  }
  if (tz != Py_None) {
    Py_DECREF(dt);
    dt = PyObject_CallMethod(obj, "astimezone", "O", im_->utc);
  }
  Py_DECREF(tz);
  if (dt == nullptr) {
    if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
      PyErr_Clear();
      return Bad(obj, t, "out of range");
    }
    return false;
  }
  Result<Date> day = Date::FromYmd(PyDateTime_GET_YEAR(dt), PyDateTime_GET_MONTH(dt),
                                   PyDateTime_GET_DAY(dt));
  int64_t micros = (PyDateTime_DATE_GET_HOUR(dt) * 3600LL + PyDateTime_DATE_GET_MINUTE(dt) * 60LL +
                    PyDateTime_DATE_GET_SECOND(dt)) * 1000000LL +
                   PyDateTime_DATE_GET_MICROSECOND(dt);
  Py_DECREF(dt);
  if (!day.ok()) return Bad(obj, t, day.status().message());
  *out = Value::FromDateTime(DateTime{day->days * 86400LL * 1000000LL + micros});
  return true;
}

bool IsAnyView(PyObject* obj) {
  std::string_view name = Py_TYPE(obj)->tp_name;
  return name == "mapfs.SequenceView" || name == "mapfs.SetView" || name == "mapfs.DictView";
}

// list, tuple and frozenset from any sequence-like input.
bool Converter::Sequence(PyObject* obj, const Type& t, Value* out, int depth) {
  bool ok_input = PyList_Check(obj) || PyTuple_Check(obj) ||
                  (t.kind == TypeKind::kFrozenSet && PyAnySet_Check(obj)) ||
                  (IsAnyView(obj) && std::string_view(Py_TYPE(obj)->tp_name) != "mapfs.DictView");
  if (!ok_input) return Mismatch(obj, t);
  PyObject* fast = PySequence_Fast(obj, "expected a sequence");
  if (fast == nullptr) return false;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
  if (t.kind == TypeKind::kTuple && !t.is_variadic_tuple() &&
      n != static_cast<Py_ssize_t>(t.params.size())) {
    Py_DECREF(fast);
    return Bad(obj, t, "a tuple of " + std::to_string(t.params.size()) + " elements");
  }
  static const Type kObject = Type::Object();
  std::vector<Value> items(static_cast<size_t>(n));
  for (Py_ssize_t i = 0; i < n; ++i) {
    const Type& et = t.params.empty()                  ? kObject
                     : t.kind == TypeKind::kTuple ? t.params[static_cast<size_t>(i)]
                                                  : t.params[0];
    if (!Convert(PySequence_Fast_GET_ITEM(fast, i), et, &items[static_cast<size_t>(i)],
                 depth + 1)) {
      Py_DECREF(fast);
      return Prefix("[" + std::to_string(i) + "]");
    }
  }
  Py_DECREF(fast);
  if (t.kind == TypeKind::kList) *out = Value::List(std::move(items));
  else if (t.kind == TypeKind::kTuple) *out = Value::Tuple(std::move(items));
  else *out = Value::FrozenSet(std::move(items));
  return true;
}

bool Converter::DictValue(PyObject* obj, const Type& t, Value* out, int depth) {
  if (!PyDict_Check(obj) && std::string_view(Py_TYPE(obj)->tp_name) != "mapfs.DictView") {
    return Mismatch(obj, t);
  }
  PyObject* items = PyMapping_Items(obj);
  if (items == nullptr) return false;
  std::vector<std::pair<Value, Value>> entries;
  Py_ssize_t n = PyList_GET_SIZE(items);
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* pair = PyList_GET_ITEM(items, i);
    if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
      Py_DECREF(items);
      PyErr_SetString(PyExc_TypeError, "dict items must be pairs");
      return false;
    }
    Value k, v;
    if (!Convert(PyTuple_GET_ITEM(pair, 0), t.params[0], &k, depth + 1)) {
      Py_DECREF(items);
      return Prefix("key");
    }
    if (!Convert(PyTuple_GET_ITEM(pair, 1), t.params[1], &v, depth + 1)) {
      std::string where = "[" + Describe(PyTuple_GET_ITEM(pair, 0)) + "]";
      Py_DECREF(items);
      return Prefix(where);
    }
    entries.emplace_back(std::move(k), std::move(v));
  }
  Py_DECREF(items);
  *out = Value::Dict(std::move(entries));
  return true;
}

bool Converter::NdArrayValue(PyObject* obj, const Type& t, Value* out) {
  bool is_array = PyObject_IsInstance(obj, im_->ndarray) == 1;
  if (!is_array && !PyList_Check(obj) && !PyTuple_Check(obj)) return Mismatch(obj, t);
  PyObject* arr;
  if (t.dtype) {
    std::string name(DTypeName(*t.dtype));
    if (is_array) {
      PyObject* from = PyObject_GetAttrString(obj, "dtype");
      if (from == nullptr) return false;
      PyObject* can =
          PyObject_CallMethod(im_->numpy, "can_cast", "Oss", from, name.c_str(), "same_kind");
      Py_DECREF(from);
      if (can == nullptr) return false;
      int ok = PyObject_IsTrue(can);
      Py_DECREF(can);
      if (ok != 1) return Mismatch(obj, t);
    }
    arr = PyObject_CallMethod(im_->numpy, "ascontiguousarray", "Os", obj, name.c_str());
  } else {
    arr = PyObject_CallMethod(im_->numpy, "ascontiguousarray", "O", obj);
  }
  if (arr == nullptr) {
    if (PyErr_ExceptionMatches(PyExc_ValueError) || PyErr_ExceptionMatches(PyExc_TypeError)) {
      PyErr_Clear();
      return Bad(obj, t, "not a regular array of numbers");
    }
    return false;
  }
  PyObject* dtype = PyObject_GetAttrString(arr, "dtype");
  PyObject* dname = dtype == nullptr ? nullptr : PyObject_GetAttrString(dtype, "name");
  PyObject* order = dtype == nullptr ? nullptr : PyObject_GetAttrString(dtype, "byteorder");
  Py_XDECREF(dtype);
  const char* dn = dname == nullptr ? nullptr : PyUnicode_AsUTF8(dname);
  const char* bo = order == nullptr ? nullptr : PyUnicode_AsUTF8(order);
  std::optional<DType> d = dn == nullptr ? std::nullopt : DTypeFromName(dn);
  bool big_endian = bo != nullptr && bo[0] == '>';
  Py_XDECREF(dname);
  Py_XDECREF(order);
  if (PyErr_Occurred()) {
    Py_DECREF(arr);
    return false;
  }
  if (!d || big_endian) {
    Py_DECREF(arr);
    return Mismatch(obj, t);
  }
  Py_buffer view;
  if (PyObject_GetBuffer(arr, &view, PyBUF_C_CONTIGUOUS | PyBUF_ND) < 0) {
    Py_DECREF(arr);
    return false;
  }
  NdArray a;
  a.dtype = *d;
  for (int i = 0; i < view.ndim; ++i) a.shape.push_back(static_cast<uint64_t>(view.shape[i]));
  a.data.assign(static_cast<const char*>(view.buf), static_cast<size_t>(view.len));
  PyBuffer_Release(&view);
  Py_DECREF(arr);
  *out = Value::FromNdArray(std::move(a));
  return true;
}

bool Converter::StructValue(PyObject* obj, const Type& t, Value* out, int depth) {
  const StructDef& def = schema_.struct_def(t.struct_index);
  View rec;
  if (RecordViewFromPy(obj, &rec)) {
    if (rec.struct_def().name != def.name) return Mismatch(obj, t);
    Result<Value> v = Materialize(rec);
    if (!v.ok()) {
      SetStatusError(v.status());
      return false;
    }
    *out = std::move(*v);
    return true;
  }
  if (PyUnicode_Check(obj) || PyBytes_Check(obj) || PyLong_Check(obj) || PyFloat_Check(obj) ||
      PyList_Check(obj) || PyTuple_Check(obj) || PyAnySet_Check(obj) || obj == Py_None) {
    return Mismatch(obj, t);
  }
  bool is_dict = PyDict_Check(obj);
  if (is_dict) {
    PyObject *key, *val;
    Py_ssize_t pos = 0;
    while (PyDict_Next(obj, &pos, &key, &val)) {
      Py_ssize_t n;
      const char* s = PyUnicode_Check(key) ? PyUnicode_AsUTF8AndSize(key, &n) : nullptr;
      if (s == nullptr) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "%s has no field %R", def.name.c_str(), key);
        return false;
      }
      if (!def.FindField(std::string_view(s, static_cast<size_t>(n)))) {
        PyErr_Format(PyExc_ValueError, "%s has no field %R", def.name.c_str(), key);
        return false;
      }
    }
  }
  std::vector<std::pair<std::string, Value>> fields;
  for (const Field& f : def.fields) {
    PyObject* v;
    if (is_dict) {
      v = PyDict_GetItemString(obj, f.name.c_str());
      Py_XINCREF(v);
    } else {
      v = PyObject_GetAttrString(obj, f.name.c_str());
      if (v == nullptr) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) return false;
        PyErr_Clear();
      }
    }
    if (v == nullptr || v == Py_None) {
      Py_XDECREF(v);
      continue;
    }
    Value fv;
    bool ok = Convert(v, f.type, &fv, depth + 1);
    Py_DECREF(v);
    if (!ok) return Prefix("field \"" + f.name + "\"");
    fields.emplace_back(f.name, std::move(fv));
  }
  *out = Value::Struct(def.name, std::move(fields));
  return true;
}

bool Converter::ObjectValue(PyObject* obj, Value* out, int depth) {
  static const Type kObject = Type::Object();
  if (obj == Py_None) {
    *out = Value::Null();
    return true;
  }
  if (PyBool_Check(obj) || IsNumpyBool(obj)) {
    *out = Value::Bool(PyObject_IsTrue(obj) == 1);
    return true;
  }
  if (PyLong_Check(obj) || (!PyFloat_Check(obj) && PyIndex_Check(obj) &&
                            PyObject_IsInstance(obj, im_->ndarray) != 1)) {
    Type t = Type::Scalar(TypeKind::kInt64);
    if (Int(obj, t, out)) return true;
    if (!PyErr_ExceptionMatches(PyExc_ValueError)) return false;
    PyErr_Clear();
    return Int(obj, Type::Scalar(TypeKind::kUInt64), out);
  }
  if (PyFloat_Check(obj)) return Float(obj, Type::Scalar(TypeKind::kFloat64), out);
  if (PyUnicode_Check(obj)) return Convert(obj, Type::Scalar(TypeKind::kStr), out, depth);
  if (PyBytes_Check(obj) || PyByteArray_Check(obj) || PyMemoryView_Check(obj)) {
    return Convert(obj, Type::Scalar(TypeKind::kBytes), out, depth);
  }
  if (PyDateTime_Check(obj)) return DateTimeValue(obj, Type::Scalar(TypeKind::kDateTime), out);
  if (PyDate_Check(obj)) return Convert(obj, Type::Scalar(TypeKind::kDate), out, depth);
  if (PyObject_IsInstance(obj, im_->decimal_class) == 1) {
    return DecimalValue(obj, Type::Scalar(TypeKind::kDecimal), out);
  }
  std::string_view name = Py_TYPE(obj)->tp_name;
  if (PyList_Check(obj) || name == "mapfs.SequenceView") {
    return Sequence(obj, Type::List(kObject), out, depth);
  }
  if (PyTuple_Check(obj)) return Sequence(obj, Type::Tuple({}), out, depth);
  if (PyAnySet_Check(obj) || name == "mapfs.SetView") {
    return Sequence(obj, Type::FrozenSet(kObject), out, depth);
  }
  if (PyDict_Check(obj) || name == "mapfs.DictView") {
    return DictValue(obj, Type::Dict(kObject, kObject), out, depth);
  }
  if (PyObject_IsInstance(obj, im_->ndarray) == 1) {
    return NdArrayValue(obj, Type::NdArray(std::nullopt), out);
  }
  View rec;
  if (RecordViewFromPy(obj, &rec)) {
    Result<Value> v = Materialize(rec);
    if (!v.ok()) {
      SetStatusError(v.status());
      return false;
    }
    *out = std::move(*v);
    return true;
  }
  return Mismatch(obj, kObject);
}

bool Converter::Convert(PyObject* obj, const Type& t, Value* out, int depth) {
  if (depth > kMaxDepth) {
    PyErr_Format(PyExc_ValueError, "nested deeper than %d", kMaxDepth);
    return false;
  }
  if (obj == Py_None && t.kind != TypeKind::kObject) {
    *out = Value::Null();  // the packer says where null is not allowed
    return true;
  }
  if (IsIntKind(t.kind)) return Int(obj, t, out);
  switch (t.kind) {
    case TypeKind::kFloat32:
    case TypeKind::kFloat64: return Float(obj, t, out);
    case TypeKind::kBool:
      if (!PyBool_Check(obj) && !IsNumpyBool(obj)) return Mismatch(obj, t);
      *out = Value::Bool(PyObject_IsTrue(obj) == 1);
      return true;
    case TypeKind::kStr: {
      if (!PyUnicode_Check(obj)) return Mismatch(obj, t);
      Py_ssize_t n;
      const char* s = PyUnicode_AsUTF8AndSize(obj, &n);
      if (s == nullptr) {
        PyErr_Clear();
        return Bad(obj, t, "not encodable as UTF-8");
      }
      *out = Value::Str(std::string(s, static_cast<size_t>(n)));
      return true;
    }
    case TypeKind::kBytes: {
      if (!PyBytes_Check(obj) && !PyByteArray_Check(obj) && !PyMemoryView_Check(obj)) {
        return Mismatch(obj, t);
      }
      Py_buffer b;
      if (PyObject_GetBuffer(obj, &b, PyBUF_C_CONTIGUOUS) < 0) return false;
      *out = Value::Bytes(std::string(static_cast<const char*>(b.buf), static_cast<size_t>(b.len)));
      PyBuffer_Release(&b);
      return true;
    }
    case TypeKind::kDate: {
      if (!PyDate_Check(obj) || PyDateTime_Check(obj)) return Mismatch(obj, t);
      Result<Date> d =
          Date::FromYmd(PyDateTime_GET_YEAR(obj), PyDateTime_GET_MONTH(obj), PyDateTime_GET_DAY(obj));
      if (!d.ok()) return Bad(obj, t, d.status().message());
      *out = Value::FromDate(*d);
      return true;
    }
    case TypeKind::kDateTime: return DateTimeValue(obj, t, out);
    case TypeKind::kDecimal: return DecimalValue(obj, t, out);
    case TypeKind::kList:
    case TypeKind::kTuple:
    case TypeKind::kFrozenSet: return Sequence(obj, t, out, depth);
    case TypeKind::kDict: return DictValue(obj, t, out, depth);
    case TypeKind::kNdArray: return NdArrayValue(obj, t, out);
    case TypeKind::kStruct: return StructValue(obj, t, out, depth);
    case TypeKind::kObject: return ObjectValue(obj, out, depth);
    default: return Mismatch(obj, t);
  }
}

}  // namespace

bool PyToValue(PyObject* obj, const Type& type, const Schema& schema, Value* out) {
  const Imports* im = GetImports();
  if (im == nullptr) return false;
  return Converter(schema, im).Convert(obj, type, out, 0);
}

}  // namespace mapfs::python
