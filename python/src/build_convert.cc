// Python -> Value conversion for building (see build_convert.h). The hot path
// (dict records of ints, floats, strs and int sets) uses the CPython API
// directly: interned field names, PyDict_GetItemWithError, no pybind11 casts.
#include "build_convert.h"

// clang-format off
#include <Python.h>
#include <datetime.h>
// clang-format on

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <optional>
#include <utility>

#include "module_internal.h"

namespace mapfs::python {
namespace {

// Python types looked up once (strong references kept for the process).
struct PyTypes {
  PyObject* decimal = nullptr;        // decimal.Decimal
  PyObject* ndarray = nullptr;        // numpy.ndarray
  PyObject* abc_mapping = nullptr;    // collections.abc.Mapping
  PyObject* abc_set = nullptr;        // collections.abc.Set
  PyObject* abc_sequence = nullptr;   // collections.abc.Sequence
};

PyObject* ImportAttr(const char* module, const char* name) {
  PyObject* mod = PyImport_ImportModule(module);
  if (mod == nullptr) return nullptr;
  PyObject* attr = PyObject_GetAttrString(mod, name);
  Py_DECREF(mod);
  return attr;
}

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

struct IntRange {
  int64_t min;
  uint64_t max;
};
IntRange IntRangeOf(TypeKind k) {
  switch (k) {
    case TypeKind::kInt8: return {INT8_MIN, INT8_MAX};
    case TypeKind::kInt16: return {INT16_MIN, INT16_MAX};
    case TypeKind::kInt32: return {INT32_MIN, INT32_MAX};
    case TypeKind::kInt64: return {INT64_MIN, INT64_MAX};
    case TypeKind::kUInt8: return {0, UINT8_MAX};
    case TypeKind::kUInt16: return {0, UINT16_MAX};
    case TypeKind::kUInt32: return {0, UINT32_MAX};
    default: return {0, UINT64_MAX};
  }
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

// An integer's value: *neg and its magnitude class. Returns 0 ok, 1 beyond
// int64/uint64 (no error set), -1 a Python error.
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

constexpr int64_t kMicrosPerDay = int64_t{86400} * 1000000;
constexpr int64_t kMinMicros = int64_t{-719162} * kMicrosPerDay;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxMicros = (int64_t{2932896} + 1) * kMicrosPerDay - 1;  // 9999-12-31T23:59:59.999999Z

// One leaf of an ndarray given as nested lists.
struct Leaf {
  enum Kind : uint8_t { kBool, kInt, kUInt, kFloat } kind;
  bool b = false;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
};

}  // namespace

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

bool ValueConverter::IntValue(PyObject* obj, const Type& t, Value* out) {
  if (!IsIntLike(obj)) return TypeMismatch(t, obj);
  int64_t s = 0;
  uint64_t u = 0;
  bool is_unsigned = false;
  int rc = ReadInt(obj, &s, &u, &is_unsigned);
  if (rc < 0) return false;
  IntRange r = IntRangeOf(t.kind);
  bool ok = rc == 0 && (is_unsigned ? u <= r.max
                                    : s >= r.min && (s < 0 || static_cast<uint64_t>(s) <= r.max));
  if (!ok) {
    return Fail(PyExc_ValueError,
                "value " + ShortRepr(obj) +
                    " out of range for " + TypeName(t));
  }
  if (IsSignedIntKind(t.kind)) *out = Value::Int(s);
  else *out = Value::UInt(is_unsigned ? u : static_cast<uint64_t>(s));
  return true;
}

bool ValueConverter::FloatValue(PyObject* obj, const Type& t, Value* out) {
  double d;
  if (PyFloat_Check(obj)) {
    d = PyFloat_AS_DOUBLE(obj);
  } else if (IsIntLike(obj)) {
    int64_t s = 0;
    uint64_t u = 0;
    bool is_unsigned = false;
    int rc = ReadInt(obj, &s, &u, &is_unsigned);
    if (rc < 0) return false;
    if (rc > 0) {
      PyObject* f = PyNumber_Float(obj);
      if (f == nullptr) {
        PyErr_Clear();
        return Fail(PyExc_ValueError, "value out of range for " + TypeName(t));
      }
      d = PyFloat_AS_DOUBLE(f);
      Py_DECREF(f);
    } else if (t.kind == TypeKind::kFloat32) {
      // Rounded once, straight to float32, as the JSONL reader rounds an integer token.
      d = is_unsigned ? static_cast<float>(u) : static_cast<float>(s);
    } else {
      d = is_unsigned ? static_cast<double>(u) : static_cast<double>(s);
    }
  } else if (!PyBool_Check(obj) && !IsNumpyBool(obj) && IsNumpyScalar(obj) &&
             Py_TYPE(obj)->tp_as_number != nullptr &&
             Py_TYPE(obj)->tp_as_number->nb_float != nullptr) {
    d = PyFloat_AsDouble(obj);
    if (d == -1.0 && PyErr_Occurred()) return false;
  } else {
    return TypeMismatch(t, obj);
  }
  if (t.kind == TypeKind::kFloat32 && std::isfinite(d) && !std::isfinite(static_cast<float>(d))) {
    return Fail(PyExc_ValueError, "value " + ShortRepr(obj) + " out of range for float32");
  }
  if (t.kind == TypeKind::kFloat32) d = static_cast<float>(d);
  *out = Value::Float(d);
  return true;
}

bool ValueConverter::BytesValue(PyObject* obj, const Type& t, Value* out) {
  if (PyBytes_Check(obj)) {
    bytes_converted_ += static_cast<size_t>(PyBytes_GET_SIZE(obj));
    *out = Value::Bytes(std::string(PyBytes_AS_STRING(obj), static_cast<size_t>(PyBytes_GET_SIZE(obj))));
    return true;
  }
  if (PyByteArray_Check(obj)) {
    bytes_converted_ += static_cast<size_t>(PyByteArray_GET_SIZE(obj));
    *out = Value::Bytes(
        std::string(PyByteArray_AS_STRING(obj), static_cast<size_t>(PyByteArray_GET_SIZE(obj))));
    return true;
  }
  if (PyUnicode_Check(obj) || !PyObject_CheckBuffer(obj)) return TypeMismatch(t, obj);
  // memoryview and other buffers, contiguous or not.
  PyObject* b = PyBytes_FromObject(obj);
  if (b == nullptr) return false;
  bytes_converted_ += static_cast<size_t>(PyBytes_GET_SIZE(b));
  *out = Value::Bytes(std::string(PyBytes_AS_STRING(b), static_cast<size_t>(PyBytes_GET_SIZE(b))));
  Py_DECREF(b);
  return true;
}

bool ValueConverter::DateValue(PyObject* obj, const Type& t, Value* out) {
  if (PyDateTime_Check(obj)) return TypeMismatch(t, obj);  // would silently drop the time
  if (PyDate_Check(obj)) {
    Result<Date> d = Date::FromYmd(PyDateTime_GET_YEAR(obj), PyDateTime_GET_MONTH(obj),
                                   PyDateTime_GET_DAY(obj));
    if (!d.ok()) return Fail(PyExc_ValueError, "date " + Describe(obj) + ": " + d.status().message());
    *out = Value::FromDate(*d);
    return true;
  }
  if (PyUnicode_Check(obj)) {
    const char* s;
    Py_ssize_t n;
    if (!Utf8Of(obj, &s, &n)) return false;
    Result<Date> d = Date::Parse(std::string_view(s, static_cast<size_t>(n)));
    if (!d.ok()) {
      return Fail(PyExc_ValueError, "expected date, got " + Describe(obj) + " (" +
                                        d.status().message() + ")");
    }
    *out = Value::FromDate(*d);
    return true;
  }
  return TypeMismatch(t, obj);
}

bool ValueConverter::DateTimeValue(PyObject* obj, const Type& t, Value* out) {
  if (PyDateTime_Check(obj)) {
    Result<Date> day = Date::FromYmd(PyDateTime_GET_YEAR(obj), PyDateTime_GET_MONTH(obj),
                                     PyDateTime_GET_DAY(obj));
    if (!day.ok()) {
      return Fail(PyExc_ValueError, "datetime " + Describe(obj) + ": " + day.status().message());
    }
    int64_t micros = int64_t{day->days} * kMicrosPerDay +
                     (int64_t{PyDateTime_DATE_GET_HOUR(obj)} * 3600 +
                      PyDateTime_DATE_GET_MINUTE(obj) * 60 + PyDateTime_DATE_GET_SECOND(obj)) *
                         1000000 +
                     PyDateTime_DATE_GET_MICROSECOND(obj);
    PyObject* tz = PyObject_GetAttrString(obj, "tzinfo");
    if (tz == nullptr) return false;
    bool aware = tz != Py_None;
    Py_DECREF(tz);
    if (aware) {
      PyObject* off = PyObject_CallMethod(obj, "utcoffset", nullptr);
      if (off == nullptr) return false;
      if (off != Py_None) {
        if (!PyDelta_Check(off)) {
          Py_DECREF(off);
          return Fail(PyExc_TypeError, "utcoffset() of " + Describe(obj) + " is not a timedelta");
        }
        micros -= (int64_t{PyDateTime_DELTA_GET_DAYS(off)} * 86400 +
                   PyDateTime_DELTA_GET_SECONDS(off)) *
                      1000000 +
                  PyDateTime_DELTA_GET_MICROSECONDS(off);
      }
      Py_DECREF(off);
    }
    if (micros < kMinMicros || micros > kMaxMicros) {
      return Fail(PyExc_ValueError, "datetime " + Describe(obj) +
                                        " is out of range in UTC (0001-01-01 to 9999-12-31)");
    }
    *out = Value::FromDateTime(DateTime{micros});
    return true;
  }
  if (PyUnicode_Check(obj)) {
    const char* s;
    Py_ssize_t n;
    if (!Utf8Of(obj, &s, &n)) return false;
    Result<DateTime> d = DateTime::Parse(std::string_view(s, static_cast<size_t>(n)));
    if (!d.ok()) {
      return Fail(PyExc_ValueError, "expected datetime, got " + Describe(obj) + " (" +
                                        d.status().message() + ")");
    }
    *out = Value::FromDateTime(*d);
    return true;
  }
  return TypeMismatch(t, obj);
}

bool ValueConverter::DecimalValue(PyObject* obj, const Type& t, Value* out) {
  std::string text;
  if (PyUnicode_Check(obj)) {
    const char* s;
    Py_ssize_t n;
    if (!Utf8Of(obj, &s, &n)) return false;
    text.assign(s, static_cast<size_t>(n));
  } else if (PyFloat_Check(obj)) {
    // A float's shortest repr, as a JSON number's text is kept: 0.1 stays 0.1.
    PyObject* r = PyObject_Repr(obj);
    if (r == nullptr) return false;
    const char* s = PyUnicode_AsUTF8(r);
    if (s != nullptr) text = s;
    Py_DECREF(r);
    if (s == nullptr) return false;
  } else if (IsIntLike(obj) || PyObject_TypeCheck(obj, reinterpret_cast<PyTypeObject*>(Types()->decimal))) {
    if (!StrOf(obj, &text)) return false;
  } else {
    return TypeMismatch(t, obj);
  }
  Result<Decimal> d = Decimal::Parse(text);
  if (!d.ok()) {
    return Fail(PyExc_ValueError,
                "expected decimal, got " + Describe(obj) + " (" + d.status().message() + ")");
  }
  *out = Value::FromDecimal(std::move(d).value());
  return true;
}

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

bool ValueConverter::NdArrayValue(PyObject* obj, const Type& t, Value* out, int depth) {
  const PyTypes* types = Types();
  NdArray arr;
  int is_ndarray = PyObject_IsInstance(obj, types->ndarray);
  if (is_ndarray < 0) return false;
  PyObject* list_form = nullptr;  // numpy data of another dtype, as nested lists
  if (is_ndarray) {
    PyObject* dtype = PyObject_GetAttrString(obj, "dtype");
    if (dtype == nullptr) return false;
    PyObject* descr = PyObject_GetAttrString(dtype, "str");
    Py_DECREF(dtype);
    if (descr == nullptr) return false;
    const char* d = PyUnicode_AsUTF8(descr);
    std::optional<DType> found;
    if (d != nullptr) {
      for (int i = 0; i < kDTypeCount; ++i) {
        if (DTypeNumpyDescr(static_cast<DType>(i)) == d) found = static_cast<DType>(i);
      }
    }
    std::string descr_text = d != nullptr ? d : "?";
    Py_DECREF(descr);
    if (d == nullptr) return false;
    if (found && (!t.dtype || *t.dtype == *found)) {
      arr.dtype = *found;
      PyObject* shape = PyObject_GetAttrString(obj, "shape");
      if (shape == nullptr) return false;
      if (!PyTuple_Check(shape)) {
        Py_DECREF(shape);
        return Fail(PyExc_TypeError, "ndarray shape is not a tuple");
      }
      for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(shape); ++i) {
        unsigned long long dim = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(shape, i));
        if (dim == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
          Py_DECREF(shape);
          return false;
        }
        arr.shape.push_back(dim);
      }
      Py_DECREF(shape);
      PyObject* data = PyObject_CallMethod(obj, "tobytes", nullptr);  // C order
      if (data == nullptr) return false;
      if (!PyBytes_Check(data)) {
        Py_DECREF(data);
        return Fail(PyExc_TypeError, "ndarray.tobytes() did not return bytes");
      }
      arr.data.assign(PyBytes_AS_STRING(data), static_cast<size_t>(PyBytes_GET_SIZE(data)));
      Py_DECREF(data);
      bytes_converted_ += arr.data.size();
      *out = Value::FromNdArray(std::move(arr));
      return true;
    }
    if (!t.dtype) {
      return Fail(PyExc_TypeError, "expected ndarray, got an ndarray of dtype " + descr_text +
                                       " (supported: bool, int8..int64, uint8..uint64, "
                                       "float32, float64)");
    }
    // Another dtype for a fixed one: converted element by element, range-checked.
    list_form = PyObject_CallMethod(obj, "tolist", nullptr);
    if (list_form == nullptr) return false;
    obj = list_form;
  }

