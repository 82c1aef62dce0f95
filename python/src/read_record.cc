// The owner object and the record view (docs/python.md, "Reading").
//
// Reading `rec.field` is the hot path of every lookup, so the record view is
// a plain CPython type: the field name (an interned str, hash cached) is
// looked up in a per-struct dict of the owner, and the field is read by its
// index through View::Field, which is inline for fixed-width fields.
#include <new>
#include <string>

#include "module_internal.h"
#include "read_internal.h"

namespace mapfs::python {
namespace {

void OwnerDealloc(PyObject* self) {
  auto* o = reinterpret_cast<OwnerObject*>(self);
  for (std::vector<PyObject*>* v : {o->field_dicts, o->field_names}) {
    if (v == nullptr) continue;
    for (PyObject* p : *v) Py_XDECREF(p);
    delete v;
  }
  delete o->segment;  // unmaps the file (before the buffer it may borrow goes)
  if (o->has_buffer) PyBuffer_Release(&o->buffer);
  Py_XDECREF(o->foreign);
  Py_TYPE(self)->tp_free(self);
}

OwnerObject* NewOwner() {
  OwnerObject* o = PyObject_New(OwnerObject, &OwnerType);
  if (o == nullptr) return nullptr;
  o->segment = nullptr;
  o->has_buffer = false;
  o->foreign = nullptr;
  o->schema = nullptr;
  o->field_dicts = nullptr;
  o->field_names = nullptr;
  return o;
}

// Makes the struct's name dict and names tuple.
int MakeFieldCache(OwnerObject* o, int struct_index) {
  if (o->field_dicts == nullptr) {
    size_t n = o->schema->structs().size();
    o->field_dicts = new std::vector<PyObject*>(n, nullptr);
    o->field_names = new std::vector<PyObject*>(n, nullptr);
  }
  const StructDef& def = o->schema->struct_def(struct_index);
  PyObject* dict = PyDict_New();
  PyObject* names = PyTuple_New(static_cast<Py_ssize_t>(def.fields.size()));
  if (dict == nullptr || names == nullptr) {
    Py_XDECREF(dict);
    Py_XDECREF(names);
    return -1;
  }
  for (size_t i = 0; i < def.fields.size(); ++i) {
    const std::string& n = def.fields[i].name;
    PyObject* name = PyUnicode_DecodeUTF8(n.data(), static_cast<Py_ssize_t>(n.size()), "strict");
    if (name != nullptr) PyUnicode_InternInPlace(&name);
    PyObject* index = PyLong_FromSize_t(i);
    if (name == nullptr || index == nullptr || PyDict_SetItem(dict, name, index) < 0) {
      Py_XDECREF(name);
      Py_XDECREF(index);
      Py_DECREF(dict);
      Py_DECREF(names);
      return -1;
    }
    Py_DECREF(index);
    PyTuple_SET_ITEM(names, static_cast<Py_ssize_t>(i), name);
  }
  (*o->field_dicts)[struct_index] = dict;
  (*o->field_names)[struct_index] = names;
  return 0;
}

inline RecordObject* AsRecord(PyObject* self) { return reinterpret_cast<RecordObject*>(self); }

// The field index of `name` in the record's struct: >= 0, -1 when the struct
// has no such field (no exception), -2 on error.
inline int FieldIndex(RecordObject* r, PyObject* name) {
  PyObject* dict = FieldDict(r->owner, r->view.type().struct_index);
  if (dict == nullptr) return -2;
  PyObject* index = PyDict_GetItemWithError(dict, name);
  if (index == nullptr) return PyErr_Occurred() ? -2 : -1;
  return static_cast<int>(PyLong_AsLong(index));
}

PyObject* FieldValue(RecordObject* r, int index) {
  Result<View> f = r->view.Field(index);
  if (!f.ok()) return SetStatusError(f.status());
  return ViewToPy(*f, r->owner);
}

// Freed record views kept for reuse: a lookup allocates one per call, and
// taking it from here skips the allocator (guarded by the GIL).
constexpr int kFreeRecords = 64;
PyObject* g_free_records[kFreeRecords];
int g_free_count = 0;

void RecordDealloc(PyObject* self) {
  Py_DECREF(AsRecord(self)->owner);
  if (g_free_count < kFreeRecords) {
    g_free_records[g_free_count++] = self;
  } else {
    PyObject_Free(self);
  }
}

PyObject* RecordGetAttr(PyObject* self, PyObject* name) {
  RecordObject* r = AsRecord(self);
  if (PyUnicode_CheckExact(name)) {
    int index = FieldIndex(r, name);
    if (index >= 0) return FieldValue(r, index);
    if (index == -2) return nullptr;
  }
  PyObject* attr = PyObject_GenericGetAttr(self, name);
  if (attr == nullptr && PyErr_ExceptionMatches(PyExc_AttributeError)) {
    PyErr_Clear();
    PyErr_Format(PyExc_AttributeError, "%s has no field %R", r->view.struct_def().name.c_str(),
                 name);
  }
  return attr;
}

PyObject* RecordSubscript(PyObject* self, PyObject* name) {
  RecordObject* r = AsRecord(self);
  if (!PyUnicode_Check(name)) {
    PyErr_Format(PyExc_TypeError, "record fields are named by str, not %.100s",
                 Py_TYPE(name)->tp_name);
    return nullptr;
  }
  int index = FieldIndex(r, name);
  if (index >= 0) return FieldValue(r, index);
  if (index == -1) PyErr_SetObject(PyExc_KeyError, name);
  return nullptr;
}

int RecordContains(PyObject* self, PyObject* name) {
  RecordObject* r = AsRecord(self);
  if (!PyUnicode_Check(name)) return 0;
  int index = FieldIndex(r, name);
  if (index < 0) return index == -1 ? 0 : -1;
  return r->view.HasField(index) ? 1 : 0;
}

PyObject* RecordKeys(PyObject* self, PyObject*) {
  RecordObject* r = AsRecord(self);
  PyObject* names = FieldNames(r->owner, r->view.type().struct_index);
  if (names == nullptr) return nullptr;
  PyObject* list = PyList_New(0);
  for (Py_ssize_t i = 0; list != nullptr && i < PyTuple_GET_SIZE(names); ++i) {
    if (r->view.HasField(static_cast<int>(i)) &&
        PyList_Append(list, PyTuple_GET_ITEM(names, i)) < 0) {
      Py_CLEAR(list);
    }
  }
  return list;
}

// Field names first, for completion in interactive shells.
PyObject* RecordDir(PyObject* self, PyObject*) {
  RecordObject* r = AsRecord(self);
  PyObject* names = FieldNames(r->owner, r->view.type().struct_index);
  PyObject* list = names == nullptr ? nullptr : PySequence_List(names);
  for (const char* m : {"keys", "to_json", "to_python"}) {
    PyObject* name = list == nullptr ? nullptr : PyUnicode_FromString(m);
    if (name == nullptr || PyList_Append(list, name) < 0) Py_CLEAR(list);
    Py_XDECREF(name);
  }
  return list;
}

PyObject* RecordToPython(PyObject* self, PyObject*) {
  return ViewToPlain(AsRecord(self)->view, AsRecord(self)->owner);
}

PyObject* RecordToJson(PyObject* self, PyObject*) { return ViewToJson(AsRecord(self)->view); }

PyObject* RecordRepr(PyObject* self) {
  RecordObject* r = AsRecord(self);
  std::string json;
  Status st = RenderJson(r->view, &json);
  if (!st.ok()) json = "<" + st.ToString() + ">";
  std::string text = r->view.struct_def().name + "(" + json + ")";
  return PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "replace");
}

PyObject* RecordRichCompare(PyObject* self, PyObject* other, int op) {
  if ((op != Py_EQ && op != Py_NE) ||
      (Py_TYPE(other) != &RecordType && !PyDict_Check(other))) {
    Py_RETURN_NOTIMPLEMENTED;
  }
  int eq = ViewEquals(AsRecord(self)->view, AsRecord(self)->owner, other);
  if (eq < 0) return nullptr;
  return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

PyMethodDef kRecordMethods[] = {
    {"keys", RecordKeys, METH_NOARGS, "The names of the present fields, in schema order."},
    {"__dir__", RecordDir, METH_NOARGS, nullptr},
    {"to_python", RecordToPython, METH_NOARGS,
     "A dict of plain Python values, deeply (absent fields are None)."},
    {"to_json", RecordToJson, METH_NOARGS,
     "The record as one line of JSON, as `mapfs get` prints it (without the newline)."},
    {nullptr, nullptr, 0, nullptr}};

PyMappingMethods kRecordMapping = {nullptr, RecordSubscript, nullptr};
PySequenceMethods kRecordSequence = {};

}  // namespace

PyTypeObject OwnerType = {PyVarObject_HEAD_INIT(nullptr, 0)};
PyTypeObject RecordType = {PyVarObject_HEAD_INIT(nullptr, 0)};

OwnerObject* NewSegmentOwner(Segment segment, Py_buffer* buffer) {
  OwnerObject* o = NewOwner();
  if (o == nullptr) {
    if (buffer != nullptr) PyBuffer_Release(buffer);
    return nullptr;
  }
  o->segment = new std::optional<Segment>(std::move(segment));
  if (buffer != nullptr) {
    o->buffer = *buffer;
    o->has_buffer = true;
  }
  o->schema = &(*o->segment)->schema();
  return o;
}

OwnerObject* AsOwner(PyObject* owner, const Schema& schema) {
  if (Py_TYPE(owner) == &OwnerType) {
    Py_INCREF(owner);
    return reinterpret_cast<OwnerObject*>(owner);
  }
  OwnerObject* o = NewOwner();
  if (o == nullptr) return nullptr;
  Py_INCREF(owner);
  o->foreign = owner;
  o->schema = &schema;
  return o;
}

PyObject* FieldDict(OwnerObject* owner, int struct_index) {
  if (owner->field_dicts == nullptr || (*owner->field_dicts)[struct_index] == nullptr) {
    if (MakeFieldCache(owner, struct_index) < 0) return nullptr;
  }
  return (*owner->field_dicts)[struct_index];
}

PyObject* FieldNames(OwnerObject* owner, int struct_index) {
  if (FieldDict(owner, struct_index) == nullptr) return nullptr;
  return (*owner->field_names)[struct_index];
}

PyObject* NewRecord(OwnerObject* owner, const View& v) {
  RecordObject* r;
  if (g_free_count > 0) {
    r = reinterpret_cast<RecordObject*>(
        PyObject_Init(g_free_records[--g_free_count], &RecordType));
  } else {
    r = PyObject_New(RecordObject, &RecordType);
    if (r == nullptr) return nullptr;
  }
  Py_INCREF(owner);
  r->owner = owner;
  new (&r->view) View(v);
  return reinterpret_cast<PyObject*>(r);
}

int ReadyRecordTypes(PyObject* module) {
  OwnerType.tp_name = "mapfs._Owner";
  OwnerType.tp_doc = "The bytes and schema shared by a segment and its views.";
  OwnerType.tp_basicsize = sizeof(OwnerObject);
  OwnerType.tp_dealloc = OwnerDealloc;
  OwnerType.tp_flags = Py_TPFLAGS_DEFAULT;
  if (PyType_Ready(&OwnerType) < 0) return -1;

  kRecordSequence.sq_contains = RecordContains;
  RecordType.tp_name = "mapfs.Record";
  RecordType.tp_doc =
      "A lazy, zero-copy view of one record: rec.field or rec['field'] (None when absent).";
  RecordType.tp_basicsize = sizeof(RecordObject);
  RecordType.tp_dealloc = RecordDealloc;
  RecordType.tp_flags = Py_TPFLAGS_DEFAULT;
  RecordType.tp_getattro = RecordGetAttr;
  RecordType.tp_as_mapping = &kRecordMapping;
  RecordType.tp_as_sequence = &kRecordSequence;
  RecordType.tp_methods = kRecordMethods;
  RecordType.tp_repr = RecordRepr;
  RecordType.tp_richcompare = RecordRichCompare;
  RecordType.tp_hash = PyObject_HashNotImplemented;
  if (PyType_Ready(&RecordType) < 0) return -1;
  Py_INCREF(&RecordType);
  if (PyModule_AddObject(module, "Record", reinterpret_cast<PyObject*>(&RecordType)) < 0) {
    Py_DECREF(&RecordType);
    return -1;
  }
  return 0;
}

PyObject* ValueToPy(const View& v, PyObject* owner) {
  if (v.is_null()) Py_RETURN_NONE;
  OwnerObject* o = AsOwner(owner, v.schema());
  if (o == nullptr) return nullptr;
  PyObject* result = ViewToPy(v, o);
  Py_DECREF(o);
  return result;
}

bool RecordViewFromPy(PyObject* obj, View* out) {
  if (Py_TYPE(obj) != &RecordType) return false;
  *out = AsRecord(obj)->view;
  return true;
}

}  // namespace mapfs::python
