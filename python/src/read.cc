// mapfs.open and mapfs.Segment (docs/python.md, "Reading").
//
// A Segment object holds a reference to the owner (read_internal.h) that
// holds the mapping; close() drops only that reference, so records, views and
// numpy arrays made earlier stay valid until they go too.
#include <optional>
#include <string>
#include <vector>

#include "keys.h"
#include "module_internal.h"
#include "read_internal.h"

namespace mapfs::python {
namespace {

struct SegmentObject {
  PyObject_HEAD
  OwnerObject* owner;  // null once closed
  const Segment* seg;  // in *owner
};

PyTypeObject SegmentType = {PyVarObject_HEAD_INIT(nullptr, 0)};
PyTypeObject SegmentIterType = {PyVarObject_HEAD_INIT(nullptr, 0)};

enum class IterMode { kRecords, kKeys, kValues, kItems };

struct SegmentIterObject {
  PyObject_HEAD
  OwnerObject* owner;
  const Segment* seg;
  uint64_t next;
  uint64_t end;
  IterMode mode;
};

inline SegmentObject* AsSegment(PyObject* self) { return reinterpret_cast<SegmentObject*>(self); }

// The open segment, or null with ValueError when closed.
inline const Segment* Open(PyObject* self) {
  SegmentObject* s = AsSegment(self);
  if (s->owner == nullptr) {
    PyErr_SetString(PyExc_ValueError, "I/O operation on a closed mapfs segment");
    return nullptr;
  }
  return s->seg;
}

// Holds the owner for the length of a call that may run Python code (a
// generic key's conversion), during which another thread may close the
// segment.
class OwnerHold {
 public:
  explicit OwnerHold(OwnerObject* o) : o_(o) { Py_INCREF(o_); }
  ~OwnerHold() { Py_DECREF(o_); }
  OwnerHold(const OwnerHold&) = delete;
  OwnerHold& operator=(const OwnerHold&) = delete;

 private:
  OwnerObject* o_;
};

PyObject* RecordFromBytes(OwnerObject* owner, std::string_view bytes) {
  Result<View> v = (*owner->segment)->ViewOf(bytes);
  if (!v.ok()) return SetStatusError(v.status());
  return NewRecord(owner, *v);
}

PyObject* RecordAt(OwnerObject* owner, const Segment& seg, uint64_t i) {
  Result<View> v = seg.Record(i);
  if (!v.ok()) return SetStatusError(v.status());
  return NewRecord(owner, *v);
}

// A list of records from their ids (a multimap key's).
PyObject* RecordList(OwnerObject* owner, const Segment& seg, const Segment::RecordIds& ids) {
  PyObject* list = PyList_New(ids.size());
  for (uint32_t i = 0; list != nullptr && i < ids.size(); ++i) {
    PyObject* rec = RecordAt(owner, seg, ids[i]);
    if (rec == nullptr) {
      Py_CLEAR(list);
    } else {
      PyList_SET_ITEM(list, i, rec);
    }
  }
  return list;
}

// All records of `key` as a list (multimaps; mappings give zero or one).
PyObject* RecordsOfKey(OwnerObject* owner, PyObject* key) {
  OwnerHold hold(owner);
  std::vector<std::string_view> records;
  if (FindRecords(**owner->segment, key, false, &records) < 0) return nullptr;
  PyObject* list = PyList_New(static_cast<Py_ssize_t>(records.size()));
  for (size_t i = 0; list != nullptr && i < records.size(); ++i) {
    PyObject* rec = RecordFromBytes(owner, records[i]);
    if (rec == nullptr) {
      Py_CLEAR(list);
    } else {
      PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), rec);
    }
  }
  return list;
}

