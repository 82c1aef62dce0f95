// Views → Python values (docs/python.md, "Reading"): scalars become Python
// scalars, containers become lazy views, ndarrays become read-only numpy
// arrays on the mapping; ViewToPlain copies everything out, deeply.
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <Python.h>
#include <datetime.h>
#include <numpy/arrayobject.h>

#include <string>

#include "module_internal.h"
#include "read_internal.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "ndarray data is little-endian and viewed in place");

namespace mapfs::python {
namespace {

PyObject* g_decimal_class = nullptr;  // decimal.Decimal
PyObject* g_utc = nullptr;            // datetime.timezone.utc
PyObject* g_array_equal = nullptr;    // numpy.array_equal

int NumpyType(DType d) {
  switch (d) {
    case DType::kInt8: return NPY_INT8;
    case DType::kInt16: return NPY_INT16;
    case DType::kInt32: return NPY_INT32;
    case DType::kInt64: return NPY_INT64;
    case DType::kUInt8: return NPY_UINT8;
    case DType::kUInt16: return NPY_UINT16;
    case DType::kUInt32: return NPY_UINT32;
    case DType::kUInt64: return NPY_UINT64;
    case DType::kFloat32: return NPY_FLOAT32;
    case DType::kFloat64: return NPY_FLOAT64;
    case DType::kBool: return NPY_BOOL;
  }
  return -1;
}

PyObject* Corrupt(const std::string& msg) { return SetStatusError(Status::Corruption(msg)); }

// A read-only array on the view's bytes; its base is the owner, so the
// mapping stays while the array (or any array derived from it) lives.
PyObject* NdArrayToPy(const View& v, OwnerObject* owner) {
  int type = NumpyType(v.dtype());
  if (type < 0) return Corrupt("ndarray with an unknown dtype");
  if (v.ndim() > static_cast<size_t>(NPY_MAXDIMS)) {
    return SetStatusError(Status::NotSupported("ndarray of " + std::to_string(v.ndim()) +
                                               " dimensions: numpy allows " +
                                               std::to_string(NPY_MAXDIMS)));
  }
  npy_intp dims[NPY_MAXDIMS];
  uint64_t count = 1;
  for (size_t i = 0; i < v.ndim(); ++i) {
    uint64_t d = v.dim(i);
    if (d > static_cast<uint64_t>(NPY_MAX_INTP) || __builtin_mul_overflow(count, d, &count)) {
      return Corrupt("ndarray shape overflows");
    }
    dims[i] = static_cast<npy_intp>(d);
  }
  std::string_view data = v.ndarray_data();
  uint64_t bytes;
  if (__builtin_mul_overflow(count, DTypeSize(v.dtype()), &bytes) || bytes != data.size()) {
    return Corrupt("ndarray shape does not match its data size");
  }
  PyArray_Descr* descr = PyArray_DescrFromType(type);
  if (descr == nullptr) return nullptr;
  // Not writeable: the flags given replace the defaults for caller data.
  PyObject* arr = PyArray_NewFromDescr(&PyArray_Type, descr, static_cast<int>(v.ndim()), dims,
                                       nullptr, const_cast<char*>(data.data()), 0, nullptr);
  if (arr == nullptr) return nullptr;
  // Alignment depends on where the data sits in the file: let numpy look.
  PyArray_UpdateFlags(reinterpret_cast<PyArrayObject*>(arr), NPY_ARRAY_UPDATE_ALL);
  PyArray_CLEARFLAGS(reinterpret_cast<PyArrayObject*>(arr), NPY_ARRAY_WRITEABLE);
  Py_INCREF(owner);
  if (PyArray_SetBaseObject(reinterpret_cast<PyArrayObject*>(arr),
                            reinterpret_cast<PyObject*>(owner)) < 0) {
    Py_DECREF(arr);
    return nullptr;
  }
  return arr;
}

PyObject* DateToPy(Date d) {
  int y, m, day;
  d.ToYmd(&y, &m, &day);
  return PyDate_FromDate(y, m, day);
}

PyObject* DateTimeToPy(DateTime dt) {
  constexpr int64_t kMicrosPerDay = 86400LL * 1000000;
  int64_t days = dt.micros / kMicrosPerDay;
  int64_t rest = dt.micros % kMicrosPerDay;
  if (rest < 0) {
    rest += kMicrosPerDay;
    --days;
  }
  int y, m, d;
  Date{static_cast<int32_t>(days)}.ToYmd(&y, &m, &d);
  int64_t secs = rest / 1000000;
  return PyDateTimeAPI->DateTime_FromDateAndTime(
      y, m, d, static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
      static_cast<int>(secs % 60), static_cast<int>(rest % 1000000), g_utc,
      PyDateTimeAPI->DateTimeType);
}

PyObject* DecimalToPy(const View& v) {
  Result<Decimal> d = v.as_decimal();
  if (!d.ok()) return SetStatusError(d.status());
  std::string text = d->ToString();
  PyObject* str = PyUnicode_FromStringAndSize(text.data(), static_cast<Py_ssize_t>(text.size()));
  if (str == nullptr) return nullptr;
  PyObject* result = PyObject_CallOneArg(g_decimal_class, str);
  Py_DECREF(str);
  return result;
}

// Scalars (the same object whether the view is lazy or plain); null when `v`
// is not a scalar, without an exception.
PyObject* ScalarToPy(const View& v, bool* is_scalar) {
  *is_scalar = true;
  TypeKind k = v.kind();
  if (IsIntKind(k)) {
    if (v.is_negative_int()) return PyLong_FromLongLong(v.as_int());
    return PyLong_FromUnsignedLongLong(v.as_uint());
  }
  switch (k) {
    case TypeKind::kFloat32:
    case TypeKind::kFloat64: return PyFloat_FromDouble(v.as_float());
    case TypeKind::kBool: return PyBool_FromLong(v.as_bool());
    case TypeKind::kStr: {
      std::string_view s = v.as_str();
      return PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "strict");
    }
    case TypeKind::kBytes: {
      std::string_view s = v.as_bytes();
      return PyBytes_FromStringAndSize(s.data(), static_cast<Py_ssize_t>(s.size()));
    }
    case TypeKind::kDate: return DateToPy(v.as_date());
    case TypeKind::kDateTime: return DateTimeToPy(v.as_datetime());
    case TypeKind::kDecimal: return DecimalToPy(v);
    default: break;
  }
  *is_scalar = false;
  return nullptr;
}

// Fills a new list with the elements of `v` converted by `conv`.
template <typename Conv>
PyObject* ElementsToList(const View& v, Conv conv) {
  PyObject* list = PyList_New(static_cast<Py_ssize_t>(v.size()));
  if (list == nullptr) return nullptr;
  for (size_t i = 0; i < v.size(); ++i) {
    Result<View> e = v.At(i);
    if (!e.ok()) {
      Py_DECREF(list);
      return SetStatusError(e.status());
    }
    PyObject* item = conv(*e);
    if (item == nullptr) {
      Py_DECREF(list);
      return nullptr;
    }
    PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), item);
  }
  return list;
}

}  // namespace

