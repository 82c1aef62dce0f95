// Segment keys from and to Python (keys.h).
#include "keys.h"

#include <cstring>

#include "mapfs/key_codec.h"
#include "mapfs/record.h"
#include "build_convert.h"

namespace mapfs::python {
namespace {

// The key field's declared type (generic keys).
const Type& KeyType(const Segment& seg) {
  return seg.schema().struct_def(seg.root_struct_index()).fields[seg.key_field_index()].type;
}

// The index's raw bytes for `key`: 1 with *bytes set (pointing into `key`'s
// UTF-8 or into *storage), 0 when `key` cannot be a key of `seg`, -1 on error.
int KeyBytes(const Segment& seg, PyObject* key, std::string* storage, std::string_view* bytes) {
  switch (seg.key_kind()) {
    case KeyKind::kStr: {
      if (!PyUnicode_Check(key)) return 0;
      Py_ssize_t size;
      const char* s = PyUnicode_AsUTF8AndSize(key, &size);
      if (s == nullptr) {
        PyErr_Clear();
        return 0;
      }
      *bytes = std::string_view(s, static_cast<size_t>(size));
      return 1;
    }
    case KeyKind::kUInt: {
      if (PyBool_Check(key) || PyFloat_Check(key) || !PyIndex_Check(key)) return 0;
      PyObject* i = PyNumber_Index(key);
      if (i == nullptr) return -1;
      unsigned long long v = PyLong_AsUnsignedLongLong(i);
      Py_DECREF(i);
      if (v == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
        PyErr_Clear();  // negative or too large: no such key
        return 0;
      }
      storage->assign(UIntKeyView(EncodeUIntKey(v)));
      *bytes = *storage;
      return 1;
    }
    case KeyKind::kGeneric: {
      if (seg.key_field_index() < 0) return 0;
      Value value;
      if (!ToLookupValue(key, KeyType(seg), seg.schema(), &value)) {
        if (PyErr_ExceptionMatches(PyExc_TypeError) || PyErr_ExceptionMatches(PyExc_ValueError)) {
          PyErr_Clear();
          return 0;
        }
        return -1;
      }
      KeyCodec codec(seg);
      Result<std::string> raw = codec.FromValue(value);
      if (!raw.ok()) return 0;  // e.g. an int out of the key type's range
      *storage = std::move(*raw);
      *bytes = *storage;
      return 1;
    }
    default:
      return 0;
  }
}

}  // namespace

int FindRecords(const Segment& seg, PyObject* key, bool first_only,
                std::vector<std::string_view>* records) {
  std::string storage;
  std::string_view bytes;
  int r = KeyBytes(seg, key, &storage, &bytes);
  if (r <= 0) return r;
  switch (seg.kind()) {
    case CollectionKind::kMapping: {
      Result<std::optional<Segment::Entry>> hit = seg.Find(bytes);
      if (!hit.ok()) return SetStatusError(hit.status()), -1;
      if (*hit) records->push_back((*hit)->record);
      return 0;
    }
    case CollectionKind::kMultiMap:
    case CollectionKind::kApproxMultiMap: {
      // Core's one filtered lookup: an approximate multimap's hash
      // collisions are dropped by comparing the key field, as `mapfs get` does.
      Result<std::vector<uint64_t>> ids = mapfs::FindRecords(seg, bytes);
      if (!ids.ok()) return SetStatusError(ids.status()), -1;
      for (uint64_t id : *ids) {
        Result<std::string_view> rec = seg.RecordBytes(id);
        if (!rec.ok()) return SetStatusError(rec.status()), -1;
        records->push_back(*rec);
        if (first_only) break;
      }
      return 0;
    }
    default:
      return 0;
  }
}

PyObject* KeyToPy(const Segment& seg, std::string_view key, OwnerObject* owner) {
  switch (seg.key_kind()) {
    case KeyKind::kStr:
      return PyUnicode_DecodeUTF8(key.data(), static_cast<Py_ssize_t>(key.size()), "strict");
    case KeyKind::kUInt: {
      std::optional<uint64_t> v = DecodeUIntKey(key);
      if (!v) {
        return SetStatusError(Status::Corruption(seg.name() + ": a uint key of " +
                                                 std::to_string(key.size()) + " bytes"));
      }
      return PyLong_FromUnsignedLongLong(*v);
    }
    case KeyKind::kGeneric: {
      Result<View> v = seg.KeyView(key);
      if (!v.ok()) return SetStatusError(v.status());
      return ViewToPlain(*v, owner, true);
    }
    default:
      PyErr_SetString(PyExc_TypeError, "this collection has no keys");
      return nullptr;
  }
}

}  // namespace mapfs::python
