// What the read side's files share: the owner object every view holds, the
// record view's layout (its field reads are the hot path) and the converters
// between views and Python values.
#ifndef MAPFS_PYTHON_READ_INTERNAL_H_
#define MAPFS_PYTHON_READ_INTERNAL_H_

#include <Python.h>

#include <memory>
#include <optional>
#include <vector>

#include "mapfs/record.h"
#include "mapfs/segment.h"
#include "mapfs/types.h"

namespace mapfs::python {

// The owner of a segment's bytes and schema (or of a foreign owner's), shared
// by the Segment object and every view made from it. Python's reference count
// decides when the mapping goes: at the last reference, whoever holds it.
struct OwnerObject {
  PyObject_HEAD
  std::optional<Segment>* segment;  // null when wrapping a foreign owner
  Py_buffer buffer;                 // the caller's buffer for FromMemory
  bool has_buffer;
  PyObject* foreign;                // an owner made elsewhere (mapfs.view), or null
  const Schema* schema;
  // Per struct index: a dict from field name (str) to its index (int), and a
  // tuple of the field names; made on first use.
  std::vector<PyObject*>* field_dicts;
  std::vector<PyObject*>* field_names;
};
extern PyTypeObject OwnerType;

// A new owner for `segment`, keeping `buffer` (already acquired, or null)
// until the owner dies. Steals the buffer.
OwnerObject* NewSegmentOwner(Segment segment, Py_buffer* buffer);
// `owner` itself when it is an OwnerObject, else a new OwnerObject that keeps
// `owner` alive and reads `schema` (a new reference either way).
OwnerObject* AsOwner(PyObject* owner, const Schema& schema);
// The field-name dict and names tuple of a struct (borrowed; null + exception
// on failure).
PyObject* FieldDict(OwnerObject* owner, int struct_index);
PyObject* FieldNames(OwnerObject* owner, int struct_index);

// A record (struct) view: the owner and the View.
struct RecordObject {
  PyObject_HEAD
  OwnerObject* owner;
  View view;
};
extern PyTypeObject RecordType;

// A new record view (struct kind).
PyObject* NewRecord(OwnerObject* owner, const View& v);
// The Python value of `v`: scalars, views for containers, None for null.
PyObject* ViewToPy(const View& v, OwnerObject* owner);
// Plain Python values, deeply. `hashable` makes lists tuples (dict keys).
PyObject* ViewToPlain(const View& v, OwnerObject* owner, bool hashable = false);
// The JSON text of a value (mapfs get's rendering) as a str.
PyObject* ViewToJson(const View& v);

// Container views (read_containers.cc).
PyObject* NewSequenceView(OwnerObject* owner, const View& v);
PyObject* NewSetView(OwnerObject* owner, const View& v);
PyObject* NewDictView(OwnerObject* owner, const View& v);
// Registers the container view types on the module (read_containers.cc) and
// the record type (read_record.cc); 0 on success, -1 with an exception.
int ReadyContainerTypes(PyObject* module);
int ReadyRecordTypes(PyObject* module);
// Initializes the datetime, decimal and numpy APIs used by conversions.
int InitConversions();

// Deep equality of plain values where numpy arrays compare by their
// elements (1 equal, 0 not, -1 on error).
int PlainEquals(PyObject* a, PyObject* b);
// Python-level equality of a view with any object, by value (-1 on error).
int ViewEquals(const View& v, OwnerObject* owner, PyObject* other);

}  // namespace mapfs::python

#endif  // MAPFS_PYTHON_READ_INTERNAL_H_
