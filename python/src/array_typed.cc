// mapfs.TypedArray: Python's array.array API over mapfs::TypedArray
// (docs/python.md, "Arrays"; the C++ semantics are in docs/arrays.md).
//
// Values are checked here before the C++ array sees them, so that errors
// carry array.array's exception types (TypeError for a non-number,
// OverflowError for an integer out of range). The buffer protocol is a raw
// bf_getbuffer/bf_releasebuffer pair with an export count: while a buffer is
// exported, a call that would change the length (and so maybe move the
// mapping) raises BufferError, as array.array does.
//
// Threads: every call runs under the GIL except flush(), whose msync may take
// long; `mu` keeps a flush and a change of the C++ array apart.
#include <Python.h>
#include <pybind11/pybind11.h>
#include <sys/stat.h>

#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "array_internal.h"
#include "mapfs/typed_array.h"

namespace py = pybind11;

namespace mapfs::python {
namespace {

constexpr const char* kTypecodes = "bBhHiIlLqQfd";
constexpr Py_ssize_t kReprItems = 1000;  // a longer array's repr ends with "..."

// Calls f(std::type_identity<T>{}) with T the C type of a valid typecode.
template <typename F>
decltype(auto) Dispatch(char typecode, F&& f) {
  switch (typecode) {
    case 'b': return f(std::type_identity<int8_t>{});
    case 'B': return f(std::type_identity<uint8_t>{});
    case 'h': return f(std::type_identity<int16_t>{});
    case 'H': return f(std::type_identity<uint16_t>{});
    case 'i': return f(std::type_identity<int32_t>{});
    case 'I': return f(std::type_identity<uint32_t>{});
    case 'l': case 'q': return f(std::type_identity<int64_t>{});
    case 'L': case 'Q': return f(std::type_identity<uint64_t>{});
    case 'f': return f(std::type_identity<float>{});
    default: return f(std::type_identity<double>{});
  }
}

bool IsFloatTypecode(char tc) { return tc == 'f' || tc == 'd'; }

// The buffer format of each typecode: array.array's own (native = little
// endian here; 'l' is 8 bytes on LP64 as in docs/arrays.md).
const char* BufferFormat(char tc) {
  static const char kFormats[][2] = {"b", "B", "h", "H", "i", "I", "l", "L", "q", "Q", "f", "d"};
  const char* p = std::strchr(kTypecodes, tc);
  return kFormats[p - kTypecodes];
}

// The files this process has open as TypedArrays. A writable TypedArray
// keeps its file longer than its items while open and trims it at flush and
// close (docs/arrays.md), so a second mapping of the same file could fault
// (SIGBUS) past the new end. Within one process that is prevented: a file is
// open either once writable or any number of times read-only. Touched only
// with the GIL held.
struct FileKey {
  dev_t dev;
  ino_t ino;
  auto operator<=>(const FileKey&) const = default;
};
struct FileUse {
  int readers = 0;
  int writers = 0;
};
std::map<FileKey, FileUse>& OpenFiles() {
  static auto* files = new std::map<FileKey, FileUse>;  // never destroyed: used at exit
  return *files;
}

std::optional<FileKey> KeyOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileKey{st.st_dev, st.st_ino};
}

// OSError(EBUSY) if `path` is open as a TypedArray here in a way that
// conflicts with opening it (again) writable or read-only.
void CheckFileFree(const std::string& path, bool writable) {
  std::optional<FileKey> key = KeyOf(path);
  if (!key) return;
  auto it = OpenFiles().find(*key);
  if (it == OpenFiles().end()) return;
  if (it->second.writers > 0 || (writable && it->second.readers > 0)) {
    const std::string msg = path + ": already open as " +
                            (it->second.writers > 0 ? "a writable" : "a read-only") +
                            " TypedArray in this process";
    PyObject* args = Py_BuildValue("(is)", EBUSY, msg.c_str());
    if (args != nullptr) {
      PyErr_SetObject(PyExc_OSError, args);
      Py_DECREF(args);
    }
    throw py::error_already_set();
  }
}

class PyTypedArray {
 public:
  explicit PyTypedArray(TypedArray a) : typecode_(a.typecode()), arr_(std::move(a)) {
    if (!arr_->path().empty()) {
      file_key_ = KeyOf(arr_->path());
      if (file_key_) {
        FileUse& use = OpenFiles()[*file_key_];
        ++(arr_->read_only() ? use.readers : use.writers);
      }
    }
  }
  ~PyTypedArray() { ReleaseFile(); }
  PyTypedArray(const PyTypedArray&) = delete;
  PyTypedArray& operator=(const PyTypedArray&) = delete;

