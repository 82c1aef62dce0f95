// mapfs.build, mapfs.pack, mapfs.pack_into and mapfs.view
// (docs/python.md, "Building").
//
// mapfs.build streams: records are converted to Values in batches with the
// GIL held (they are Python objects), then each batch is packed into the
// SegmentBuilder with the GIL released, as are sorting, merging and writing
// in Finish(). Memory is the builder's bounded budget plus one batch.
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "build_convert.h"
#include "mapfs/record.h"
#include "mapfs/segment_builder.h"
#include "module_internal.h"

namespace mapfs::python {
namespace {

namespace py = pybind11;

// A batch is handed to the builder when it holds this many records or this
// many bytes of strings, bytes, array data and container elements,
// whichever comes first.
constexpr size_t kBatchRecords = 1024;
constexpr size_t kBatchBytes = size_t{16} << 20;

std::string PathText(py::handle obj) {
  PyObject* fs = PyOS_FSPath(obj.ptr());
  if (fs == nullptr) throw py::error_already_set();
  py::object owned = py::reinterpret_steal<py::object>(fs);
  if (PyBytes_Check(fs)) return std::string(PyBytes_AS_STRING(fs), PyBytes_GET_SIZE(fs));
  Py_ssize_t n = 0;
  const char* s = PyUnicode_AsUTF8AndSize(fs, &n);
  if (s == nullptr) throw py::error_already_set();
  return std::string(s, static_cast<size_t>(n));
}

int StructIndex(const Schema& schema, const std::string& type) {
  std::optional<int> index = schema.FindStruct(type);
  if (!index) {
    std::string names;
    for (const StructDef& d : schema.structs()) names += (names.empty() ? "" : ", ") + d.name;
    throw py::value_error("no struct '" + type + "' in the schema (it has " + names + ")");
  }
  return *index;
}

std::string RecordContext(uint64_t id) { return "record " + std::to_string(id); }

// Converts records and feeds them to a SegmentBuilder in batches.
class Feeder {
 public:
  Feeder(const Schema& schema, int type, SegmentBuilder* builder)
      : conv_(schema), type_(type), builder_(builder) {
    batch_.reserve(kBatchRecords);
  }

  // Adds one record (GIL held). False with a Python error set.
  bool Add(PyObject* record) {
    // Slots stay allocated from batch to batch: the converter refills a
    // record Value in place, keeping its buffers.
    if (used_ == batch_.size()) batch_.emplace_back();
    if (!conv_.Record(record, type_, &batch_[used_], RecordContext(next_id_ + used_))) {
      return false;
    }
    ++used_;
    if (used_ >= kBatchRecords || conv_.bytes_converted() >= kBatchBytes) return Flush();
    return true;
  }

  // Hands the batch to the builder with the GIL released. False with a Python
  // error set (the record's position put before the builder's message).
  bool Flush() {
    Status st;
    size_t done = 0;
    const bool large = conv_.bytes_converted() >= kBatchBytes / 2;
    {
      py::gil_scoped_release release;
      for (; done < used_; ++done) {
        st = builder_->Add(batch_[done]);
        if (!st.ok()) break;
      }
      // Large values are not kept for reuse: memory stays bounded by one batch.
      if (large) {
        batch_.clear();
        batch_.shrink_to_fit();
      }
    }
    used_ = 0;
    conv_.reset_bytes_converted();
    if (!st.ok()) {
      SetStatusError(st.WithContext(RecordContext(next_id_ + done)));
      return false;
    }
    next_id_ += done;
    // Ctrl-C is seen even when no Python code runs between records.
    return PyErr_CheckSignals() == 0;
  }

