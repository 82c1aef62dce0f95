// Routing and manifests for mapfs.dask (docs/format.md, "Datasets"): the
// same RouteKey, raw key bytes and manifest writer as the C++ build, so a
// dataset built from Python reads exactly as one built by `mapfs build`.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <string>
#include <tuple>
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

// A routed partition file (temporary, in the build's shuffle directory):
//   "mapfsrt1", u64 section count S, S + 1 u64 offsets (from the start of the
//   file; the first is the header's size, the last the file's size), then the
//   sections, each a run of (u32 key length, raw key, u32 record length,
//   record) in input order.
constexpr char kRoutedMagic[8] = {'m', 'a', 'p', 'f', 's', 'r', 't', '1'};

Status WriteAll(int fd, const char* p, size_t n, const std::string& path) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(path);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::OK();
}

// Writes `sections` as the routed file `path`: to a temporary name first,
// then renamed, so a reader never sees part of one (a recomputed partition
// replaces the file whole). The directory must exist: a build that was
// cleaned up makes late writers fail rather than leave files behind.
Status WriteRouted(const std::string& path, const std::vector<std::string>& sections) {
  std::string header(kRoutedMagic, sizeof(kRoutedMagic));
  auto put64 = [&header](uint64_t v) { header.append(reinterpret_cast<const char*>(&v), 8); };
  put64(sections.size());
  uint64_t off = 8 + 8 + 8 * (sections.size() + 1);
  put64(off);
  for (const std::string& sec : sections) {
    off += sec.size();
    put64(off);
  }
  const std::string tmp = path + ".tmp-" + NewBuildId();
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(tmp);
  Status st = WriteAll(fd, header.data(), header.size(), tmp);
  for (size_t i = 0; st.ok() && i < sections.size(); ++i) {
    st = WriteAll(fd, sections[i].data(), sections[i].size(), tmp);
  }
  if (::close(fd) != 0 && st.ok()) st = Status::FromErrno(tmp);
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) st = Status::FromErrno(path);
  if (!st.ok()) ::unlink(tmp.c_str());
  return st;
}