int InitConversions() {
  PyDateTime_IMPORT;
  if (PyDateTimeAPI == nullptr) return -1;
  if (_import_array() < 0) return -1;
  PyObject* decimal = PyImport_ImportModule("decimal");
  if (decimal == nullptr) return -1;
  g_decimal_class = PyObject_GetAttrString(decimal, "Decimal");
  Py_DECREF(decimal);
  if (g_decimal_class == nullptr) return -1;
  PyObject* numpy = PyImport_ImportModule("numpy");
  if (numpy == nullptr) return -1;
  g_array_equal = PyObject_GetAttrString(numpy, "array_equal");
  Py_DECREF(numpy);
  if (g_array_equal == nullptr) return -1;
  g_utc = PyDateTimeAPI->TimeZone_UTC;
  Py_INCREF(g_utc);
  return 0;
}

PyObject* ViewToPy(const View& v, OwnerObject* owner) {
  if (v.is_null()) Py_RETURN_NONE;
  bool is_scalar;
  PyObject* s = ScalarToPy(v, &is_scalar);
  if (is_scalar) return s;
  switch (v.kind()) {
    case TypeKind::kStruct: return NewRecord(owner, v);
    case TypeKind::kList:
    case TypeKind::kTuple: return NewSequenceView(owner, v);
    case TypeKind::kFrozenSet: return NewSetView(owner, v);
    case TypeKind::kDict: return NewDictView(owner, v);
    case TypeKind::kNdArray: return NdArrayToPy(v, owner);
    default: return Corrupt("unexpected type in a record");
  }
}

