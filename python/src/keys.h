// Segment keys from and to Python (docs/python.md, "Reading"): the one place
// that turns a Python key into the index's raw key bytes, filters the
// candidates of an approximate multimap, and turns stored keys back into
// Python values.
#ifndef MAPFS_PYTHON_KEYS_H_
#define MAPFS_PYTHON_KEYS_H_

#include <Python.h>

#include <string>
#include <string_view>
#include <vector>

#include "mapfs/segment.h"
#include "module_internal.h"
#include "read_internal.h"

namespace mapfs::python {

// The records of `key` in `seg` (a mapping, multimap or approximate
// multimap), in input order; with `first_only`, at most one. An
// approximate multimap's hash collisions are filtered out. A key of the
// wrong Python type simply has no records. Returns 0 and fills *records, or
// -1 with a Python exception (a corrupt index).
int FindRecords(const Segment& seg, PyObject* key, bool first_only,
                std::vector<std::string_view>* records);

// The mapping hot path: 1 with *record set, 0 when absent, -1 on error.
inline int FindRecord(const Segment& seg, PyObject* key, std::string_view* record) {
  if (seg.key_kind() == KeyKind::kStr && PyUnicode_CheckExact(key)) {
    Py_ssize_t size;
    const char* s = PyUnicode_AsUTF8AndSize(key, &size);
    if (s == nullptr) {
      PyErr_Clear();  // lone surrogates: no stored key can equal it
      return 0;
    }
    Result<std::optional<Segment::Entry>> hit =
        seg.Find(std::string_view(s, static_cast<size_t>(size)));
    if (!hit.ok()) {
      SetStatusError(hit.status());
      return -1;
    }
    if (!*hit) return 0;
    *record = (*hit)->record;
    return 1;
  }
  std::vector<std::string_view> records;
  if (FindRecords(seg, key, true, &records) < 0) return -1;
  if (records.empty()) return 0;
  *record = records[0];
  return 1;
}

// A stored key (Segment::Entry::key) as a Python value: str, int, or the
// plain value of a generic key.
PyObject* KeyToPy(const Segment& seg, std::string_view key, OwnerObject* owner);

}  // namespace mapfs::python

#endif  // MAPFS_PYTHON_KEYS_H_
