// Lazy views of list, tuple, frozenset and dict values (docs/python.md,
// "Reading"): nothing is converted until an element is asked for; set
// membership and dict lookup use the format's sorted order (O(log n)).
#include <new>
#include <optional>
#include <string>

#include "module_internal.h"
#include "build_convert.h"
#include "read_internal.h"

namespace mapfs::python {
namespace {

// Every container view: the owner and the View.
struct ContainerObject {
  PyObject_HEAD
  OwnerObject* owner;
  View view;
};

PyTypeObject SequenceType = {PyVarObject_HEAD_INIT(nullptr, 0)};
PyTypeObject SetType = {PyVarObject_HEAD_INIT(nullptr, 0)};
PyTypeObject DictType = {PyVarObject_HEAD_INIT(nullptr, 0)};
PyTypeObject IterType = {PyVarObject_HEAD_INIT(nullptr, 0)};

// Set elements come out plain (hashable), like dict keys.
enum class IterMode { kElements, kPlainElements, kKeys, kValues, kItems };

struct IterObject {
  PyObject_HEAD
  OwnerObject* owner;
  View view;
  size_t next;
  IterMode mode;
};

inline ContainerObject* AsContainer(PyObject* self) {
  return reinterpret_cast<ContainerObject*>(self);
}

bool IsContainer(PyObject* obj) {
  PyTypeObject* t = Py_TYPE(obj);
  return t == &SequenceType || t == &SetType || t == &DictType;
}

PyObject* NewContainer(PyTypeObject* type, OwnerObject* owner, const View& v) {
  ContainerObject* c = PyObject_New(ContainerObject, type);
  if (c == nullptr) return nullptr;
  Py_INCREF(owner);
  c->owner = owner;
  new (&c->view) View(v);
  return reinterpret_cast<PyObject*>(c);
}

void ContainerDealloc(PyObject* self) {
  Py_DECREF(AsContainer(self)->owner);
  PyObject_Free(self);
}

Py_ssize_t ContainerLength(PyObject* self) {
  return static_cast<Py_ssize_t>(AsContainer(self)->view.size());
}

// Element i (0 <= i < size) as a lazy value, or as a hashable plain value
// for set elements and dict keys.
PyObject* ElementAt(ContainerObject* c, size_t i, bool plain) {
  Result<View> e = c->view.kind() == TypeKind::kDict ? c->view.KeyAt(i) : c->view.At(i);
  if (!e.ok()) return SetStatusError(e.status());
  return plain ? ViewToPlain(*e, c->owner, true) : ViewToPy(*e, c->owner);
}

PyObject* NewIter(ContainerObject* c, IterMode mode) {
  IterObject* it = PyObject_New(IterObject, &IterType);
  if (it == nullptr) return nullptr;
  Py_INCREF(c->owner);
  it->owner = c->owner;
  new (&it->view) View(c->view);
  it->next = 0;
  it->mode = mode;
  return reinterpret_cast<PyObject*>(it);
}

PyObject* ContainerIter(PyObject* self) {
  ContainerObject* c = AsContainer(self);
  TypeKind k = c->view.kind();
  return NewIter(c, k == TypeKind::kDict        ? IterMode::kKeys
                    : k == TypeKind::kFrozenSet ? IterMode::kPlainElements
                                                : IterMode::kElements);
}

PyObject* ContainerToPython(PyObject* self, PyObject*) {
  return ViewToPlain(AsContainer(self)->view, AsContainer(self)->owner);
}

PyObject* ContainerToJson(PyObject* self, PyObject*) { return ViewToJson(AsContainer(self)->view); }

PyObject* ContainerRepr(PyObject* self) {
  PyObject* plain = ContainerToPython(self, nullptr);
  if (plain == nullptr) return nullptr;
  PyObject* r = PyUnicode_FromFormat("%s(%R)", Py_TYPE(self)->tp_name, plain);
  Py_DECREF(plain);
  return r;
}

PyObject* ContainerRichCompare(PyObject* self, PyObject* other, int op) {
  if (op != Py_EQ && op != Py_NE) Py_RETURN_NOTIMPLEMENTED;
  TypeKind k = AsContainer(self)->view.kind();
  bool comparable = IsContainer(other);
  if (k == TypeKind::kList || k == TypeKind::kTuple) {
    comparable |= PyList_Check(other) || PyTuple_Check(other);
  } else if (k == TypeKind::kFrozenSet) {
    comparable |= PyAnySet_Check(other);
  } else {
    comparable |= PyDict_Check(other);
  }
  if (!comparable) Py_RETURN_NOTIMPLEMENTED;
  int eq = ViewEquals(AsContainer(self)->view, AsContainer(self)->owner, other);
  if (eq < 0) return nullptr;
  return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

// --- list and tuple ---

PyObject* SequenceItem(PyObject* self, Py_ssize_t i) {
  ContainerObject* c = AsContainer(self);
  Py_ssize_t n = static_cast<Py_ssize_t>(c->view.size());
  if (i < 0) i += n;
  if (i < 0 || i >= n) {
    PyErr_SetString(PyExc_IndexError, "index out of range");
    return nullptr;
  }
  return ElementAt(c, static_cast<size_t>(i), false);
}

PyObject* SequenceSubscript(PyObject* self, PyObject* key) {
  if (PyIndex_Check(key)) {
    Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
    if (i == -1 && PyErr_Occurred()) return nullptr;
    return SequenceItem(self, i);
  }
  if (!PySlice_Check(key)) {
    PyErr_Format(PyExc_TypeError, "indices must be integers or slices, not %.100s",
                 Py_TYPE(key)->tp_name);
    return nullptr;
  }
  Py_ssize_t start, stop, step;
  if (PySlice_Unpack(key, &start, &stop, &step) < 0) return nullptr;
  ContainerObject* c = AsContainer(self);
  Py_ssize_t n = PySlice_AdjustIndices(static_cast<Py_ssize_t>(c->view.size()), &start, &stop,
                                       step);
  PyObject* list = PyList_New(n);
  for (Py_ssize_t j = 0, i = start; list != nullptr && j < n; ++j, i += step) {
    PyObject* item = ElementAt(c, static_cast<size_t>(i), false);
    if (item == nullptr) {
      Py_CLEAR(list);
    } else {
      PyList_SET_ITEM(list, j, item);
    }
  }
  return list;
}

int SequenceContains(PyObject* self, PyObject* x) {
  ContainerObject* c = AsContainer(self);
  for (size_t i = 0; i < c->view.size(); ++i) {
    PyObject* item = ElementAt(c, i, false);
    if (item == nullptr) return -1;
    int eq = PyObject_RichCompareBool(item, x, Py_EQ);
    Py_DECREF(item);
    if (eq != 0) return eq;
  }
  return 0;
}

// --- frozenset ---

// The declared element type of a set, or the key type of a dict.
const Type* ElementType(const View& v) {
  const Type& t = v.type();
  return t.params.empty() ? nullptr : &t.params[0];
}

// Converts a Python set element / dict key for a lookup: 1 with *out set,
// 0 when `x` cannot be a value of the type (then it is not there), -1 on error.
int LookupKey(const View& v, PyObject* x, Value* out) {
  const Type* type = ElementType(v);
  if (type == nullptr) return 0;
  if (ToLookupValue(x, *type, v.schema(), out)) return 1;
  if (PyErr_ExceptionMatches(PyExc_TypeError) || PyErr_ExceptionMatches(PyExc_ValueError) ||
      PyErr_ExceptionMatches(PyExc_OverflowError)) {
    PyErr_Clear();
    return 0;
  }
  return -1;
}

int SetContains(PyObject* self, PyObject* x) {
  const View& v = AsContainer(self)->view;
  const Type* type = ElementType(v);
  if (type == nullptr) return 0;
  Result<bool> found = false;
  if (type->kind == TypeKind::kStr && PyUnicode_Check(x)) {
    Py_ssize_t size;
    const char* s = PyUnicode_AsUTF8AndSize(x, &size);
    if (s == nullptr) return -1;
    found = v.Contains(std::string_view(s, static_cast<size_t>(size)));
  } else if (IsSignedIntKind(type->kind) && PyLong_CheckExact(x)) {
    int overflow;
    long long i = PyLong_AsLongLongAndOverflow(x, &overflow);
    if (overflow != 0) return 0;
    if (i == -1 && PyErr_Occurred()) return -1;
    found = v.Contains(static_cast<int64_t>(i));
  } else {
    Value key;
    int r = LookupKey(v, x, &key);
    if (r <= 0) return r;
    found = v.Contains(key);
  }
  if (!found.ok()) {
    SetStatusError(found.status());
    return -1;
  }
  return *found ? 1 : 0;
}

// --- dict ---

// The entry's value for `key`: 1 with *out set, 0 when absent, -1 on error.
int DictFind(ContainerObject* c, PyObject* key, View* out) {
  const View& v = c->view;
  const Type* type = ElementType(v);
  if (type == nullptr) return 0;
  Result<std::optional<View>> hit = std::optional<View>();
  if (type->kind == TypeKind::kStr && PyUnicode_Check(key)) {
    Py_ssize_t size;
    const char* s = PyUnicode_AsUTF8AndSize(key, &size);
    if (s == nullptr) return -1;
    hit = v.Find(std::string_view(s, static_cast<size_t>(size)));
  } else if (IsSignedIntKind(type->kind) && PyLong_CheckExact(key)) {
    int overflow;
    long long i = PyLong_AsLongLongAndOverflow(key, &overflow);
    if (overflow != 0) return 0;
    if (i == -1 && PyErr_Occurred()) return -1;
    hit = v.Find(static_cast<int64_t>(i));
  } else {
    Value k;
    int r = LookupKey(v, key, &k);
    if (r <= 0) return r;
    hit = v.Find(k);
  }
  if (!hit.ok()) {
    SetStatusError(hit.status());
    return -1;
  }
  if (!hit->has_value()) return 0;
  *out = **hit;
  return 1;
}

PyObject* DictSubscript(PyObject* self, PyObject* key) {
  View found;
  int r = DictFind(AsContainer(self), key, &found);
  if (r < 0) return nullptr;
  if (r == 0) {
    PyErr_SetObject(PyExc_KeyError, key);
    return nullptr;
  }
  return ViewToPy(found, AsContainer(self)->owner);
}

int DictContains(PyObject* self, PyObject* key) {
  View found;
  return DictFind(AsContainer(self), key, &found);
}

PyObject* DictGet(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs < 1 || nargs > 2) {
    PyErr_SetString(PyExc_TypeError, "get() takes a key and an optional default");
    return nullptr;
  }
  View found;
  int r = DictFind(AsContainer(self), args[0], &found);
  if (r < 0) return nullptr;
  if (r == 0) {
    PyObject* dflt = nargs == 2 ? args[1] : Py_None;
    Py_INCREF(dflt);
    return dflt;
  }
  return ViewToPy(found, AsContainer(self)->owner);
}

PyObject* DictList(PyObject* self, IterMode mode) {
  PyObject* it = NewIter(AsContainer(self), mode);
  if (it == nullptr) return nullptr;
  PyObject* list = PySequence_List(it);
  Py_DECREF(it);
  return list;
}
PyObject* DictKeys(PyObject* self, PyObject*) { return DictList(self, IterMode::kKeys); }
PyObject* DictValues(PyObject* self, PyObject*) { return DictList(self, IterMode::kValues); }
PyObject* DictItems(PyObject* self, PyObject*) { return DictList(self, IterMode::kItems); }

// --- iterator ---

void IterDealloc(PyObject* self) {
  Py_DECREF(reinterpret_cast<IterObject*>(self)->owner);
  PyObject_Free(self);
}

PyObject* IterNext(PyObject* self) {
  IterObject* it = reinterpret_cast<IterObject*>(self);
  if (it->next >= it->view.size()) return nullptr;
  size_t i = it->next++;
  const View& v = it->view;
  auto key = [&]() -> PyObject* {
    Result<View> k = v.KeyAt(i);
    if (!k.ok()) return SetStatusError(k.status());
    return ViewToPlain(*k, it->owner, true);
  };
  auto value = [&]() -> PyObject* {
    Result<View> e = v.ValueAt(i);
    if (!e.ok()) return SetStatusError(e.status());
    return ViewToPy(*e, it->owner);
  };
  switch (it->mode) {
    case IterMode::kElements:
    case IterMode::kPlainElements: {
      Result<View> e = v.At(i);
      if (!e.ok()) return SetStatusError(e.status());
      return it->mode == IterMode::kPlainElements ? ViewToPlain(*e, it->owner, true)
                                                  : ViewToPy(*e, it->owner);
    }
    case IterMode::kKeys: return key();
    case IterMode::kValues: return value();
    case IterMode::kItems: {
      PyObject* k = key();
      if (k == nullptr) return nullptr;
      PyObject* val = value();
      if (val == nullptr) {
        Py_DECREF(k);
        return nullptr;
      }
      PyObject* pair = PyTuple_Pack(2, k, val);
      Py_DECREF(k);
      Py_DECREF(val);
      return pair;
    }
  }
  return nullptr;
}

PyMethodDef kSequenceMethods[] = {
    {"to_python", ContainerToPython, METH_NOARGS, "A plain list or tuple, deeply."},
    {"to_json", ContainerToJson, METH_NOARGS, "The value as JSON text."},
    {nullptr, nullptr, 0, nullptr}};
PyMethodDef kSetMethods[] = {
    {"to_python", ContainerToPython, METH_NOARGS, "A plain frozenset, deeply."},
    {"to_json", ContainerToJson, METH_NOARGS, "The value as JSON text."},
    {nullptr, nullptr, 0, nullptr}};
PyMethodDef kDictMethods[] = {
    {"get", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(DictGet)), METH_FASTCALL,
     "The value of a key, or the default (None)."},
    {"keys", DictKeys, METH_NOARGS, "The keys, in the format's key order."},
    {"values", DictValues, METH_NOARGS, "The values, in key order."},
    {"items", DictItems, METH_NOARGS, "(key, value) pairs, in key order."},
    {"to_python", ContainerToPython, METH_NOARGS, "A plain dict, deeply."},
    {"to_json", ContainerToJson, METH_NOARGS, "The value as JSON text."},
    {nullptr, nullptr, 0, nullptr}};

PySequenceMethods kSequenceSeq = {};
PyMappingMethods kSequenceMap = {};
PySequenceMethods kSetSeq = {};
PySequenceMethods kDictSeq = {};
PyMappingMethods kDictMap = {};

int ReadyContainer(PyObject* module, PyTypeObject* t, const char* name, const char* attr,
                   const char* doc, PyMethodDef* methods) {
  t->tp_name = name;
  t->tp_doc = doc;
  t->tp_basicsize = sizeof(ContainerObject);
  t->tp_dealloc = ContainerDealloc;
  t->tp_flags = Py_TPFLAGS_DEFAULT;
  t->tp_iter = ContainerIter;
  t->tp_repr = ContainerRepr;
  t->tp_richcompare = ContainerRichCompare;
  t->tp_hash = PyObject_HashNotImplemented;
  t->tp_methods = methods;
  if (PyType_Ready(t) < 0) return -1;
  Py_INCREF(t);
  if (PyModule_AddObject(module, attr, reinterpret_cast<PyObject*>(t)) < 0) {
    Py_DECREF(t);
    return -1;
  }
  return 0;
}

}  // namespace