namespace {

// ViewToPlain without the check, for the values below a verified one.
PyObject* PlainOf(const View& v, OwnerObject* owner, bool hashable) {
  if (v.is_null()) Py_RETURN_NONE;
  if (Py_EnterRecursiveCall(" converting a mapfs value")) return nullptr;
  PyObject* result = nullptr;
  bool is_scalar;
  result = ScalarToPy(v, &is_scalar);
  if (!is_scalar) {
    // Inside a hashable value everything must be hashable too.
    auto plain = [owner, hashable](const View& e) { return PlainOf(e, owner, hashable); };
    auto plain_key = [owner](const View& e) { return PlainOf(e, owner, true); };
    switch (v.kind()) {
      case TypeKind::kList:
        result = ElementsToList(v, plain);
        if (result != nullptr && hashable) {
          PyObject* t = PyList_AsTuple(result);
          Py_DECREF(result);
          result = t;
        }
        break;
      case TypeKind::kTuple: {
        PyObject* list = ElementsToList(v, plain);
        result = list == nullptr ? nullptr : PyList_AsTuple(list);
        Py_XDECREF(list);
        break;
      }
      case TypeKind::kFrozenSet: {
        PyObject* list = ElementsToList(v, plain_key);
        result = list == nullptr ? nullptr : PyFrozenSet_New(list);
        Py_XDECREF(list);
        break;
      }
      case TypeKind::kDict: {
        result = PyDict_New();
        for (size_t i = 0; result != nullptr && i < v.size(); ++i) {
          Result<View> k = v.KeyAt(i);
          Result<View> val = k.ok() ? v.ValueAt(i) : Result<View>(k.status());
          if (!val.ok()) {
            Py_CLEAR(result);
            SetStatusError(val.status());
            break;
          }
          PyObject* pk = PlainOf(*k, owner, true);
          PyObject* pv = pk == nullptr ? nullptr : PlainOf(*val, owner, false);
          if (pv == nullptr || PyDict_SetItem(result, pk, pv) < 0) Py_CLEAR(result);
          Py_XDECREF(pk);
          Py_XDECREF(pv);
        }
        break;
      }
      case TypeKind::kStruct: {
        const StructDef& def = v.struct_def();
        PyObject* names = FieldNames(owner, v.type().struct_index);
        result = names == nullptr ? nullptr : PyDict_New();
        for (size_t i = 0; result != nullptr && i < def.fields.size(); ++i) {
          Result<View> f = v.Field(static_cast<int>(i));
          if (!f.ok()) {
            Py_CLEAR(result);
            SetStatusError(f.status());
            break;
          }
          PyObject* pv = PlainOf(*f, owner, false);
          if (pv == nullptr ||
              PyDict_SetItem(result, PyTuple_GET_ITEM(names, static_cast<Py_ssize_t>(i)), pv) <
                  0) {
            Py_CLEAR(result);
          }
          Py_XDECREF(pv);
        }
        break;
      }
      case TypeKind::kNdArray: {
        PyObject* arr = NdArrayToPy(v, owner);
        result = arr == nullptr ? nullptr
                                : PyArray_NewCopy(reinterpret_cast<PyArrayObject*>(arr), NPY_CORDER);
        Py_XDECREF(arr);
        break;
      }
      default:
        result = Corrupt("unexpected type in a record");
        break;
    }
  }
  if (hashable && result != nullptr && PyDict_Check(result)) {
    // A dict or struct used as a dict key or set element: its items, as a tuple.
    PyObject* items = PyDict_Items(result);
    Py_DECREF(result);
    result = items == nullptr ? nullptr : PyList_AsTuple(items);
    Py_XDECREF(items);
  }
  Py_LeaveRecursiveCall();
  return result;
}

}  // namespace

PyObject* ViewToPlain(const View& v, OwnerObject* owner, bool hashable) {
  // Verified first (linear in the value's size), like RenderJson: a corrupt
  // value whose refs form cycles would otherwise expand without end.
  Status st = Verify(v);
  if (!st.ok()) return SetStatusError(st);
  return PlainOf(v, owner, hashable);
}

int PlainEquals(PyObject* a, PyObject* b) {
  if (PyArray_Check(a) || PyArray_Check(b)) {
    PyObject* r = PyObject_CallFunctionObjArgs(g_array_equal, a, b, nullptr);
    if (r == nullptr) return -1;
    int eq = PyObject_IsTrue(r);
    Py_DECREF(r);
    return eq;
  }
  if (PyDict_Check(a) && PyDict_Check(b)) {
    if (PyDict_Size(a) != PyDict_Size(b)) return 0;
    PyObject *key, *va;
    Py_ssize_t pos = 0;
    while (PyDict_Next(a, &pos, &key, &va)) {
      PyObject* vb = PyDict_GetItemWithError(b, key);
      if (vb == nullptr) return PyErr_Occurred() ? -1 : 0;
      Py_INCREF(va);
      Py_INCREF(vb);
      int eq = PlainEquals(va, vb);
      Py_DECREF(va);
      Py_DECREF(vb);
      if (eq != 1) return eq;
    }
    return 1;
  }
  if ((PyList_Check(a) || PyTuple_Check(a)) && (PyList_Check(b) || PyTuple_Check(b)) &&
      PyList_Check(a) == PyList_Check(b)) {
    Py_ssize_t n = PySequence_Size(a);
    if (n != PySequence_Size(b)) return 0;
    for (Py_ssize_t i = 0; i < n; ++i) {
      PyObject* ea = PySequence_GetItem(a, i);
      PyObject* eb = ea == nullptr ? nullptr : PySequence_GetItem(b, i);
      int eq = eb == nullptr ? -1 : PlainEquals(ea, eb);
      Py_XDECREF(ea);
      Py_XDECREF(eb);
      if (eq != 1) return eq;
    }
    return 1;
  }
  return PyObject_RichCompareBool(a, b, Py_EQ);
}

PyObject* ViewToJson(const View& v) {
  std::string out;
  Status st = RenderJson(v, &out);
  if (!st.ok()) return SetStatusError(st);
  return PyUnicode_DecodeUTF8(out.data(), static_cast<Py_ssize_t>(out.size()), "strict");
}

}  // namespace mapfs::python