PyObject* ArrayItem(SegmentObject* s, PyObject* key) {
  // An index's __index__ may run Python code that closes the segment.
  OwnerObject* owner = s->owner;
  OwnerHold hold(owner);
  const Segment& seg = *s->seg;
  Py_ssize_t n = static_cast<Py_ssize_t>(seg.record_count());
  if (PySlice_Check(key)) {
    Py_ssize_t start, stop, step;
    if (PySlice_Unpack(key, &start, &stop, &step) < 0) return nullptr;
    Py_ssize_t count = PySlice_AdjustIndices(n, &start, &stop, step);
    PyObject* list = PyList_New(count);
    for (Py_ssize_t j = 0, i = start; list != nullptr && j < count; ++j, i += step) {
      PyObject* rec = RecordAt(owner, seg, static_cast<uint64_t>(i));
      if (rec == nullptr) {
        Py_CLEAR(list);
      } else {
        PyList_SET_ITEM(list, j, rec);
      }
    }
    return list;
  }
  if (!PyIndex_Check(key)) {
    PyErr_Format(PyExc_TypeError, "array indices must be integers or slices, not %.100s",
                 Py_TYPE(key)->tp_name);
    return nullptr;
  }
  Py_ssize_t i = PyLong_CheckExact(key) ? PyLong_AsSsize_t(key)
                                        : PyNumber_AsSsize_t(key, PyExc_IndexError);
  if (i == -1 && PyErr_Occurred()) {
    if (!PyErr_ExceptionMatches(PyExc_OverflowError)) return nullptr;
    PyErr_Clear();
    i = PY_SSIZE_T_MAX;
  }
  if (i < 0) i += n;
  if (i < 0 || i >= n) {
    PyErr_SetString(PyExc_IndexError, "record index out of range");
    return nullptr;
  }
  return RecordAt(owner, seg, static_cast<uint64_t>(i));
}

PyObject* SegmentSubscript(PyObject* self, PyObject* key) {
  const Segment* seg = Open(self);
  if (seg == nullptr) return nullptr;
  SegmentObject* s = AsSegment(self);
  if (seg->kind() == CollectionKind::kMapping) {
    if (seg->key_kind() == KeyKind::kStr && PyUnicode_CheckExact(key)) {
      // The hot path: no Python code runs, so the segment cannot close meanwhile.
      std::string_view record;
      int r = FindRecord(*seg, key, &record);
      if (r > 0) return RecordFromBytes(s->owner, record);
      if (r == 0) PyErr_SetObject(PyExc_KeyError, key);
      return nullptr;
    }
    OwnerObject* owner = s->owner;
    OwnerHold hold(owner);
    std::string_view record;
    int r = FindRecord(*seg, key, &record);
    if (r > 0) return RecordFromBytes(owner, record);
    if (r == 0) PyErr_SetObject(PyExc_KeyError, key);
    return nullptr;
  }
  if (seg->kind() == CollectionKind::kArray) return ArrayItem(s, key);
  PyObject* list = RecordsOfKey(s->owner, key);
  if (list != nullptr && PyList_GET_SIZE(list) == 0) {
    Py_DECREF(list);
    PyErr_SetObject(PyExc_KeyError, key);
    return nullptr;
  }
  return list;
}

Py_ssize_t SegmentLength(PyObject* self) {
  const Segment* seg = Open(self);
  if (seg == nullptr) return -1;
  uint64_t n = seg->kind() == CollectionKind::kArray ? seg->record_count() : seg->key_count();
  return static_cast<Py_ssize_t>(n);
}

int SegmentContains(PyObject* self, PyObject* key) {
  const Segment* seg = Open(self);
  if (seg == nullptr) return -1;
  if (seg->kind() == CollectionKind::kArray) {
    PyErr_SetString(PyExc_TypeError, "`in` needs a keyed collection; this segment is an array");
    return -1;
  }
  OwnerHold hold(AsSegment(self)->owner);
  std::vector<std::string_view> records;
  if (FindRecords(*seg, key, true, &records) < 0) return -1;
  return records.empty() ? 0 : 1;
}

PyObject* SegmentGet(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs < 1 || nargs > 2) {
    PyErr_SetString(PyExc_TypeError, "get() takes a key and an optional default");
    return nullptr;
  }
  const Segment* seg = Open(self);
  if (seg == nullptr) return nullptr;
  PyObject* found = nullptr;
  OwnerObject* owner = AsSegment(self)->owner;
  OwnerHold hold(owner);
  if (seg->kind() == CollectionKind::kMapping) {
    std::string_view record;
    int r = FindRecord(*seg, args[0], &record);
    if (r < 0) return nullptr;
    if (r > 0) return RecordFromBytes(owner, record);
  } else if (seg->kind() != CollectionKind::kArray) {
    found = RecordsOfKey(owner, args[0]);
    if (found == nullptr) return nullptr;
    if (PyList_GET_SIZE(found) > 0) return found;
    Py_DECREF(found);
  } else {
    PyErr_SetString(PyExc_TypeError, "get() needs a keyed collection; this segment is an array");
    return nullptr;
  }
  PyObject* dflt = nargs == 2 ? args[1] : Py_None;
  Py_INCREF(dflt);
  return dflt;
}

