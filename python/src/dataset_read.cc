// The lookup half of mapfs.Dataset (python/mapfs/dataset.py, docs/python.md):
// a base type whose mapping slot routes a key to its shard by the dataset
// routing rule (docs/format.md, "Routing") and answers with that shard's own
// lookup, or takes a dataset-wide record index to its shard's range. So
// `ds[key]` costs one hash more than `seg[key]`, with no Python frame and no
// binding layer in between. Slices and everything else stay in Python.
#include <Python.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "build_convert.h"
#include "mapfs/dataset.h"
#include "mapfs/key_codec.h"
#include "mapfs/record.h"
#include "module_internal.h"

namespace py = pybind11;

namespace mapfs::python {

const Type& KeyType(const Schema& schema, const std::string& type, const std::string& key) {
  auto root = schema.FindStruct(type);
  if (!root) throw py::value_error("no struct '" + type + "' in the schema");
  auto field = schema.struct_def(*root).FindField(key);
  if (!field) throw py::value_error("struct '" + type + "' has no field '" + key + "'");
  return schema.struct_def(*root).fields[*field].type;
}

namespace {

// The shard of a lookup key, the key taken as the shards' lookups take it (a
// str for str keys, an int for uint keys, a value of the key field's type
// for generic ones); -1 for a key that cannot be one, with no Python error
// set unless one is pending from elsewhere.
class Router {
 public:
  Router(py::handle schema_obj, const std::string& type, const std::string& key, uint64_t n)
      : schema_(SchemaFromPy(schema_obj)),
        type_(&KeyType(*schema_, type, key)),
        kind_(KeyKindOf(*type_)),
        conv_(*schema_),
        packer_(*schema_),
        n_(n) {
    if (n == 0) throw py::value_error("shard count must be positive");
  }

  int64_t Route(PyObject* k) {
    if (kind_ == KeyKind::kStr) {
      if (!PyUnicode_Check(k)) return -1;
      Py_ssize_t size = 0;
      const char* utf8 = PyUnicode_AsUTF8AndSize(k, &size);
      if (utf8 == nullptr) {
        PyErr_Clear();  // a str with lone surrogates: no key has it
        return -1;
      }
      return static_cast<int64_t>(RouteKey(std::string_view(utf8, size), n_));
    }
    Value v;
    if (!conv_.Convert(k, *type_, &v, "")) {
      PyErr_Clear();
      return -1;
    }
    Result<std::string_view> raw = RawKeyOf(v, *type_, kind_, &packer_, &scratch_);
    if (!raw.ok()) return -1;
    return static_cast<int64_t>(RouteKey(*raw, n_));
  }

 private:
  std::shared_ptr<const Schema> schema_;
  const Type* type_;
  KeyKind kind_;
  ValueConverter conv_;
  RecordPacker packer_;
  std::string scratch_;
  uint64_t n_;
};

struct ShardedObject {
  PyObject_HEAD
  PyObject* shards;              // tuple of Segments; nullptr before __init__ and once closed
  Router* router;                // keyed kinds; nullptr for arrays
  std::vector<uint64_t>* first;  // arrays: each shard's first record index
  uint64_t record_count;
};

PyTypeObject ShardedType = {PyVarObject_HEAD_INIT(nullptr, 0)};

ShardedObject* AsSharded(PyObject* self) { return reinterpret_cast<ShardedObject*>(self); }

bool CheckOpen(ShardedObject* s) {
  if (s->shards != nullptr) return true;
  PyErr_SetString(PyExc_ValueError, "I/O operation on a closed dataset");
  return false;
}

// _ShardedBase.__init__(shards, schema, type, key, first_records, record_count):
// key None for an array, whose records route by first_records.
int ShardedInit(PyObject* self, PyObject* args, PyObject* kwargs) {
  static const char* kNames[] = {"shards", "schema", "type", "key", "first_records",
                                 "record_count", nullptr};
  PyObject *shards, *schema, *type, *key, *first;
  unsigned long long record_count = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!OOOOK", const_cast<char**>(kNames),
                                   &PyTuple_Type, &shards, &schema, &type, &key, &first,
                                   &record_count)) {
    return -1;
  }
  ShardedObject* s = AsSharded(self);
  const Py_ssize_t n = PyTuple_GET_SIZE(shards);
  if (n == 0) {
    PyErr_SetString(PyExc_ValueError, "a dataset has at least one shard");
    return -1;
  }
  try {
    std::unique_ptr<Router> router;
    if (key != Py_None) {
      router = std::make_unique<Router>(schema, py::cast<std::string>(type),
                                        py::cast<std::string>(key), static_cast<uint64_t>(n));
    }
    auto firsts = std::make_unique<std::vector<uint64_t>>(py::cast<std::vector<uint64_t>>(first));
    if (firsts->size() != static_cast<size_t>(n) ||
        !std::is_sorted(firsts->begin(), firsts->end())) {
      PyErr_SetString(PyExc_ValueError, "first_records must give one sorted index per shard");
      return -1;
    }
    delete s->router;
    delete s->first;
    s->router = router.release();
    s->first = firsts.release();
  } catch (py::error_already_set& e) {
    e.restore();
    return -1;
  } catch (py::builtin_exception& e) {
    e.set_error();
    return -1;
  }
  Py_INCREF(shards);
  Py_XSETREF(s->shards, shards);
  s->record_count = record_count;
  return 0;
}