PyObject* NewSequenceView(OwnerObject* owner, const View& v) {
  return NewContainer(&SequenceType, owner, v);
}
PyObject* NewSetView(OwnerObject* owner, const View& v) { return NewContainer(&SetType, owner, v); }
PyObject* NewDictView(OwnerObject* owner, const View& v) {
  return NewContainer(&DictType, owner, v);
}

int ViewEquals(const View& v, OwnerObject* owner, PyObject* other) {
  PyObject* mine = ViewToPlain(v, owner);
  if (mine == nullptr) return -1;
  PyObject* theirs = nullptr;
  View ov;
  if (IsContainer(other)) {
    theirs = ViewToPlain(AsContainer(other)->view, AsContainer(other)->owner);
  } else if (RecordViewFromPy(other, &ov)) {
    theirs = ViewToPlain(ov, reinterpret_cast<RecordObject*>(other)->owner);
  } else {
    Py_INCREF(other);
    theirs = other;
  }
  if (theirs == nullptr) {
    Py_DECREF(mine);
    return -1;
  }
  // A list or tuple view equals a list or a tuple with the same elements.
  if ((PyTuple_Check(mine) || PyList_Check(mine)) && (PyTuple_Check(theirs) || PyList_Check(theirs))) {
    PyObject* a = PySequence_List(mine);
    PyObject* b = PySequence_List(theirs);
    Py_DECREF(mine);
    Py_DECREF(theirs);
    mine = a;
    theirs = b;
    if (a == nullptr || b == nullptr) {
      Py_XDECREF(a);
      Py_XDECREF(b);
      return -1;
    }
  }
  int eq = PlainEquals(mine, theirs);
  Py_DECREF(mine);
  Py_DECREF(theirs);
  return eq;
}