PyObject* SegmentGetAll(PyObject* self, PyObject* key) {
  const Segment* seg = Open(self);
  if (seg == nullptr) return nullptr;
  if (seg->kind() == CollectionKind::kArray) {
    PyErr_SetString(PyExc_TypeError, "get_all() needs a keyed collection; this segment is an array");
    return nullptr;
  }
  return RecordsOfKey(AsSegment(self)->owner, key);
}

PyObject* NewSegmentIter(PyObject* self, IterMode mode) {
  const Segment* seg = Open(self);
  if (seg == nullptr) return nullptr;
  if (seg->kind() == CollectionKind::kArray) {
    if (mode != IterMode::kRecords) {
      PyErr_SetString(PyExc_TypeError, "an array has no keys; iterate over it for its records");
      return nullptr;
    }
  } else {
    if (seg->kind() == CollectionKind::kApproxMultiMap) {
      PyErr_SetString(PyExc_TypeError,
                      "an approximate multimap stores no keys: look keys up instead");
      return nullptr;
    }
    if (mode == IterMode::kRecords) mode = IterMode::kKeys;
  }
  SegmentIterObject* it = PyObject_New(SegmentIterObject, &SegmentIterType);
  if (it == nullptr) return nullptr;
  SegmentObject* s = AsSegment(self);
  Py_INCREF(s->owner);
  it->owner = s->owner;
  it->seg = seg;
  it->next = 0;
  it->end = seg->kind() == CollectionKind::kArray ? seg->record_count() : seg->key_count();
  it->mode = mode;
  return reinterpret_cast<PyObject*>(it);
}

PyObject* SegmentIter(PyObject* self) { return NewSegmentIter(self, IterMode::kRecords); }
PyObject* SegmentKeys(PyObject* self, PyObject*) { return NewSegmentIter(self, IterMode::kKeys); }
PyObject* SegmentValues(PyObject* self, PyObject*) {
  return NewSegmentIter(self, IterMode::kValues);
}
PyObject* SegmentItems(PyObject* self, PyObject*) { return NewSegmentIter(self, IterMode::kItems); }

void SegmentIterDealloc(PyObject* self) {
  Py_DECREF(reinterpret_cast<SegmentIterObject*>(self)->owner);
  PyObject_Free(self);
}

PyObject* SegmentIterNext(PyObject* self) {
  SegmentIterObject* it = reinterpret_cast<SegmentIterObject*>(self);
  if (it->next >= it->end) return nullptr;
  uint64_t i = it->next++;
  const Segment& seg = *it->seg;
  if (it->mode == IterMode::kRecords) return RecordAt(it->owner, seg, i);
  Result<Segment::Entry> e = seg.EntryAt(i);
  if (!e.ok()) return SetStatusError(e.status());
  PyObject* key = nullptr;
  if (it->mode != IterMode::kValues) {
    key = KeyToPy(seg, e->key, it->owner);
    if (key == nullptr || it->mode == IterMode::kKeys) return key;
  }
  PyObject* value;
  if (seg.kind() == CollectionKind::kMultiMap) {
    Result<Segment::RecordIds> ids = seg.RecordsAt(i);
    value = ids.ok() ? RecordList(it->owner, seg, *ids) : SetStatusError(ids.status());
  } else {
    Result<View> v = seg.ViewOf(e->record);
    value = v.ok() ? NewRecord(it->owner, *v) : SetStatusError(v.status());
  }
  if (key == nullptr || value == nullptr) {
    Py_XDECREF(key);
    return value;
  }
  PyObject* pair = PyTuple_Pack(2, key, value);
  Py_DECREF(key);
  Py_DECREF(value);
  return pair;
}

PyObject* SegmentVerify(PyObject* self, PyObject*) {
  const Segment* seg = Open(self);
  if (seg == nullptr) return nullptr;
  // The owner outlives the call even if another thread closes the segment.
  OwnerObject* owner = AsSegment(self)->owner;
  Py_INCREF(owner);
  Status st;
  Py_BEGIN_ALLOW_THREADS
  st = seg->Verify();
  Py_END_ALLOW_THREADS
  Py_DECREF(owner);
  if (!st.ok()) return SetStatusError(st);
  Py_RETURN_NONE;
}

PyObject* SegmentClose(PyObject* self, PyObject*) {
  Py_CLEAR(AsSegment(self)->owner);
  AsSegment(self)->seg = nullptr;
  Py_RETURN_NONE;
}

PyObject* SegmentEnter(PyObject* self, PyObject*) {
  if (Open(self) == nullptr) return nullptr;
  Py_INCREF(self);
  return self;
}

