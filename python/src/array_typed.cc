// mapfs.TypedArray: Python's array.array API over mapfs::TypedArray
// (docs/python.md, "Arrays"; the C++ semantics are in docs/arrays.md).
//
// This file has the methods; values and other arrays are converted in
// array_typed_values.cc, the object's life, buffer protocol and fast slots
// are in array_typed_slots.cc.
//
// Threads: every call runs under the GIL except flush(), whose msync may take
// long; `mu` keeps a flush and a change of the C++ array apart.
#include <Python.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "array_internal.h"
#include "array_typed_internal.h"

namespace mapfs::python {
namespace typed {
namespace {

constexpr Py_ssize_t kReprItems = 1000;  // a longer array's repr ends with "..."

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
}  // namespace

void Register(py::module_& m) {
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
      if (s.step != 1 && src.empty()) {
        // array.array deletes an extended slice assigned an empty array (the
        // C++ API leaves that to DeleteSlice; docs/arrays.md).
        self.CheckResize(self.arr().size() - s.length);
        Locked(self, [&](TypedArray& a) { Check(a.DeleteSlice(s.start, s.stop, s.step)); });
        return;
      }
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

  // The buffer protocol and the fast slots, over those CPython made from the
  // methods above.
  InstallSlots(reinterpret_cast<PyTypeObject*>(cls.ptr()));
}

}  // namespace typed

void RegisterTypedArray(pybind11::module_& m) { typed::Register(m); }

}  // namespace mapfs::python