 private:
  ValueConverter conv_;
  int type_;
  SegmentBuilder* builder_;
  std::vector<Value> batch_;
  size_t used_ = 0;  // records of batch_ filled since the last Flush
  uint64_t next_id_ = 0;
};

py::object Build(py::handle output, py::handle records, py::handle schema_obj,
                 const std::string& type, py::handle key_obj, bool multi, bool approx,
                 long long memory_mb) {
  std::optional<std::string> key;
  if (!key_obj.is_none()) {
    if (!PyUnicode_Check(key_obj.ptr())) throw py::type_error("key must be a field name (str) or None");
    key = key_obj.cast<std::string>();
  }
  std::shared_ptr<const Schema> schema = SchemaFromPy(schema_obj);
  const int root = StructIndex(*schema, type);
  const StructDef& def = schema->struct_def(root);
  if (memory_mb <= 0 || memory_mb > (int64_t{1} << 30)) {
    throw py::value_error("memory_mb must be a positive number of MiB, got " +
                          std::to_string(memory_mb));
  }
  SegmentOptions so;
  so.memory_budget = static_cast<size_t>(memory_mb) << 20;
  so.record_name = RecordContext;
  if (key) {
    std::optional<int> field = def.FindField(*key);
    if (!field) throw py::value_error("struct '" + type + "' has no field '" + *key + "'");
    const Type& kt = def.fields[*field].type;
    if (approx && kt.kind != TypeKind::kStr) {
      throw py::value_error("approx=True needs a str key; field '" + *key + "' is " +
                            schema->TypeName(kt));
    }
    so.key_field = *field;
    so.kind = approx  ? CollectionKind::kApproxMultiMap
              : multi ? CollectionKind::kMultiMap
                      : CollectionKind::kMapping;
  } else if (multi || approx) {
    throw py::value_error("multi=True and approx=True need a key");
  }
  const std::string path = PathText(output);

  PyObject* it = PyObject_GetIter(records.ptr());
  if (it == nullptr) throw py::error_already_set();
  py::object iter = py::reinterpret_steal<py::object>(it);

  Result<std::unique_ptr<SegmentBuilder>> created = SegmentBuilder::Create(path, *schema, root, so);
  if (!created.ok()) ThrowStatus(created.status());
  // Destroying an unfinished builder removes its temporary file, so every
  // error path below (including an exception from the iterator) leaves no output.
  std::unique_ptr<SegmentBuilder> builder = std::move(created).value();
  Feeder feeder(*schema, root, builder.get());
  while (PyObject* rec = PyIter_Next(it)) {
    bool ok = feeder.Add(rec);
    Py_DECREF(rec);
    if (!ok) throw py::error_already_set();
  }
  if (PyErr_Occurred()) throw py::error_already_set();
  if (!feeder.Flush()) throw py::error_already_set();
  Status st;
  uint64_t count = builder->record_count();
  {
    py::gil_scoped_release release;
    st = builder->Finish();
  }
  if (!st.ok()) ThrowStatus(st);
  return py::int_(count);
}

// The packed bytes of one record, or a Python error.
std::string PackRecord(const Schema& schema, int root, py::handle obj) {
  ValueConverter conv(schema);
  Value v;
  if (!conv.Record(obj.ptr(), root, &v, "")) throw py::error_already_set();
  RecordPacker packer(schema);
  Result<std::string_view> bytes = packer.Pack(root, v);
  if (!bytes.ok()) ThrowStatus(bytes.status());
  return std::string(*bytes);
}

// Keeps a caller's buffer and the schema alive for the views made on it by
// mapfs.view.
struct BufferOwner {
  std::shared_ptr<const Schema> schema;
  std::unique_ptr<Py_buffer, void (*)(Py_buffer*)> buffer{nullptr, [](Py_buffer* b) {
                                                            PyBuffer_Release(b);
                                                            delete b;
                                                          }};
};

}  // namespace

void RegisterRoute(py::module_& m);  // route.cc: mapfs.dask's routing and manifest

void RegisterBuild(py::module_& m) {
  RegisterRoute(m);
  py::class_<BufferOwner>(m, "_BufferOwner",
                          "Holds the buffer and schema of the views made by mapfs.view.");

  m.def("build", &Build, py::arg("output"), py::arg("records"), py::kw_only(), py::arg("schema"),
        py::arg("type"), py::arg("key") = py::none(), py::arg("multi") = false,
        py::arg("approx") = false, py::arg("memory_mb") = 256,
        R"(Builds the segment file `output` from an iterable of records.

Records are dicts (field -> value), objects with the fields as attributes, or
record views; missing and None fields are absent. `schema` is a mapfs.Schema or
the path of a schema YAML; `type` names the records' struct. Without `key` the
segment is an array in input order; with `key` a mapping (unique keys), with
multi=True a multimap, with approx=True (str keys) an approximate multimap.
`memory_mb` bounds the index memory before it spills to disk. The output
appears only when complete; on any error none is left. Returns the number of
records written.)");

  m.def(
      "pack",
      [](py::handle schema_obj, const std::string& type, py::handle obj) {
        std::shared_ptr<const Schema> schema = SchemaFromPy(schema_obj);
        std::string bytes = PackRecord(*schema, StructIndex(*schema, type), obj);
        return py::bytes(bytes);
      },
      py::arg("schema"), py::arg("type"), py::arg("obj"),
      "The packed bytes of one record (docs/format.md, \"Records\").");

  m.def(
      "pack_into",
      [](py::handle schema_obj, const std::string& type, py::handle obj, py::handle buffer,
         long long offset) {
        std::shared_ptr<const Schema> schema = SchemaFromPy(schema_obj);
        std::string bytes = PackRecord(*schema, StructIndex(*schema, type), obj);
        Py_buffer view;
        if (PyObject_GetBuffer(buffer.ptr(), &view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) != 0) {
          throw py::error_already_set();
        }
        size_t size = static_cast<size_t>(view.len);
        bool fits = offset >= 0 && static_cast<unsigned long long>(offset) <= size &&
                    bytes.size() <= size - static_cast<size_t>(offset);
        if (fits) std::memcpy(static_cast<char*>(view.buf) + offset, bytes.data(), bytes.size());
        PyBuffer_Release(&view);
        if (!fits) {
          throw py::index_error("record needs " + std::to_string(bytes.size()) +
                                " bytes at offset " + std::to_string(offset) + ", buffer has " +
                                std::to_string(size));
        }
        return offset + static_cast<long long>(bytes.size());
      },
      py::arg("schema"), py::arg("type"), py::arg("obj"), py::arg("buffer"),
      py::arg("offset") = 0,
      "Packs one record into a writable buffer at `offset`; returns the end offset. "
      "IndexError (buffer untouched) if it does not fit.");

  m.def(
      "view",
      [](py::handle schema_obj, const std::string& type, py::handle buffer, long long offset) {
        std::shared_ptr<const Schema> schema = SchemaFromPy(schema_obj);
        const int root = StructIndex(*schema, type);
        auto owner = std::make_unique<BufferOwner>();
        owner->schema = schema;
        auto* b = new Py_buffer;
        if (PyObject_GetBuffer(buffer.ptr(), b, PyBUF_C_CONTIGUOUS) != 0) {
          delete b;
          throw py::error_already_set();
        }
        owner->buffer.reset(b);
        if (offset < 0) throw py::index_error("offset " + std::to_string(offset) + " is negative");
        std::string_view data(static_cast<const char*>(b->buf), static_cast<size_t>(b->len));
        Result<View> v = ViewRecordAt(*schema, root, data, static_cast<size_t>(offset));
        if (!v.ok()) ThrowStatus(v.status());
        py::object holder = py::cast(std::move(owner));
        PyObject* rec = ValueToPy(*v, holder.ptr());
        if (rec == nullptr) throw py::error_already_set();
        return py::reinterpret_steal<py::object>(rec);
      },
      py::arg("schema"), py::arg("type"), py::arg("buffer"), py::arg("offset") = 0,
      "A record view of the record packed at `buffer[offset]`; the view keeps the buffer "
      "alive.");
}

}  // namespace mapfs::python