int ReadyContainerTypes(PyObject* module) {
  kSequenceSeq.sq_length = ContainerLength;
  kSequenceSeq.sq_item = SequenceItem;
  kSequenceSeq.sq_contains = SequenceContains;
  kSequenceMap.mp_length = ContainerLength;
  kSequenceMap.mp_subscript = SequenceSubscript;
  SequenceType.tp_as_sequence = &kSequenceSeq;
  SequenceType.tp_as_mapping = &kSequenceMap;
  if (ReadyContainer(module, &SequenceType, "mapfs.SequenceView", "SequenceView",
                     "A lazy view of a list or tuple value.", kSequenceMethods) < 0) {
    return -1;
  }
  kSetSeq.sq_length = ContainerLength;
  kSetSeq.sq_contains = SetContains;
  SetType.tp_as_sequence = &kSetSeq;
  if (ReadyContainer(module, &SetType, "mapfs.SetView", "SetView",
                     "A lazy view of a frozenset value; `in` is O(log n).", kSetMethods) < 0) {
    return -1;
  }
  kDictSeq.sq_contains = DictContains;
  kDictMap.mp_length = ContainerLength;
  kDictMap.mp_subscript = DictSubscript;
  DictType.tp_as_sequence = &kDictSeq;
  DictType.tp_as_mapping = &kDictMap;
  if (ReadyContainer(module, &DictType, "mapfs.DictView", "DictView",
                     "A lazy view of a dict value; lookups are O(log n).", kDictMethods) < 0) {
    return -1;
  }
  IterType.tp_name = "mapfs._ViewIterator";
  IterType.tp_basicsize = sizeof(IterObject);
  IterType.tp_dealloc = IterDealloc;
  IterType.tp_flags = Py_TPFLAGS_DEFAULT;
  IterType.tp_iter = PyObject_SelfIter;
  IterType.tp_iternext = IterNext;
  return PyType_Ready(&IterType);
}

}  // namespace mapfs::python
