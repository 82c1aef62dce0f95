// ndarrays of the build conversion: numpy arrays (zero-copy of their dtype,
// element by element for another) and nested sequences walked like the JSONL
// reader walks nested arrays (see build_convert.h).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "build_convert_internal.h"
#include "mapfs/record.h"

namespace mapfs::python {

using namespace convert_internal;  // NOLINT: the conversion's shared vocabulary

namespace {

// One leaf of an ndarray given as nested lists.
struct Leaf {
  enum Kind : uint8_t { kBool, kInt, kUInt, kFloat } kind;
  bool b = false;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
};

}  // namespace

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
    DTypeInference infer;
    for (const Leaf& l : leaves) {
      if (l.kind == Leaf::kBool) infer.AddBool();
      else if (l.kind == Leaf::kFloat) infer.AddFloat();
      else infer.AddInt(l.kind != Leaf::kUInt && l.i < 0, l.kind == Leaf::kUInt);
    }
    std::optional<DType> inferred = infer.Infer();
    if (!inferred) return Fail(PyExc_TypeError, "ndarray mixes booleans and numbers");
    dtype = *inferred;
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

}  // namespace mapfs::python
