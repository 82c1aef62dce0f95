// Routing and manifests for mapfs.dask (docs/format.md, "Datasets"): the
// same RouteKey, raw key bytes and manifest writer as the C++ build, so a
// dataset built from Python reads exactly as one built by `mapfs build`.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "build_convert.h"
#include "mapfs/dataset.h"
#include "mapfs/key_codec.h"
#include "mapfs/record.h"
#include "mapfs/segment_builder.h"
#include "module_internal.h"

namespace py = pybind11;

namespace mapfs::python {
namespace {

void AppendU32(std::string* out, size_t n) {
  const uint32_t v = static_cast<uint32_t>(n);
  out->append(reinterpret_cast<const char*>(&v), 4);
}

// Converts, packs and routes the records of one input partition (as
// mapfs.build converts them): n blobs, blob i holding shard i's records in
// input order, each as u32 key length, raw key, u32 record length, record.
// Arrays go by dataset index: record j of the partition is dataset record
// part_offset + j of `total`. Packed bytes move between processes far more
// cheaply than the dicts they came from.
std::vector<py::bytes> PackRoute(py::handle schema_obj, const std::string& type,
                                 py::object key_obj, py::iterable records, uint64_t n,
                                 uint64_t part_offset, uint64_t total) {
  if (n == 0) throw py::value_error("shard count must be positive");
  std::shared_ptr<const Schema> schema = SchemaFromPy(schema_obj);
  std::optional<int> root = schema->FindStruct(type);
  if (!root) throw py::value_error("no struct '" + type + "' in the schema");
  const Type* key_type = nullptr;
  KeyKind kind = KeyKind::kNone;
  std::string key;
  if (!key_obj.is_none()) {
    key = key_obj.cast<std::string>();
    key_type = &KeyType(*schema, type, key);
    kind = KeyKindOf(*key_type);
  }
  ValueConverter conv(*schema);
  RecordPacker packer(*schema);
  RecordPacker key_packer(*schema);
  std::string scratch;
  std::vector<std::string> out(n);
  uint64_t j = 0;
  size_t shard = 0;
  for (py::handle r : records) {
    const std::string where = "record " + std::to_string(part_offset + j);
    Value v;
    if (!conv.Record(r.ptr(), *root, &v, where)) throw py::error_already_set();
    std::string_view raw;
    if (key_type != nullptr) {
      const Value* k = v.FindField(key);
      if (k == nullptr || k->is_null()) {
        throw py::value_error(where + ": field \"" + key + "\": the key is missing");
      }
      Result<std::string_view> rk = RawKeyOf(*k, *key_type, kind, &key_packer, &scratch);
      if (!rk.ok()) ThrowStatus(rk.status().WithContext(where));
      raw = *rk;
      shard = RouteKey(raw, n);
    } else {
      // Shard i starts at record floor(i * total / n).
      const uint64_t g = part_offset + j;
      while (shard + 1 < n && (shard + 1) * total / n <= g) ++shard;
    }
    Result<std::string_view> rec = packer.Pack(*root, v);
    if (!rec.ok()) ThrowStatus(rec.status().WithContext(where));
    std::string& blob = out[shard];
    AppendU32(&blob, raw.size());
    blob.append(raw);
    AppendU32(&blob, rec->size());
    blob.append(*rec);
    ++j;
  }
  std::vector<py::bytes> result;
  for (const std::string& blob : out) result.emplace_back(blob);
  return result;
}

// Builds one shard from the blobs PackRoute made for it, in order.
uint64_t BuildPacked(const std::string& path, py::handle schema_obj, const std::string& type,
                     py::object key_obj, bool multi, uint64_t memory_mb, py::list blobs) {
  std::shared_ptr<const Schema> schema = SchemaFromPy(schema_obj);
  std::optional<int> root = schema->FindStruct(type);
  if (!root) throw py::value_error("no struct '" + type + "' in the schema");
  SegmentOptions opt;
  opt.memory_budget = static_cast<size_t>(memory_mb) << 20;
  if (!key_obj.is_none()) {
    const std::string key = key_obj.cast<std::string>();
    KeyType(*schema, type, key);  // checks it
    opt.kind = multi ? CollectionKind::kMultiMap : CollectionKind::kMapping;
    opt.key_field = *schema->struct_def(*root).FindField(key);
  }
  std::vector<std::string_view> data;
  for (py::handle b : blobs) {
    char* p = nullptr;
    Py_ssize_t size = 0;
    if (PyBytes_AsStringAndSize(b.ptr(), &p, &size) != 0) throw py::error_already_set();
    data.emplace_back(p, static_cast<size_t>(size));
  }
  Status st;
  uint64_t count = 0;
  {
    py::gil_scoped_release release;  // `blobs` holds the bytes alive
    auto run = [&]() -> Status {
      MAPFS_ASSIGN_OR_RETURN(std::unique_ptr<SegmentBuilder> b,
                             SegmentBuilder::Create(path, *schema, *root, opt));
      for (std::string_view blob : data) {
        while (!blob.empty()) {
          std::string_view parts[2];
          for (std::string_view& part : parts) {
            uint32_t len = 0;
            if (blob.size() < 4) return Status::Corruption(path + ": a truncated packed blob");
            std::memcpy(&len, blob.data(), 4);
            if (blob.size() - 4 < len) return Status::Corruption(path + ": a truncated packed blob");
            part = blob.substr(4, len);
            blob.remove_prefix(4 + size_t{len});
          }
          MAPFS_RETURN_IF_ERROR(b->AddPacked(parts[0], parts[1]));
        }
      }
      MAPFS_RETURN_IF_ERROR(b->Finish());
      count = b->record_count();
      return Status::OK();
    };
    st = run();
  }
  if (!st.ok()) ThrowStatus(st);
  return count;
}

}  // namespace

void RegisterRoute(py::module_& m) {
  m.def("_pack_route", &PackRoute, py::arg("schema"), py::arg("type"), py::arg("key"),
        py::arg("records"), py::arg("n"), py::arg("part_offset"), py::arg("total"),
        "Converts, packs and routes one partition's records: a bytes blob per shard.");
  m.def("_build_packed", &BuildPacked, py::arg("path"), py::arg("schema"), py::arg("type"),
        py::arg("key"), py::arg("multi"), py::arg("memory_mb"), py::arg("blobs"),
        "Builds a shard from the blobs _pack_route made for it; returns its record count.");
  m.def(
      "_open_dataset",
      [](const std::string& dir) {
        std::string manifest;
        Status st;
        {
          py::gil_scoped_release release;
          Result<Dataset> ds = Dataset::Open(dir);
          if (ds.ok()) manifest = ds->manifest().Serialize();
          st = ds.status();
        }
        if (!st.ok()) ThrowStatus(st);
        return manifest;
      },
      py::arg("dir"),
      "Opens the dataset in dir (its manifest and every shard, checked against each "
      "other) and returns its manifest, canonical.");
  m.def(
      "_verify_dataset",
      [](const std::string& dir) {
        Status st;
        {
          py::gil_scoped_release release;
          Result<Dataset> ds = Dataset::Open(dir);
          st = ds.ok() ? ds->Verify() : ds.status();
        }
        if (!st.ok()) ThrowStatus(st);
      },
      py::arg("dir"), "Verifies every shard of the dataset in dir and the routing of its keys.");
  m.def(
      "_route_key",
      [](py::bytes raw, uint64_t n) {
        if (n == 0) throw py::value_error("shard count must be positive");
        return RouteKey(std::string_view(raw), n);
      },
      py::arg("raw"), py::arg("n"),
      "The shard (0..n-1) of raw key bytes: XXH3-64 with the routing seed, mod n.");
  m.def(
      "_route_keys",
      [](py::handle schema_obj, const std::string& type, const std::string& key,
         py::iterable keys, uint64_t n) {
        if (n == 0) throw py::value_error("shard count must be positive");
        std::shared_ptr<const Schema> schema = SchemaFromPy(schema_obj);
        const Type& kt = KeyType(*schema, type, key);
        const KeyKind kind = KeyKindOf(kt);
        ValueConverter conv(*schema);
        RecordPacker packer(*schema);
        std::string scratch;
        std::vector<uint64_t> out;
        for (py::handle k : keys) {
          if (k.is_none()) throw py::value_error("field \"" + key + "\": the key is missing");
          Value v;
          if (!conv.Convert(k.ptr(), kt, &v, "field \"" + key + "\"")) {
            throw py::error_already_set();
          }
          Result<std::string_view> raw = RawKeyOf(v, kt, kind, &packer, &scratch);
          if (!raw.ok()) ThrowStatus(raw.status());
          out.push_back(RouteKey(*raw, n));
        }
        return out;
      },
      py::arg("schema"), py::arg("type"), py::arg("key"), py::arg("keys"), py::arg("n"),
      "The shard of each key value of field `key` (converted as mapfs.build does).");
  m.def("_new_build_id", &NewBuildId, "A fresh 16-hex-digit build id.");
  m.def("_shard_file_name", &ShardFileName, py::arg("build_id"), py::arg("i"), py::arg("n"),
        "The file name of shard i of n.");
  m.def(
      "_write_manifest",
      [](const std::string& dir, const std::vector<std::string>& files) {
        Status st;
        {
          py::gil_scoped_release release;
          st = PublishDataset(dir, files);
        }
        if (!st.ok()) ThrowStatus(st);
      },
      py::arg("dir"), py::arg("files"),
      "Opens the shard files (in shard order) and writes dir/dataset.json atomically.");
}

}  // namespace mapfs::python