  // Nested sequences: walked once into leaves and a shape, as the JSONL reader does.
  std::vector<Leaf> leaves;
  std::vector<int64_t> shape;
  std::vector<size_t> index;
  int64_t ndim = -1, max_level = -1;
  bool ok = true;
  std::function<bool(PyObject*, size_t)> walk = [&](PyObject* o, size_t level) -> bool {
    auto fail_here = [&](const std::string& msg) {
      for (size_t i : index) path_.push_back({nullptr, i, nullptr});
      Fail(PyExc_ValueError, msg);
      path_.resize(path_.size() - index.size());
      return false;
    };
    if (PyList_Check(o) || PyTuple_Check(o)) {
      if (depth + static_cast<int>(level) + 1 > kMaxDepth) {
        return fail_here("nested deeper than " + std::to_string(kMaxDepth));
      }
      if (ndim >= 0 && static_cast<int64_t>(level) >= ndim) {
        return fail_here("ndarray is not rectangular");
      }
      max_level = std::max<int64_t>(max_level, static_cast<int64_t>(level));
      if (shape.size() <= level) shape.resize(level + 1, -1);
      // A leaf's __index__ may run Python code that resizes the list: the
      // size is read again at each step and the element held while walked.
      Py_ssize_t n = 0;
      index.push_back(0);
      for (; n < PySequence_Fast_GET_SIZE(o); ++n) {
        index.back() = static_cast<size_t>(n);
        PyObject* e = PySequence_Fast_GET_ITEM(o, n);
        Py_INCREF(e);
        bool ok = walk(e, level + 1);
        Py_DECREF(e);
        if (!ok) return false;
      }
      index.pop_back();
      if (shape[level] < 0) shape[level] = n;
      else if (shape[level] != n) return fail_here("ndarray is not rectangular");
      return true;
    }
    if (ndim < 0) {
      if (static_cast<int64_t>(level) <= max_level) return fail_here("ndarray is not rectangular");
      ndim = static_cast<int64_t>(level);
    } else if (static_cast<int64_t>(level) != ndim) {
      return fail_here("ndarray is not rectangular");
    }
    Leaf leaf{Leaf::kFloat};
    if (PyBool_Check(o) || IsNumpyBool(o)) {
      leaf.kind = Leaf::kBool;
      leaf.b = PyObject_IsTrue(o) == 1;
    } else if (IsIntLike(o)) {
      bool is_unsigned = false;
      int rc = ReadInt(o, &leaf.i, &leaf.u, &is_unsigned);
      if (rc < 0) return false;
      if (rc > 0) return fail_here("value " + ShortRepr(o) + " out of range for an ndarray");
      leaf.kind = is_unsigned ? Leaf::kUInt : Leaf::kInt;
    } else if (PyFloat_Check(o) || (IsNumpyScalar(o) && Py_TYPE(o)->tp_as_number &&
                                    Py_TYPE(o)->tp_as_number->nb_float)) {
      leaf.d = PyFloat_AsDouble(o);
      if (leaf.d == -1.0 && PyErr_Occurred()) return false;
    } else {
      for (size_t i : index) path_.push_back({nullptr, i, nullptr});
      Fail(PyExc_TypeError, "expected a number, got " + Describe(o));
      path_.resize(path_.size() - index.size());
      return false;
    }
    leaves.push_back(leaf);
    return true;
  };
  if (PyList_Check(obj) || PyTuple_Check(obj) || PyLong_Check(obj) || PyFloat_Check(obj) ||
      IsNumpyScalar(obj)) {
    ok = walk(obj, 0);
  } else {
    Py_XDECREF(list_form);
    return TypeMismatch(t, obj);
  }
  Py_XDECREF(list_form);
  if (!ok) return false;
  size_t nd = ndim >= 0 ? static_cast<size_t>(ndim) : static_cast<size_t>(max_level + 1);
  for (size_t i = 0; i < nd; ++i) arr.shape.push_back(static_cast<uint64_t>(shape[i]));
  DType dtype;
  if (t.dtype) {
    dtype = *t.dtype;
  } else {
    bool any_bool = false, any_number = false, any_float = false, any_negative = false,
         any_big = false;
    for (const Leaf& l : leaves) {
      if (l.kind == Leaf::kBool) { any_bool = true; continue; }
      any_number = true;
      if (l.kind == Leaf::kFloat) any_float = true;
      else if (l.kind == Leaf::kUInt) any_big = true;
      else if (l.i < 0) any_negative = true;
    }
    if (any_bool && any_number) return Fail(PyExc_TypeError, "ndarray mixes booleans and numbers");
    if (any_bool) dtype = DType::kBool;
    else if (any_float || !any_number) dtype = DType::kFloat64;
    else if (any_big && !any_negative) dtype = DType::kUInt64;
    else dtype = DType::kInt64;
  }
  arr.dtype = dtype;
  arr.data.reserve(leaves.size() * DTypeSize(dtype));
  for (size_t n = 0; n < leaves.size(); ++n) {
    const Leaf& l = leaves[n];
    std::string err;
    PyObject* exc = PyExc_TypeError;
    if (dtype == DType::kBool) {
      if (l.kind != Leaf::kBool) err = "expected bool, got a number";
      else arr.data.push_back(l.b ? 1 : 0);
    } else if (dtype == DType::kFloat32 || dtype == DType::kFloat64) {
      if (l.kind == Leaf::kBool) {
        err = std::string("expected ") + std::string(DTypeName(dtype)) + ", got bool";
      } else {
        double d = l.kind == Leaf::kFloat ? l.d
                   : l.kind == Leaf::kUInt ? static_cast<double>(l.u)
                                           : static_cast<double>(l.i);
        if (dtype == DType::kFloat32) {
          float f = l.kind == Leaf::kFloat ? static_cast<float>(l.d)
                    : l.kind == Leaf::kUInt ? static_cast<float>(l.u)
                                            : static_cast<float>(l.i);
          if (std::isfinite(d) && !std::isfinite(f)) {
            err = "value out of range for float32";
            exc = PyExc_ValueError;
          } else {
            char b[4];
            std::memcpy(b, &f, 4);
            arr.data.append(b, 4);
          }
        } else {
          char b[8];
          std::memcpy(b, &d, 8);
          arr.data.append(b, 8);
        }
      }
    } else {
      TypeKind k = IntKindOf(dtype);
      if (l.kind == Leaf::kBool || l.kind == Leaf::kFloat) {
        err = std::string("expected ") + std::string(DTypeName(dtype)) + ", got " +
              (l.kind == Leaf::kBool ? "bool" : "float");
      } else {
        IntRange r = IntRangeOf(k);
        bool fits = l.kind == Leaf::kUInt
                        ? l.u <= r.max
                        : l.i >= r.min && (l.i < 0 || static_cast<uint64_t>(l.i) <= r.max);
        uint64_t bits = l.kind == Leaf::kUInt ? l.u : static_cast<uint64_t>(l.i);
        if (!fits) {
          err = "value " + (l.kind == Leaf::kUInt ? std::to_string(l.u) : std::to_string(l.i)) +
                " out of range for " + std::string(DTypeName(dtype));
          exc = PyExc_ValueError;
        } else {
          char b[8];
          std::memcpy(b, &bits, 8);  // little-endian: the low bytes are the narrow value
          arr.data.append(b, DTypeSize(dtype));
        }
      }
    }
    if (!err.empty()) {
      // The flat index back to [i][j]...: C order, last axis fastest.
      std::vector<uint64_t> at(arr.shape.size());
      uint64_t rest = n;
      for (size_t d = arr.shape.size(); d-- > 0;) {
        at[d] = rest % arr.shape[d];
        rest /= arr.shape[d];
      }
      for (uint64_t i : at) path_.push_back({nullptr, static_cast<size_t>(i), nullptr});
      Fail(exc, err);
      path_.resize(path_.size() - at.size());
      return false;
    }
  }
  bytes_converted_ += arr.data.size();
  *out = Value::FromNdArray(std::move(arr));
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
  if (PyDateTime_Check(obj)) return DateTimeValue(obj, Type::Scalar(TypeKind::kDateTime), out);
  if (PyDate_Check(obj)) return DateValue(obj, Type::Scalar(TypeKind::kDate), out);
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

bool ToValue(PyObject* obj, const Type& type, const Schema& schema, Value* out,
             std::string_view context) {
  ValueConverter conv(schema);
  return conv.Convert(obj, type, out, context);
}

}  // namespace mapfs::python
