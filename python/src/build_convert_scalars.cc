// Scalars of the build conversion: ints, floats, bytes, dates, datetimes and
// decimals (see build_convert.h).
// clang-format off
#include <Python.h>
#include <datetime.h>
// clang-format on

#include <cmath>
#include <cstring>
#include <string>

#include "build_convert_internal.h"

namespace mapfs::python {

using namespace convert_internal;  // NOLINT: the conversion's shared vocabulary

namespace {

constexpr int64_t kMicrosPerDay = int64_t{86400} * 1000000;
constexpr int64_t kMinMicros = int64_t{-719162} * kMicrosPerDay;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxMicros = (int64_t{2932896} + 1) * kMicrosPerDay - 1;  // 9999-12-31T23:59:59.999999Z

// datetime's C API table is per file: imported here before first use.
bool DateTimeApi() {
  if (PyDateTimeAPI == nullptr) PyDateTime_IMPORT;
  return PyDateTimeAPI != nullptr;
}

}  // namespace

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

// A date or datetime given as ISO text: T::Parse of the str's UTF-8, with a
// ValueError naming the object when the text does not parse.
template <typename T>
bool ValueConverter::IsoText(PyObject* obj, const char* what, T* out) {
  const char* s;
  Py_ssize_t n;
  if (!Utf8Of(obj, &s, &n)) return false;
  Result<T> parsed = T::Parse(std::string_view(s, static_cast<size_t>(n)));
  if (!parsed.ok()) {
    return Fail(PyExc_ValueError, std::string("expected ") + what + ", got " + Describe(obj) +
                                      " (" + parsed.status().message() + ")");
  }
  *out = *parsed;
  return true;
}

bool ValueConverter::DateValue(PyObject* obj, const Type& t, Value* out) {
  if (!DateTimeApi()) return false;
  if (PyDateTime_Check(obj)) return TypeMismatch(t, obj);  // would silently drop the time
  if (PyDate_Check(obj)) {
    Result<Date> d = Date::FromYmd(PyDateTime_GET_YEAR(obj), PyDateTime_GET_MONTH(obj),
                                   PyDateTime_GET_DAY(obj));
    if (!d.ok()) return Fail(PyExc_ValueError, "date " + Describe(obj) + ": " + d.status().message());
    *out = Value::FromDate(*d);
    return true;
  }
  if (PyUnicode_Check(obj)) {
    if (exact_types_) return TypeMismatch(t, obj);
    Date v;
    if (!IsoText(obj, "date", &v)) return false;
    *out = Value::FromDate(v);
    return true;
  }
  return TypeMismatch(t, obj);
}

bool ValueConverter::DateTimeValue(PyObject* obj, const Type& t, Value* out) {
  if (!DateTimeApi()) return false;
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
    if (exact_types_) return TypeMismatch(t, obj);
    DateTime v;
    if (!IsoText(obj, "datetime", &v)) return false;
    *out = Value::FromDateTime(v);
    return true;
  }
  return TypeMismatch(t, obj);
}

bool ValueConverter::DecimalValue(PyObject* obj, const Type& t, Value* out) {
  std::string text;
  if (PyUnicode_Check(obj)) {
    if (exact_types_) return TypeMismatch(t, obj);
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

}  // namespace mapfs::python
