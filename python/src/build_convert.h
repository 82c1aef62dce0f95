// Python objects -> mapfs Values, typed by a schema: what mapfs.build,
// mapfs.pack and mapfs.pack_into feed to the record packer
// (docs/python.md, "Building").
//
// The conversion takes values as the reading side returns them (int, float,
// bool, str, bytes-likes, date, datetime, Decimal, sequences, sets, dicts,
// numpy arrays, dicts/objects/record views for structs) and makes exactly the
// Value the JSONL reader makes for the same data, so a build from Python and
// `mapfs build` from JSONL give the same bytes.
//
//   ValueConverter conv(schema);
//   Value v;
//   if (!conv.Record(obj, person_index, &v, "record 17")) return nullptr;  // error set
#ifndef MAPFS_PYTHON_BUILD_CONVERT_H_
#define MAPFS_PYTHON_BUILD_CONVERT_H_

#include <Python.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mapfs/types.h"
#include "mapfs/value.h"

namespace mapfs::python {

// Converts Python objects to Values of one schema. Holds references to the
// interned field names of every struct; needs the GIL for every call. Keeps
// scratch state between calls: one converter per thread.
class ValueConverter {
 public:
  explicit ValueConverter(const Schema& schema);
  ~ValueConverter();
  ValueConverter(const ValueConverter&) = delete;
  ValueConverter& operator=(const ValueConverter&) = delete;

  // A record of struct `struct_index`: a dict (field -> value), a record view,
  // a Mapping, or any object with the fields as attributes. Missing and None
  // fields are absent. On failure returns false with TypeError or ValueError
  // set, its message `<context>: field "home.x": expected float64, got str 'a'`
  // (no "<context>: " when `context` is empty).
  bool Record(PyObject* obj, int struct_index, Value* out, std::string_view context);
  // Any value of type `type`; same errors.
  bool Convert(PyObject* obj, const Type& type, Value* out, std::string_view context);

  // Bytes of str, bytes and ndarray data and of container elements converted
  // so far (an estimate of the memory the Values hold): lets callers bound
  // how much they hold before handing Values on.
  size_t bytes_converted() const { return bytes_converted_; }
  // Takes only the Python types the reading side returns: no ISO text for
  // date, datetime and decimal. For lookups, where "2020-02-29" must not
  // find the key date(2020, 2, 29), as in a dict.
  void set_exact_types(bool exact) { exact_types_ = exact; }
  void reset_bytes_converted() { bytes_converted_ = 0; }

 private:
  // One step of the path named in errors; rendered only when one occurs.
  struct PathElem {
    const std::string* name;  // a field name, or nullptr
    size_t index;             // a list/tuple index when name and key are null
    PyObject* key;            // a dict key (borrowed: alive while converting)
  };
  class PathScope;

  bool ToValue(PyObject* obj, const Type& t, Value* out, int depth);
  bool StructValue(PyObject* obj, int struct_index, Value* out, int depth);
  bool IntValue(PyObject* obj, const Type& t, Value* out);
  bool FloatValue(PyObject* obj, const Type& t, Value* out);
  bool BytesValue(PyObject* obj, const Type& t, Value* out);
  bool DateValue(PyObject* obj, const Type& t, Value* out);
  bool DateTimeValue(PyObject* obj, const Type& t, Value* out);
  bool DecimalValue(PyObject* obj, const Type& t, Value* out);
  bool SequenceValue(PyObject* obj, const Type& t, Value* out, int depth);
  bool SetValue(PyObject* set, const Type& t, Value* out, int depth);
  bool Element(PyObject* e, const Type& et, size_t i, std::vector<Value>* items, int depth);
  bool DictValue(PyObject* obj, const Type& t, Value* out, int depth);
  bool NdArrayValue(PyObject* obj, const Type& t, Value* out, int depth);
  bool ObjectValue(PyObject* obj, Value* out, int depth);
  bool ViewValue(PyObject* obj, bool* handled, Value* out);
  template <typename T>
  bool IsoText(PyObject* obj, const char* what, T* out);  // Date or DateTime

  // Error helpers: set the Python exception and return false.
  bool Fail(PyObject* exc_type, const std::string& msg);
  bool TypeMismatch(const Type& t, PyObject* got);
  std::string Where() const;
  std::string TypeName(const Type& t) const { return schema_.TypeName(t); }

  const Schema& schema_;
  std::string_view context_;
  std::vector<PathElem> path_;
  // Per struct, its field names as interned Python str (new references).
  std::vector<std::vector<PyObject*>> field_names_;
  size_t bytes_converted_ = 0;
  bool exact_types_ = false;
};

// The conversion as one call (for callers that convert a single value):
// `obj` as a Value of `type`, or false with TypeError/ValueError set.
bool ToValue(PyObject* obj, const Type& type, const Schema& schema, Value* out,
             std::string_view context);

// The same for a lookup (a segment key, a set member, a dict key), with
// exact types (ValueConverter::set_exact_types).
bool ToLookupValue(PyObject* obj, const Type& type, const Schema& schema, Value* out);

}  // namespace mapfs::python

#endif  // MAPFS_PYTHON_BUILD_CONVERT_H_