  char typecode() const { return typecode_; }
  bool closed() const { return !arr_.has_value(); }
  // The C++ array; ValueError once closed.
  TypedArray& arr() {
    if (!arr_) throw py::value_error("operation on a closed TypedArray");
    return *arr_;
  }
  // BufferError if buffers are exported and the length would change.
  void CheckResize(size_t new_size) {
    if (exports_ > 0 && new_size != arr().size()) {
      throw py::buffer_error("cannot resize a TypedArray that is exporting buffers");
    }
  }
  std::mutex& mu() { return mu_; }
  // The C++ array or nullptr once closed; for code running without the GIL.
  TypedArray* maybe_arr() { return arr_ ? &*arr_ : nullptr; }

  void Close() {
    if (!arr_) return;
    if (exports_ > 0) throw py::buffer_error("cannot close a TypedArray that is exporting buffers");
    Status st;
    {
      std::lock_guard<std::mutex> lock(mu_);
      st = arr_->Close();
      ReleaseFile();
      arr_.reset();
    }
    if (!st.ok()) ThrowStatus(st);
  }

  static int GetBuffer(PyObject* obj, Py_buffer* view, int flags);
  static void ReleaseBuffer(PyObject* obj, Py_buffer* view);

 private:
  // Drops this array from OpenFiles() (once).
  void ReleaseFile() {
    if (!file_key_) return;
    auto it = OpenFiles().find(*file_key_);
    if (it != OpenFiles().end()) {
      --(arr_->read_only() ? it->second.readers : it->second.writers);
      if (it->second.readers == 0 && it->second.writers == 0) OpenFiles().erase(it);
    }
    file_key_.reset();
  }