// Converts, packs and routes the records of one input partition (as
// mapfs.build converts them) into the routed file `path`: section i holds
// shard i's records of the partition, in input order. Keyless (array)
// records all go to one section: shards split by dataset index, which the
// shards' builds work out once every partition's count is known. Returns the
// partition's record count. Errors name the partition and the record in it.
uint64_t RouteToFile(py::handle schema_obj, const std::string& type, py::object key_obj,
                     py::iterable records, uint64_t n, const std::string& path,
                     uint64_t partition) {
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
  std::vector<std::string> out(key_type != nullptr ? n : 1);
  uint64_t j = 0;
  size_t shard = 0;
  // One Value refilled in place record after record keeps its buffers (as
  // mapfs.build's batches do); the context is rendered without allocating.
  Value v;
  const std::string prefix = "partition " + std::to_string(partition) + ", record ";
  char where_buf[64];
  std::memcpy(where_buf, prefix.data(), prefix.size());
  for (py::handle r : records) {
    const char* digits_end =
        std::to_chars(where_buf + prefix.size(), where_buf + sizeof(where_buf), j).ptr;
    const std::string_view where(where_buf, static_cast<size_t>(digits_end - where_buf));
    if (!conv.Record(r.ptr(), *root, &v, where)) throw py::error_already_set();
    std::string_view raw;
    if (key_type != nullptr) {
      const Value* k = v.FindField(key);
      if (k == nullptr || k->is_null()) {
        throw py::value_error(std::string(where) + ": field \"" + key + "\": the key is missing");
      }
      Result<std::string_view> rk = RawKeyOf(*k, *key_type, kind, &key_packer, &scratch);
      if (!rk.ok()) ThrowStatus(rk.status().WithContext(where));
      raw = *rk;
      shard = RouteKey(raw, n);
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
  Status st;
  {
    py::gil_scoped_release release;
    st = WriteRouted(path, out);
  }
  if (!st.ok()) ThrowStatus(st);
  return j;
}

// Reads `size` bytes at `offset` of fd; Corruption if the file is shorter.
Status ReadAt(int fd, uint64_t offset, size_t size, std::string* out, const std::string& path) {
  out->resize(size);
  size_t done = 0;
  while (done < size) {
    const ssize_t r = ::pread(fd, out->data() + done, size - done,
                              static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(path);
    }
    if (r == 0) return Status::Corruption(path + ": a truncated routed partition file");
    done += static_cast<size_t>(r);
  }
  return Status::OK();
}

// Section `section` of the routed file `path`, checked against the file.
Status ReadSection(const std::string& path, uint64_t section, std::string* out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(path);
  auto run = [&]() -> Status {
    struct stat sb;
    if (::fstat(fd, &sb) != 0) return Status::FromErrno(path);
    const uint64_t file_size = static_cast<uint64_t>(sb.st_size);
    std::string head;
    if (file_size < 16) return Status::Corruption(path + ": not a routed partition file");
    MAPFS_RETURN_IF_ERROR(ReadAt(fd, 0, 16, &head, path));
    uint64_t count = 0;
    std::memcpy(&count, head.data() + 8, 8);
    if (std::memcmp(head.data(), kRoutedMagic, 8) != 0 || count >= (file_size - 16) / 8 ||
        section >= count) {
      return Status::Corruption(path + ": not a routed partition file with section " +
                                std::to_string(section));
    }
    uint64_t off[2];
    MAPFS_RETURN_IF_ERROR(ReadAt(fd, 16 + 8 * section, 16, &head, path));
    std::memcpy(off, head.data(), 16);
    if (off[0] > off[1] || off[1] > file_size || off[0] < 16 + 8 * (count + 1)) {
      return Status::Corruption(path + ": section " + std::to_string(section) +
                                " lies outside the file");
    }
    return ReadAt(fd, off[0], static_cast<size_t>(off[1] - off[0]), out, path);
  };
  Status st = run();
  ::close(fd);
  return st;
}

// Builds one shard from pieces of routed files, in order: each piece is
// (file, section, skip, take): the section's records after the first `skip`,
// at most `take` of them (all when take is negative). Returns the shard's
// record count. The GIL is released throughout.
uint64_t BuildRouted(const std::string& path, py::handle schema_obj, const std::string& type,
                     py::object key_obj, bool multi, uint64_t memory_mb,
                     const std::vector<std::tuple<std::string, uint64_t, uint64_t, int64_t>>& pieces) {
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
  Status st;
  uint64_t count = 0;
  {
    py::gil_scoped_release release;
    auto run = [&]() -> Status {
      MAPFS_ASSIGN_OR_RETURN(std::unique_ptr<SegmentBuilder> b,
                             SegmentBuilder::Create(path, *schema, *root, opt));
      std::string data;
      for (const auto& [file, section, skip, take] : pieces) {
        MAPFS_RETURN_IF_ERROR(ReadSection(file, section, &data));
        std::string_view rest(data);
        uint64_t index = 0;
        while (!rest.empty() && (take < 0 || index < skip + static_cast<uint64_t>(take))) {
          std::string_view parts[2];
          for (std::string_view& part : parts) {
            uint32_t len = 0;
            if (rest.size() < 4 || (std::memcpy(&len, rest.data(), 4), rest.size() - 4 < len)) {
              return Status::Corruption(file + ": a truncated record in section " +
                                        std::to_string(section));
            }
            part = rest.substr(4, len);
            rest.remove_prefix(4 + size_t{len});
          }
          if (index++ >= skip) MAPFS_RETURN_IF_ERROR(b->AddPacked(parts[0], parts[1]));
        }
        if (take >= 0 && index < skip + static_cast<uint64_t>(take)) {
          return Status::Corruption(file + ": section " + std::to_string(section) + " holds " +
                                    std::to_string(index) + " records, fewer than " +
                                    std::to_string(skip + static_cast<uint64_t>(take)));
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
  m.def("_route_to_file", &RouteToFile, py::arg("schema"), py::arg("type"), py::arg("key"),
        py::arg("records"), py::arg("n"), py::arg("path"), py::arg("partition"),
        "Converts, packs and routes one partition's records into a routed file (a section "
        "per shard; one section without a key); returns the record count.");
  m.def("_build_routed", &BuildRouted, py::arg("path"), py::arg("schema"), py::arg("type"),
        py::arg("key"), py::arg("multi"), py::arg("memory_mb"), py::arg("pieces"),
        "Builds a shard from (file, section, skip, take) pieces of routed files; returns its "
        "record count.");
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