PyObject* SegmentExit(PyObject* self, PyObject*) {
  Py_CLEAR(AsSegment(self)->owner);
  AsSegment(self)->seg = nullptr;
  Py_RETURN_FALSE;
}

PyObject* Text(std::string_view s) {
  return PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
}

PyObject* GetKind(PyObject* self, void*) {
  const Segment* seg = Open(self);
  return seg == nullptr ? nullptr : Text(CollectionKindName(seg->kind()));
}

PyObject* GetType(PyObject* self, void*) {
  const Segment* seg = Open(self);
  return seg == nullptr ? nullptr
                        : Text(seg->schema().struct_def(seg->root_struct_index()).name);
}

PyObject* GetKeyField(PyObject* self, void*) {
  const Segment* seg = Open(self);
  if (seg == nullptr) return nullptr;
  if (seg->key_field_index() < 0) Py_RETURN_NONE;
  return Text(seg->schema().struct_def(seg->root_struct_index()).fields[seg->key_field_index()].name);
}

PyObject* GetName(PyObject* self, void*) {
  const Segment* seg = Open(self);
  return seg == nullptr ? nullptr : Text(seg->name());
}

PyObject* GetClosed(PyObject* self, void*) { return PyBool_FromLong(AsSegment(self)->owner == nullptr); }

PyObject* GetSchema(PyObject* self, void*) {
  const Segment* seg = Open(self);
  if (seg == nullptr) return nullptr;
  try {
    // A copy: the Schema object may outlive the mapping.
    return SchemaToPy(std::make_shared<const Schema>(seg->schema())).release().ptr();
  } catch (pybind11::error_already_set& e) {
    e.restore();
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_NotImplementedError, e.what());
  }
  return nullptr;
}

PyObject* SegmentRepr(PyObject* self) {
  SegmentObject* s = AsSegment(self);
  if (s->owner == nullptr) return PyUnicode_FromString("<mapfs.Segment (closed)>");
  const Segment& seg = *s->seg;
  std::string text = "<mapfs.Segment " + seg.name() + ": " +
                     std::string(CollectionKindName(seg.kind())) + " of " +
                     seg.schema().struct_def(seg.root_struct_index()).name + ", " +
                     std::to_string(seg.record_count()) + " records>";
  return Text(text);
}

void SegmentDealloc(PyObject* self) {
  Py_XDECREF(AsSegment(self)->owner);
  PyObject_Free(self);
}

PyObject* NewSegmentObject(OwnerObject* owner) {
  SegmentObject* s = PyObject_New(SegmentObject, &SegmentType);
  if (s == nullptr) {
    Py_DECREF(owner);
    return nullptr;
  }
  s->owner = owner;  // steals
  s->seg = &**owner->segment;
  return reinterpret_cast<PyObject*>(s);
}

PyObject* OpenSegment(PyObject*, PyObject* arg) {
  // bytes are a segment's contents (a buffer), not a path.
  if (PyUnicode_Check(arg) || (!PyBytes_Check(arg) && PyObject_HasAttrString(arg, "__fspath__"))) {
    PyObject* path = nullptr;
    if (!PyUnicode_FSConverter(arg, &path)) return nullptr;
    std::string p(PyBytes_AS_STRING(path), static_cast<size_t>(PyBytes_GET_SIZE(path)));
    Py_DECREF(path);
    std::optional<Result<Segment>> seg;
    Py_BEGIN_ALLOW_THREADS
    seg.emplace(Segment::Open(p));
    Py_END_ALLOW_THREADS
    if (!seg->ok()) return SetStatusError(seg->status());
    OwnerObject* owner = NewSegmentOwner(std::move(**seg), nullptr);
    return owner == nullptr ? nullptr : NewSegmentObject(owner);
  }
  if (!PyObject_CheckBuffer(arg)) {
    PyErr_Format(PyExc_TypeError,
                 "mapfs.open() takes a path or a buffer (bytes, mmap, ...), not %.100s",
                 Py_TYPE(arg)->tp_name);
    return nullptr;
  }
  Py_buffer buffer;
  if (PyObject_GetBuffer(arg, &buffer, PyBUF_C_CONTIGUOUS) < 0) return nullptr;
  std::string name = std::string("<") + Py_TYPE(arg)->tp_name + ">";
  Result<Segment> seg = Segment::FromMemory(buffer.buf, static_cast<size_t>(buffer.len), name);
  if (!seg.ok()) {
    PyBuffer_Release(&buffer);
    return SetStatusError(seg.status());
  }
  OwnerObject* owner = NewSegmentOwner(std::move(*seg), &buffer);
  return owner == nullptr ? nullptr : NewSegmentObject(owner);
}