  std::optional<FileKey> file_key_;
  char typecode_;
  std::optional<TypedArray> arr_;
  std::mutex mu_;
  Py_ssize_t exports_ = 0;
  // Shape and stride handed to the exports; the length cannot change while
  // any export is alive, so they stay right for all of them.
  Py_ssize_t shape_ = 0;
  Py_ssize_t stride_ = 0;
};

void Check(const Status& st) {
  if (!st.ok()) ThrowStatus(st);
}

template <typename T>
T Check(Result<T> r) {
  if (!r.ok()) ThrowStatus(r.status());
  return std::move(r).value();
}

// Runs f(TypedArray&) holding the array's mutex (a change of the C++ array).
template <typename F>
decltype(auto) Locked(PyTypedArray& self, F&& f) {
  TypedArray& a = self.arr();
  std::lock_guard<std::mutex> lock(self.mu());
  return f(a);
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
  bool fits = n.has_value() && Dispatch(tc, [&]<typename T>(std::type_identity<T>) {
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
  return Dispatch(a.typecode(), [&]<typename T>(std::type_identity<T>) -> PyObject* {
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

[[noreturn]] void ThrowKindMismatch(char want, py::handle other) {
  PyErr_Format(PyExc_TypeError,
               "can only use an array of typecode '%c' here, got %.200s", want,
               py::str(py::repr(other)).cast<std::string>().substr(0, 40).c_str());
  throw py::error_already_set();
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

// Appends the items of `values` (any iterable; arrays of the same typecode
// by their bytes) as array.extend does.
void Extend(PyTypedArray& self, py::handle values) {
  const char tc = self.typecode();
  if (PyTypedArray* other = AsTypedArray(values)) {
    if (other->typecode() != tc) {
      throw py::type_error("can only extend with an array of the same typecode");
    }
    self.CheckResize(self.arr().size() + other->arr().size());
    Locked(self, [&](TypedArray& a) { Check(a.Extend(other->arr())); });
    return;
  }
  if (IsArrayArray(values)) {
    if (ArrayArrayTypecode(values) != tc) {
      throw py::type_error("can only extend with an array of the same typecode");
    }
    std::string bytes = BufferBytes(values);
    self.CheckResize(self.arr().size() + bytes.size() / self.arr().itemsize());
    Locked(self, [&](TypedArray& a) { Check(a.FromBytes(bytes)); });
    return;
  }
  if (PyUnicode_Check(values.ptr())) {
    throw py::type_error("cannot extend a TypedArray with a str");
  }
  std::vector<Number> numbers = NumbersFrom(tc, values);
  self.CheckResize(self.arr().size() + numbers.size());
  Locked(self, [&](TypedArray& a) { Check(a.Extend(numbers)); });
}

void FromBytes(PyTypedArray& self, py::handle buffer) {
  Py_buffer view;
  if (PyObject_GetBuffer(buffer.ptr(), &view, PyBUF_SIMPLE) != 0) throw py::error_already_set();
  std::unique_ptr<Py_buffer, void (*)(Py_buffer*)> release(&view, PyBuffer_Release);
  const size_t itemsize = self.arr().itemsize();
  if (static_cast<size_t>(view.len) % itemsize != 0) {
    throw py::value_error("bytes length not a multiple of item size");
  }
  self.CheckResize(self.arr().size() + static_cast<size_t>(view.len) / itemsize);
  Locked(self, [&](TypedArray& a) {
    Check(a.FromBytes(std::string_view(static_cast<const char*>(view.buf),
                                       static_cast<size_t>(view.len))));
  });
}

// A slice's start and stop as the C++ API takes them (None = nullopt).
struct SliceArgs {
  std::optional<int64_t> start, stop;
  int64_t step = 1;
  Py_ssize_t length = 0;  // items it selects in an array of the given size
};

SliceArgs UnpackSlice(py::handle slice, size_t size) {
  PySliceObject* s = reinterpret_cast<PySliceObject*>(slice.ptr());
  Py_ssize_t start, stop, step;
  if (PySlice_Unpack(slice.ptr(), &start, &stop, &step) != 0) throw py::error_already_set();
  SliceArgs out;
  out.step = step;
  if (s->start != Py_None) out.start = start;
  if (s->stop != Py_None) out.stop = stop;
  out.length = PySlice_AdjustIndices(static_cast<Py_ssize_t>(size), &start, &stop, step);
  return out;
}

Py_ssize_t IndexArg(py::handle index) {
  if (!PyIndex_Check(index.ptr())) {
    PyErr_Format(PyExc_TypeError, "TypedArray indices must be integers or slices, not %.200s",
                 Py_TYPE(index.ptr())->tp_name);
    throw py::error_already_set();
  }
  Py_ssize_t i = PyNumber_AsSsize_t(index.ptr(), PyExc_IndexError);
  if (i == -1 && PyErr_Occurred()) throw py::error_already_set();
  return i;
}

// An integer argument (pop, insert, index's start/stop): TypeError unless it
// is an int; one beyond Py_ssize_t raises `overflow`, or is clamped if that
// is nullptr (as array.array does for each).
Py_ssize_t SizeArg(py::handle arg, PyObject* overflow) {
  if (!PyIndex_Check(arg.ptr())) {
    PyErr_Format(PyExc_TypeError, "'%.200s' object cannot be interpreted as an integer",
                 Py_TYPE(arg.ptr())->tp_name);
    throw py::error_already_set();
  }
  Py_ssize_t i = PyNumber_AsSsize_t(arg.ptr(), overflow);
  if (i == -1 && PyErr_Occurred()) throw py::error_already_set();
  return i;
}

[[noreturn]] void ThrowNotInArray(const char* what) {
  PyErr_Format(PyExc_ValueError, "TypedArray.%s(x): x not in array", what);
  throw py::error_already_set();
}

// The position of the first item equal to `value` in [start, stop), or -1.
int64_t Find(PyTypedArray& self, py::handle value, int64_t start = 0,
             int64_t stop = INT64_MAX) {
  std::optional<Number> n = ProbeNumber(value);
  if (!n) return -1;
  Result<size_t> r = self.arr().Index(*n, start, stop);
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kNotFound) return -1;
    ThrowStatus(r.status());
  }
  return static_cast<int64_t>(*r);
}

// Items compared as array.array compares them: lists of Python values
// (NaN differs from itself), with a byte comparison where it is exact.
py::object Compare(PyTypedArray& self, py::handle other, int op) {
  py::object rhs;
  if (PyTypedArray* t = AsTypedArray(other)) {
    if ((op == Py_EQ || op == Py_NE) && t->typecode() == self.typecode() &&
        !IsFloatTypecode(self.typecode())) {
      auto a = self.arr().bytes();
      auto b = t->arr().bytes();
      bool eq = a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
      return py::bool_(op == Py_EQ ? eq : !eq);
    }
    rhs = ToList(t->arr());
  } else if (IsArrayArray(other)) {
    rhs = other.attr("tolist")();
  } else if (PyList_Check(other.ptr())) {
    rhs = py::reinterpret_borrow<py::object>(other);
  } else {
    return py::reinterpret_borrow<py::object>(Py_NotImplemented);
  }
  py::list lhs = ToList(self.arr());
  PyObject* r = PyObject_RichCompare(lhs.ptr(), rhs.ptr(), op);
  if (r == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(r);
}

std::string Repr(PyTypedArray& self) {
  std::string out = "TypedArray('";
  out += self.typecode();
  out += "'";
  if (self.closed()) return "<closed " + out + ")>";
  TypedArray& a = self.arr();
  if (a.size() > 0) {
    out += ", [";
    const size_t shown = std::min<size_t>(a.size(), kReprItems);
    for (size_t i = 0; i < shown; ++i) {
      if (i > 0) out += ", ";
      out += py::repr(ItemToPy(a, i)).cast<std::string>();
    }
    if (shown < a.size()) out += ", ...";
    out += "]";
  }
  if (!a.path().empty()) out += ", path=" + py::repr(py::str(a.path())).cast<std::string>();
  if (a.size() > kReprItems) out += ", len=" + std::to_string(a.size());
  return out + ")";
}

class TypedArrayIterator {
 public:
  explicit TypedArrayIterator(py::object array) : array_(std::move(array)) {}
  py::object Next() {
    PyTypedArray& self = array_.cast<PyTypedArray&>();
    if (self.closed() || pos_ >= self.arr().size()) throw py::stop_iteration();
    return ItemToPy(self.arr(), pos_++);
  }

 private:
  py::object array_;
  size_t pos_ = 0;
};

// ---- fast paths for a[i], a[i] = x and len(a) ----
//
// pybind11 dispatch costs several hundred nanoseconds a call; a lookup table
// read with a[i] should cost about what array.array's does. These slot
// functions handle a plain int index and fall back to the methods (the slots
// CPython made for __getitem__/__setitem__/__delitem__) for anything else.

binaryfunc g_subscript_fallback = nullptr;
objobjargproc g_ass_subscript_fallback = nullptr;

// The PyTypedArray inside `obj`, or nullptr if it has no open array (its
// __init__ did not run, or it is closed).
TypedArray* OpenArrayOf(PyObject* obj) {
  auto* inst = reinterpret_cast<py::detail::instance*>(obj);
  py::detail::value_and_holder vh = inst->get_value_and_holder(nullptr, false);
  if (!vh || vh.value_ptr() == nullptr) return nullptr;
  return static_cast<PyTypedArray*>(vh.value_ptr())->maybe_arr();
}

PyObject* FastSubscript(PyObject* obj, PyObject* key) {
  if (PyLong_CheckExact(key)) {
    if (TypedArray* a = OpenArrayOf(obj)) {
      Py_ssize_t i = PyLong_AsSsize_t(key);
      if (i != -1 || !PyErr_Occurred()) {
        const Py_ssize_t n = static_cast<Py_ssize_t>(a->size());
        if (i < 0) i += n;
        if (i < 0 || i >= n) {
          PyErr_SetString(PyExc_IndexError, "TypedArray index out of range");
          return nullptr;
        }
        return ItemToPyRaw(*a, static_cast<size_t>(i));
      }
      PyErr_Clear();  // beyond Py_ssize_t: the method says IndexError
    }
  }
  return g_subscript_fallback(obj, key);
}

int FastAssSubscript(PyObject* obj, PyObject* key, PyObject* value) {
  if (value != nullptr && PyLong_CheckExact(key) &&
      (PyLong_CheckExact(value) || PyFloat_CheckExact(value))) {
    if (TypedArray* a = OpenArrayOf(obj)) {
      PyTypedArray* self = static_cast<PyTypedArray*>(
          reinterpret_cast<py::detail::instance*>(obj)->get_value_and_holder().value_ptr());
      Py_ssize_t i = PyLong_AsSsize_t(key);
      const Py_ssize_t n = static_cast<Py_ssize_t>(a->size());
      if ((i != -1 || !PyErr_Occurred()) && i >= -n && i < n && !a->read_only()) {
        try {
          Number num = ToNumber(a->typecode(), value);
          std::lock_guard<std::mutex> lock(self->mu());
          Check(a->Set(i, num));
          return 0;
        } catch (py::error_already_set& e) {
          e.restore();
          return -1;
        }
      }
      PyErr_Clear();  // the method gives the error
    }
  }
  return g_ass_subscript_fallback(obj, key, value);
}

Py_ssize_t FastLength(PyObject* obj) {
  if (TypedArray* a = OpenArrayOf(obj)) return static_cast<Py_ssize_t>(a->size());
  PyErr_SetString(PyExc_ValueError, "operation on a closed TypedArray");
  return -1;
}

}  // namespace

int PyTypedArray::GetBuffer(PyObject* obj, Py_buffer* view, int flags) {
  try {
    PyTypedArray& self = py::handle(obj).cast<PyTypedArray&>();
    TypedArray& a = self.arr();
    if ((flags & PyBUF_WRITABLE) == PyBUF_WRITABLE && a.read_only()) {
      PyErr_SetString(PyExc_BufferError, "TypedArray is read-only");
      return -1;
    }
    static char empty_data = 0;  // a non-NULL address for an empty array
    auto bytes = a.bytes();
    self.shape_ = static_cast<Py_ssize_t>(a.size());
    self.stride_ = static_cast<Py_ssize_t>(a.itemsize());
    view->buf = bytes.empty() ? static_cast<void*>(&empty_data)
                              : const_cast<std::byte*>(bytes.data());
    view->obj = Py_NewRef(obj);
    view->len = static_cast<Py_ssize_t>(bytes.size());
    view->readonly = a.read_only() ? 1 : 0;
    view->itemsize = static_cast<Py_ssize_t>(a.itemsize());
    view->format = (flags & PyBUF_FORMAT) == PyBUF_FORMAT
                       ? const_cast<char*>(BufferFormat(self.typecode()))
                       : nullptr;
    view->ndim = 1;
    view->shape = (flags & PyBUF_ND) == PyBUF_ND ? &self.shape_ : nullptr;
    view->strides = (flags & PyBUF_STRIDES) == PyBUF_STRIDES ? &self.stride_ : nullptr;
    view->suboffsets = nullptr;
    view->internal = nullptr;
    ++self.exports_;
    return 0;
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (py::builtin_exception& e) {
    e.set_error();
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  }
  view->obj = nullptr;
  return -1;
}

void PyTypedArray::ReleaseBuffer(PyObject* obj, Py_buffer*) {
  try {
    --py::handle(obj).cast<PyTypedArray&>().exports_;
  } catch (...) {
    PyErr_Clear();
  }
}

void RegisterTypedArray(py::module_& m) {
  py::class_<TypedArrayIterator>(m, "_TypedArrayIterator")
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", &TypedArrayIterator::Next);

  py::class_<PyTypedArray> cls(m, "TypedArray", py::buffer_protocol(), R"doc(
TypedArray(typecode, initializer=None, *, path=None, mode="a")

A growable array of numbers on a memory mapping, with array.array's API and
typecodes (b B h H i I l L q Q f d; l and L are 8 bytes). With `path` it is
backed by that file, which holds nothing but the items in little-endian
order; mode "r" opens it read-only, "a" opens or creates it keeping its
items, "w" creates or empties it. Without `path` the memory is anonymous and
shared with children made by os.fork(). The initializer's items (a list, an
iterable, bytes, or an array of the same typecode) are appended.)doc");

  cls.def(py::init([](py::object typecode, py::object initializer, py::object path,
                      const std::string& mode) {
            if (!PyUnicode_Check(typecode.ptr()) || PyUnicode_GetLength(typecode.ptr()) != 1) {
              PyErr_Format(PyExc_TypeError,
                           "TypedArray() argument 1 must be a unicode character, not %.200s",
                           Py_TYPE(typecode.ptr())->tp_name);
              throw py::error_already_set();
            }
            const std::string tcs = typecode.cast<std::string>();
            const char tc = tcs.size() == 1 ? tcs[0] : '\0';
            if (tc == '\0' || std::strchr(kTypecodes, tc) == nullptr) {
              throw py::value_error(
                  "bad typecode (must be b, B, h, H, i, I, l, L, q, Q, f or d)");
            }
            if (PyUnicode_Check(initializer.ptr())) {
              PyErr_Format(PyExc_TypeError,
                           "cannot use a str to initialize a TypedArray with typecode '%c'", tc);
              throw py::error_already_set();
            }
            std::optional<TypedArray> a;
            if (path.is_none()) {
              if (mode != "a" && mode != "w") {
                throw py::value_error("an anonymous TypedArray cannot have mode '" + mode + "'");
              }
              a = Check(TypedArray::Anonymous(tc));
            } else {
              FileMode fm;
              if (mode == "r") fm = FileMode::kReadOnly;
              else if (mode == "a") fm = FileMode::kReadWrite;
              else if (mode == "w") fm = FileMode::kTruncate;
              else throw py::value_error("mode must be 'r', 'a' or 'w', not '" + mode + "'");
              std::string p = py::module_::import("os").attr("fsdecode")(path).cast<std::string>();
              // With the GIL held from the check to the registration in
              // PyTypedArray's constructor, so no other thread opens it between.
              CheckFileFree(p, fm != FileMode::kReadOnly);
              a = Check(TypedArray::OpenFile(p, tc, fm));
            }
            auto self = std::make_unique<PyTypedArray>(std::move(*a));
            if (!initializer.is_none()) {
              if (PyBytes_Check(initializer.ptr()) || PyByteArray_Check(initializer.ptr())) {
                FromBytes(*self, initializer);
              } else {
                Extend(*self, initializer);
              }
            }
            return self;
          }),
          py::arg("typecode"), py::arg("initializer") = py::none(), py::kw_only(),
          py::arg("path") = py::none(), py::arg("mode") = "a");

  // The buffer protocol with an export count (see the top of this file).
  auto* type = reinterpret_cast<PyTypeObject*>(cls.ptr());
  type->tp_as_buffer->bf_getbuffer = &PyTypedArray::GetBuffer;
  type->tp_as_buffer->bf_releasebuffer = &PyTypedArray::ReleaseBuffer;

  cls.def_property_readonly("typecode",
                            [](PyTypedArray& self) { return std::string(1, self.typecode()); });
  cls.def_property_readonly("itemsize", [](PyTypedArray& self) {
    return TypedArray::ItemSizeOf(self.typecode());
  });
  cls.def_property_readonly("closed", &PyTypedArray::closed);
  cls.def_property_readonly("readonly", [](PyTypedArray& self) { return self.arr().read_only(); });
  cls.def_property_readonly("path", [](PyTypedArray& self) -> py::object {
    if (self.arr().path().empty()) return py::none();
    return py::str(self.arr().path());
  });

  cls.def("__len__", [](PyTypedArray& self) { return self.arr().size(); });

  cls.def("__getitem__", [](PyTypedArray& self, py::handle index) -> py::object {
    TypedArray& a = self.arr();
    if (PySlice_Check(index.ptr())) {
      SliceArgs s = UnpackSlice(index, a.size());
      return Wrap(Check(a.Slice(s.start, s.stop, s.step)));
    }
    Py_ssize_t i = IndexArg(index);
    Py_ssize_t n = static_cast<Py_ssize_t>(a.size());
    if (i < -n || i >= n) throw py::index_error("TypedArray index out of range");
    return ItemToPy(a, static_cast<size_t>(i < 0 ? i + n : i));
  });

  cls.def("__setitem__", [](PyTypedArray& self, py::handle index, py::handle value) {
    const char tc = self.typecode();
    if (PySlice_Check(index.ptr())) {
      TypedArray src = AnonymousFrom(tc, value);
      SliceArgs s = UnpackSlice(index, self.arr().size());
      if (s.step == 1) self.CheckResize(self.arr().size() - s.length + src.size());
      Locked(self, [&](TypedArray& a) { Check(a.AssignSlice(s.start, s.stop, s.step, src)); });
      return;
    }
    Py_ssize_t i = IndexArg(index);
    Number n = ToNumber(tc, value);
    Py_ssize_t len = static_cast<Py_ssize_t>(self.arr().size());
    if (i < -len || i >= len) throw py::index_error("TypedArray assignment index out of range");
    Locked(self, [&](TypedArray& a) { Check(a.Set(i, n)); });
  });

  cls.def("__delitem__", [](PyTypedArray& self, py::handle index) {
    if (PySlice_Check(index.ptr())) {
      SliceArgs s = UnpackSlice(index, self.arr().size());
      self.CheckResize(self.arr().size() - s.length);
      Locked(self, [&](TypedArray& a) { Check(a.DeleteSlice(s.start, s.stop, s.step)); });
      return;
    }
    Py_ssize_t i = IndexArg(index);
    Py_ssize_t len = static_cast<Py_ssize_t>(self.arr().size());
    if (i < -len || i >= len) throw py::index_error("TypedArray assignment index out of range");
    self.CheckResize(self.arr().size() - 1);
    Locked(self, [&](TypedArray& a) { Check(a.Pop(i).status()); });
  });

  cls.def("__iter__", [](py::object self) {
    self.cast<PyTypedArray&>().arr();  // ValueError if closed
    return TypedArrayIterator(self);
  });
  cls.def("__contains__",
          [](PyTypedArray& self, py::handle value) { return Find(self, value) >= 0; });

  for (auto [name, op] : {std::pair{"__eq__", Py_EQ}, {"__ne__", Py_NE}, {"__lt__", Py_LT},
                          {"__le__", Py_LE}, {"__gt__", Py_GT}, {"__ge__", Py_GE}}) {
    const int o = op;
    cls.def(name, [o](PyTypedArray& self, py::handle other) { return Compare(self, other, o); });
  }
  cls.attr("__hash__") = py::none();

  cls.def("append", [](PyTypedArray& self, py::handle value) {
    Number n = ToNumber(self.typecode(), value);
    self.CheckResize(self.arr().size() + 1);
    Locked(self, [&](TypedArray& a) { Check(a.Append(n)); });
  }, py::arg("value"));
  cls.def("extend", [](PyTypedArray& self, py::handle values) { Extend(self, values); },
          py::arg("iterable"));
  cls.def("insert", [](PyTypedArray& self, py::handle index_arg, py::handle value) {
    Py_ssize_t index = SizeArg(index_arg, PyExc_OverflowError);
    Number n = ToNumber(self.typecode(), value);
    self.CheckResize(self.arr().size() + 1);
    Locked(self, [&](TypedArray& a) { Check(a.Insert(index, n)); });
  }, py::arg("index"), py::arg("value"));
  cls.def("pop", [](PyTypedArray& self, py::handle index_arg) -> py::object {
    Py_ssize_t index = SizeArg(index_arg, PyExc_OverflowError);
    TypedArray& arr = self.arr();
    if (arr.empty()) throw py::index_error("pop from empty TypedArray");
    Py_ssize_t len = static_cast<Py_ssize_t>(arr.size());
    if (index < -len || index >= len) throw py::index_error("pop index out of range");
    self.CheckResize(arr.size() - 1);
    Number n = Locked(self, [&](TypedArray& a) { return Check(a.Pop(index)); });
    return py::reinterpret_steal<py::object>(NumberToPy(n));
  }, py::arg("index") = -1);
  cls.def("remove", [](PyTypedArray& self, py::handle value) {
    int64_t i = Find(self, value);
    if (i < 0) ThrowNotInArray("remove");
    self.CheckResize(self.arr().size() - 1);
    Locked(self, [&](TypedArray& a) { Check(a.Pop(i).status()); });
  }, py::arg("value"));
  cls.def("index", [](PyTypedArray& self, py::handle value, py::handle start, py::handle stop) {
    int64_t i = Find(self, value, SizeArg(start, nullptr), SizeArg(stop, nullptr));
    if (i < 0) ThrowNotInArray("index");
    return i;
  }, py::arg("value"), py::arg("start") = 0,
     py::arg("stop") = std::numeric_limits<Py_ssize_t>::max());
  cls.def("count", [](PyTypedArray& self, py::handle value) -> size_t {
    std::optional<Number> n = ProbeNumber(value);
    return n ? self.arr().Count(*n) : 0;
  }, py::arg("value"));
  cls.def("reverse", [](PyTypedArray& self) {
    Locked(self, [](TypedArray& a) { Check(a.Reverse()); });
  });
  cls.def("byteswap", [](PyTypedArray& self) {
    Locked(self, [](TypedArray& a) { Check(a.ByteSwap()); });
  });
  cls.def("buffer_info", [](PyTypedArray& self) {
    TypedArray& a = self.arr();
    return py::make_tuple(reinterpret_cast<uintptr_t>(a.bytes().data()), a.size());
  });
  cls.def("tobytes", [](PyTypedArray& self) {
    auto b = self.arr().bytes();
    return py::bytes(reinterpret_cast<const char*>(b.data()), b.size());
  });
  cls.def("frombytes", [](PyTypedArray& self, py::handle buffer) { FromBytes(self, buffer); },
          py::arg("buffer"));
  cls.def("tolist", [](PyTypedArray& self) { return ToList(self.arr()); });
  cls.def("fromlist", [](PyTypedArray& self, py::handle list) {
    if (!PyList_Check(list.ptr())) throw py::type_error("arg must be list");
    Extend(self, list);
  }, py::arg("list"));
  cls.def("tofile", [](PyTypedArray& self, py::object f) {
    auto b = self.arr().bytes();
    // In blocks, as array.tofile does, so a huge array is not copied at once.
    constexpr size_t kBlock = 64 * 1024;
    for (size_t off = 0; off < b.size(); off += kBlock) {
      size_t n = std::min(kBlock, b.size() - off);
      f.attr("write")(py::bytes(reinterpret_cast<const char*>(b.data()) + off, n));
    }
  }, py::arg("f"));
  cls.def("fromfile", [](PyTypedArray& self, py::object f, Py_ssize_t n) {
    if (n < 0) throw py::value_error("negative count");
    const size_t itemsize = self.arr().itemsize();
    if (static_cast<size_t>(n) > static_cast<size_t>(PY_SSIZE_T_MAX) / itemsize) {
      PyErr_NoMemory();
      throw py::error_already_set();
    }
    py::bytes data = f.attr("read")(static_cast<size_t>(n) * itemsize);
    if (!PyBytes_Check(data.ptr())) throw py::type_error("read() didn't return bytes");
    const size_t got = static_cast<size_t>(PyBytes_GET_SIZE(data.ptr()));
    const size_t whole = got - got % itemsize;
    FromBytes(self, py::bytes(PyBytes_AS_STRING(data.ptr()), whole));
    if (whole < static_cast<size_t>(n) * itemsize) {
      PyErr_SetString(PyExc_EOFError, "read() didn't return enough bytes");
      throw py::error_already_set();
    }
  }, py::arg("f"), py::arg("n"));

  cls.def("__add__", [](PyTypedArray& self, py::handle other) -> py::object {
    if (!AsTypedArray(other) && !IsArrayArray(other)) {
      return py::reinterpret_borrow<py::object>(Py_NotImplemented);
    }
    TypedArray out = Check(self.arr().Slice(std::nullopt, std::nullopt, 1));
    TypedArray tail = AnonymousFrom(self.typecode(), other);
    Check(out.Extend(tail));
    return Wrap(std::move(out));
  });
  auto repeat = [](PyTypedArray& self, Py_ssize_t n) {
    TypedArray out = Check(TypedArray::Anonymous(self.typecode()));
    auto b = self.arr().bytes();
    if (n > 0 && !b.empty()) {
      if (static_cast<size_t>(n) > static_cast<size_t>(PY_SSIZE_T_MAX) / b.size()) {
        PyErr_NoMemory();
      throw py::error_already_set();
      }
      Check(out.Reserve(self.arr().size() * static_cast<size_t>(n)));
      std::string_view v(reinterpret_cast<const char*>(b.data()), b.size());
      for (Py_ssize_t k = 0; k < n; ++k) Check(out.FromBytes(v));
    }
    return out;
  };
  cls.def("__mul__", [repeat](PyTypedArray& self, Py_ssize_t n) { return Wrap(repeat(self, n)); });
  cls.def("__rmul__", [repeat](PyTypedArray& self, Py_ssize_t n) { return Wrap(repeat(self, n)); });
  cls.def("__iadd__", [](py::object self_obj, py::handle other) -> py::object {
    PyTypedArray& self = self_obj.cast<PyTypedArray&>();
    if (!AsTypedArray(other) && !IsArrayArray(other)) {
      PyErr_Format(PyExc_TypeError, "can only extend a TypedArray with an array (not \"%.200s\")",
                   Py_TYPE(other.ptr())->tp_name);
      throw py::error_already_set();
    }
    Extend(self, other);
    return self_obj;
  });
  cls.def("__imul__", [repeat](py::object self_obj, Py_ssize_t n) -> py::object {
    PyTypedArray& self = self_obj.cast<PyTypedArray&>();
    TypedArray copy = repeat(self, n);
    self.CheckResize(copy.size());
    Locked(self, [&](TypedArray& a) {
      Check(a.Clear());
      Check(a.Extend(copy));
    });
    return self_obj;
  });

  cls.def("__repr__", &Repr);
  cls.def("__copy__", [](PyTypedArray& self) {
    return Wrap(Check(self.arr().Slice(std::nullopt, std::nullopt, 1)));
  });
  cls.def("__deepcopy__", [](PyTypedArray& self, py::handle) {
    return Wrap(Check(self.arr().Slice(std::nullopt, std::nullopt, 1)));
  });
  cls.def("__reduce__", [](py::object self_obj) {
    PyTypedArray& self = self_obj.cast<PyTypedArray&>();
    return py::make_tuple(py::type::of(self_obj),
                          py::make_tuple(std::string(1, self.typecode()), ToList(self.arr())));
  });

  cls.def("flush", [](PyTypedArray& self) {
    self.arr();  // ValueError if closed
    Status st;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(self.mu());
      // Another thread may have closed it meanwhile: then there is nothing to flush.
      if (TypedArray* a = self.maybe_arr()) st = a->Sync();
    }
    Check(st);
  }, "Trims a file-backed array's file to its items and writes them to disk (msync).");
  cls.def("close", &PyTypedArray::Close,
          "Flushes a file-backed array and releases the mapping; BufferError while a buffer "
          "(memoryview, numpy array) is exported. Closing twice is allowed.");
  cls.def("__enter__", [](py::object self) { return self; });
  cls.def("__exit__", [](PyTypedArray& self, py::args) {
    self.Close();
    return false;
  });

  // The fast slots, over those CPython made from the methods above.
  g_subscript_fallback = type->tp_as_mapping->mp_subscript;
  g_ass_subscript_fallback = type->tp_as_mapping->mp_ass_subscript;
  type->tp_as_mapping->mp_subscript = &FastSubscript;
  type->tp_as_mapping->mp_ass_subscript = &FastAssSubscript;
  type->tp_as_mapping->mp_length = &FastLength;
  type->tp_as_sequence->sq_length = &FastLength;
  PyType_Modified(type);
}

}  // namespace mapfs::python