// The array kinds: a dataset-wide record index to its shard's record.
PyObject* RecordAt(ShardedObject* s, PyObject* key) {
  const Py_ssize_t raw = PyNumber_AsSsize_t(key, PyExc_IndexError);
  if (raw == -1 && PyErr_Occurred()) return nullptr;
  const int64_t count = static_cast<int64_t>(s->record_count);
  const int64_t i = raw < 0 ? raw + count : raw;
  if (i < 0 || i >= count) {
    return PyErr_Format(PyExc_IndexError, "record index out of range (the dataset has %lld "
                        "records)", static_cast<long long>(count));
  }
  const std::vector<uint64_t>& first = *s->first;
  const size_t shard =
      static_cast<size_t>(std::upper_bound(first.begin(), first.end(), static_cast<uint64_t>(i)) -
                          first.begin()) - 1;
  PyObject* local = PyLong_FromUnsignedLongLong(static_cast<uint64_t>(i) - first[shard]);
  if (local == nullptr) return nullptr;
  PyObject* rec = PyObject_GetItem(PyTuple_GET_ITEM(s->shards, shard), local);
  Py_DECREF(local);
  return rec;
}

PyObject* ShardedSubscript(PyObject* self, PyObject* key) {
  ShardedObject* s = AsSharded(self);
  if (!CheckOpen(s)) return nullptr;
  if (s->router != nullptr) {
    const int64_t shard = s->router->Route(key);
    if (shard < 0) {
      if (!PyErr_Occurred()) PyErr_SetObject(PyExc_KeyError, key);
      return nullptr;
    }
    return PyObject_GetItem(PyTuple_GET_ITEM(s->shards, shard), key);
  }
  if (PyIndex_Check(key)) return RecordAt(s, key);
  // Slices and anything else: the Python class's _getitem_slow.
  return PyObject_CallMethod(self, "_getitem_slow", "O", key);
}

// _shard(key): the shard index a lookup key routes to, or -1 if it cannot
// be a key of the dataset.
PyObject* ShardedShard(PyObject* self, PyObject* key) {
  ShardedObject* s = AsSharded(self);
  if (!CheckOpen(s)) return nullptr;
  if (s->router == nullptr) {
    PyErr_SetString(PyExc_TypeError, "an array has no keys: index it by record number");
    return nullptr;
  }
  const int64_t shard = s->router->Route(key);
  if (shard < 0 && PyErr_Occurred()) return nullptr;
  return PyLong_FromLongLong(shard);
}

// _close_lookups(): every later lookup raises ValueError (the shards
// themselves are closed by the Python class).
PyObject* ShardedCloseLookups(PyObject* self, PyObject*) {
  Py_CLEAR(AsSharded(self)->shards);
  Py_RETURN_NONE;
}

int ShardedTraverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(AsSharded(self)->shards);
  return 0;
}

int ShardedClear(PyObject* self) {
  Py_CLEAR(AsSharded(self)->shards);
  return 0;
}

void ShardedDealloc(PyObject* self) {
  PyObject_GC_UnTrack(self);
  ShardedClear(self);
  ShardedObject* s = AsSharded(self);
  delete s->router;
  delete s->first;
  Py_TYPE(self)->tp_free(self);
}

PyMethodDef kShardedMethods[] = {
    {"_shard", ShardedShard, METH_O,
     "The shard a lookup key routes to, or -1 if it cannot be a key of the dataset."},
    {"_close_lookups", ShardedCloseLookups, METH_NOARGS,
     "Makes every later lookup raise ValueError."},
    {nullptr, nullptr, 0, nullptr}};

PyMappingMethods kShardedMapping = {};

}  // namespace

void RegisterDatasetRead(pybind11::module_& m) {
  kShardedMapping.mp_subscript = ShardedSubscript;
  ShardedType.tp_name = "mapfs._mapfs._ShardedBase";
  ShardedType.tp_doc = "The C lookup path of mapfs.Dataset.";
  ShardedType.tp_basicsize = sizeof(ShardedObject);
  ShardedType.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC;
  ShardedType.tp_new = PyType_GenericNew;
  ShardedType.tp_init = ShardedInit;
  ShardedType.tp_dealloc = ShardedDealloc;
  ShardedType.tp_traverse = ShardedTraverse;
  ShardedType.tp_clear = ShardedClear;
  ShardedType.tp_as_mapping = &kShardedMapping;
  ShardedType.tp_methods = kShardedMethods;
  if (PyType_Ready(&ShardedType) < 0) throw py::error_already_set();
  Py_INCREF(&ShardedType);
  if (PyModule_AddObject(m.ptr(), "_ShardedBase", reinterpret_cast<PyObject*>(&ShardedType)) <
      0) {
    Py_DECREF(&ShardedType);
    throw py::error_already_set();
  }
}

}  // namespace mapfs::python