PyMethodDef kSegmentMethods[] = {
    {"get", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(SegmentGet)), METH_FASTCALL,
     "get(key, default=None): the key's record (a mapping) or records (multimaps)."},
    {"get_all", SegmentGetAll, METH_O,
     "get_all(key): the key's records in input order, an empty list if none."},
    {"keys", SegmentKeys, METH_NOARGS, "An iterator over the keys, in index order."},
    {"values", SegmentValues, METH_NOARGS,
     "An iterator over the records of each key (lists for multimaps)."},
    {"items", SegmentItems, METH_NOARGS, "An iterator over (key, value) pairs."},
    {"verify", SegmentVerify, METH_NOARGS,
     "Checks every checksum and record; raises mapfs.CorruptionError."},
    {"close", SegmentClose, METH_NOARGS,
     "Drops this object's hold on the mapping; views made earlier stay valid."},
    {"__enter__", SegmentEnter, METH_NOARGS, nullptr},
    {"__exit__", SegmentExit, METH_VARARGS, nullptr},
    {nullptr, nullptr, 0, nullptr}};

PyGetSetDef kSegmentGetSet[] = {
    {"kind", GetKind, nullptr,
     "\"array\", \"mapping\", \"multimap\" or \"approximate multimap\".", nullptr},
    {"type", GetType, nullptr, "The root struct's name.", nullptr},
    {"key_field", GetKeyField, nullptr, "The key field's name, or None.", nullptr},
    {"schema", GetSchema, nullptr, "The segment's schema (a mapfs.Schema).", nullptr},
    {"name", GetName, nullptr, "The file name (or buffer type) used in errors.", nullptr},
    {"closed", GetClosed, nullptr, "True after close().", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyMappingMethods kSegmentMapping = {};
PySequenceMethods kSegmentSequence = {};

PyMethodDef kModuleFunctions[] = {
    {"open", OpenSegment, METH_O,
     "open(path_or_buffer) -> Segment: maps a .mapfs file, or reads one in a buffer."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

void RegisterRead(pybind11::module_& m) {
  PyObject* module = m.ptr();
  if (InitConversions() < 0 || ReadyRecordTypes(module) < 0 || ReadyContainerTypes(module) < 0) {
    throw pybind11::error_already_set();
  }
  kSegmentMapping.mp_length = SegmentLength;
  kSegmentMapping.mp_subscript = SegmentSubscript;
  kSegmentSequence.sq_contains = SegmentContains;
  SegmentType.tp_name = "mapfs.Segment";
  SegmentType.tp_doc = "A mapped collection of records (mapfs.open).";
  SegmentType.tp_basicsize = sizeof(SegmentObject);
  SegmentType.tp_dealloc = SegmentDealloc;
  SegmentType.tp_flags = Py_TPFLAGS_DEFAULT;
  SegmentType.tp_as_mapping = &kSegmentMapping;
  SegmentType.tp_as_sequence = &kSegmentSequence;
  SegmentType.tp_iter = SegmentIter;
  SegmentType.tp_methods = kSegmentMethods;
  SegmentType.tp_getset = kSegmentGetSet;
  SegmentType.tp_repr = SegmentRepr;
  if (PyType_Ready(&SegmentType) < 0) throw pybind11::error_already_set();
  SegmentIterType.tp_name = "mapfs._SegmentIterator";
  SegmentIterType.tp_basicsize = sizeof(SegmentIterObject);
  SegmentIterType.tp_dealloc = SegmentIterDealloc;
  SegmentIterType.tp_flags = Py_TPFLAGS_DEFAULT;
  SegmentIterType.tp_iter = PyObject_SelfIter;
  SegmentIterType.tp_iternext = SegmentIterNext;
  if (PyType_Ready(&SegmentIterType) < 0) throw pybind11::error_already_set();
  Py_INCREF(&SegmentType);
  if (PyModule_AddObject(module, "Segment", reinterpret_cast<PyObject*>(&SegmentType)) < 0) {
    Py_DECREF(&SegmentType);
    throw pybind11::error_already_set();
  }
  if (PyModule_AddFunctions(module, kModuleFunctions) < 0) throw pybind11::error_already_set();
}

}  // namespace mapfs::python
