// Dataset: shard segments under one manifest (docs/format.md, "Datasets").
#include "mapfs/dataset.h"

#include <sys/stat.h>
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "file_util.h"

namespace mapfs {
namespace {

std::string Join(const std::string& dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  return dir.back() == '/' ? dir + std::string(name) : dir + "/" + std::string(name);
}

std::string KeyFieldName(const Segment& seg) {
  if (seg.key_field_index() < 0) return {};
  return seg.schema().struct_def(seg.root_struct_index()).fields[seg.key_field_index()].name;
}

Result<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::FromErrno(path);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return Status::FromErrno(path);
  return buf.str();
}

}  // namespace

uint64_t RouteKey(std::string_view raw_key, uint64_t shard_count) {
  return XXH3_64bits_withSeed(raw_key.data(), raw_key.size(), kRouteSeed) % shard_count;
}

Result<std::string_view> RawKeyOf(const Value& key, const Type& key_type, KeyKind kind,
                                  RecordPacker* packer, std::string* scratch) {
  switch (kind) {
    case KeyKind::kStr:
      if (key.kind() != Value::Kind::kStr) return Status::InvalidArgument("key is not a str");
      return std::string_view(key.text());
    case KeyKind::kUInt: {
      if (key.kind() == Value::Kind::kInt && key.as_int() < 0) {
        return Status::InvalidArgument("uint key is negative");
      }
      if (key.kind() != Value::Kind::kUInt && key.kind() != Value::Kind::kInt) {
        return Status::InvalidArgument("key is not an unsigned integer");
      }
      const uint64_t v = key.kind() == Value::Kind::kUInt ? key.as_uint()
                                                          : static_cast<uint64_t>(key.as_int());
      scratch->resize(8);
      std::memcpy(scratch->data(), &v, 8);
      return std::string_view(*scratch);
    }
    case KeyKind::kGeneric:
      return packer->PackValue(key_type, key);
    case KeyKind::kNone:
      break;
  }
  return Status::InvalidArgument("an array has no keys");
}

std::string NewBuildId() {
  std::random_device rd;
  const uint64_t id = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(id));
  return buf;
}

std::string ShardFileName(std::string_view build_id, uint64_t i, uint64_t n) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "-%05llu-of-%05llu.mapfs", static_cast<unsigned long long>(i),
                static_cast<unsigned long long>(n));
  return "shard-" + std::string(build_id) + buf;
}

bool IsDatasetDir(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return false;
  return ::stat(Join(path, kManifestName).c_str(), &st) == 0;
}

Result<Manifest> Manifest::FromShards(const std::string& dir,
                                      const std::vector<std::string>& files) {
  if (files.empty()) return Status::InvalidArgument(dir + ": a dataset needs at least one shard");
  Manifest m;
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string path = Join(dir, files[i]);
    MAPFS_ASSIGN_OR_RETURN(Segment seg, Segment::Open(path));
    const std::string root = seg.schema().struct_def(seg.root_struct_index()).name;
    const std::string key_field = KeyFieldName(seg);
    if (i == 0) {
      m.kind = seg.kind();
      m.key_kind = seg.key_kind();
      m.root_type = root;
      if (seg.key_field_index() >= 0) m.key_field = key_field;
      m.schema_json = seg.schema().ToCanonicalJson();
    } else if (seg.kind() != m.kind || seg.key_kind() != m.key_kind || root != m.root_type ||
               key_field != m.key_field.value_or("") ||
               seg.schema().ToCanonicalJson() != m.schema_json) {
      return Status::InvalidArgument(path + ": its kind, key, root type or schema differs from " +
                                     files[0] + "'s");
    }
    ShardInfo s;
    s.file = files[i];
    s.size = seg.file_size();
    s.header_checksum = seg.header_checksum();
    s.record_count = seg.record_count();
    s.key_count = seg.key_count();
    s.first_record = m.record_count;
    m.record_count += s.record_count;
    m.key_count += s.key_count;
    m.shards.push_back(std::move(s));
  }
  // What a reader will check: refuse now rather than publish it.
  auto reparsed = Manifest::Parse(m.Serialize(), Join(dir, kManifestName));
  if (!reparsed.ok()) return reparsed.status();
  return m;
}

Status PublishDataset(const std::string& dir, const std::vector<std::string>& files) {
  MAPFS_ASSIGN_OR_RETURN(Manifest m, Manifest::FromShards(dir, files));
  MAPFS_ASSIGN_OR_RETURN(AtomicFileWriter w, AtomicFileWriter::Create(Join(dir, kManifestName)));
  MAPFS_RETURN_IF_ERROR(w.Append(m.Serialize()));
  return w.Commit();
}

Result<Dataset> Dataset::Open(const std::string& dir) {
  const std::string manifest_path = Join(dir, kManifestName);
  MAPFS_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(manifest_path));
  Dataset ds;
  ds.dir_ = dir;
  MAPFS_ASSIGN_OR_RETURN(ds.manifest_, Manifest::Parse(text, manifest_path));
  const Manifest& m = ds.manifest_;
  ds.shards_.reserve(m.shards.size());
  for (const ShardInfo& s : m.shards) {
    const std::string path = Join(dir, s.file);
    MAPFS_ASSIGN_OR_RETURN(Segment seg, Segment::Open(path));
    auto bad = [&](const std::string& what) {
      return Status::Corruption(path + ": " + what + " differs from " + manifest_path +
                                " (a shard of another build?)");
    };
    if (seg.file_size() != s.size) return bad("its size");
    if (seg.header_checksum() != s.header_checksum) return bad("its header checksum");
    if (seg.record_count() != s.record_count) return bad("its record count");
    if (seg.key_count() != s.key_count) return bad("its key count");
    if (seg.kind() != m.kind) return bad("its collection kind");
    if (seg.key_kind() != m.key_kind) return bad("its key kind");
    if (seg.schema().struct_def(seg.root_struct_index()).name != m.root_type) {
      return bad("its root type");
    }
    if (KeyFieldName(seg) != m.key_field.value_or("")) return bad("its key field");
    if (seg.schema().ToCanonicalJson() != m.schema_json) return bad("its schema");
    ds.shards_.push_back(std::move(seg));
  }
  return ds;
}

size_t Dataset::ShardOfRecord(uint64_t i) const {
  const auto& s = manifest_.shards;
  // The last shard whose first record is <= i (empty shards are skipped).
  auto it = std::upper_bound(s.begin(), s.end(), i, [](uint64_t v, const ShardInfo& info) {
    return v < info.first_record;
  });
  return static_cast<size_t>(it - s.begin()) - 1;
}

Result<std::string_view> Dataset::RecordBytes(uint64_t i) const {
  if (i >= record_count()) {
    return Status::OutOfRange(dir_ + ": record " + std::to_string(i) + " of " +
                              std::to_string(record_count()));
  }
  const size_t s = ShardOfRecord(i);
  return shards_[s].RecordBytes(i - first_record(s));
}

Result<View> Dataset::Record(uint64_t i) const {
  if (i >= record_count()) {
    return Status::OutOfRange(dir_ + ": record " + std::to_string(i) + " of " +
                              std::to_string(record_count()));
  }
  const size_t s = ShardOfRecord(i);
  return shards_[s].Record(i - first_record(s));
}

Result<std::optional<Dataset::Entry>> Dataset::Find(std::string_view key) const {
  const size_t s = ShardOfKey(key);
  MAPFS_ASSIGN_OR_RETURN(std::optional<Segment::Entry> e, shards_[s].Find(key));
  if (!e) return std::optional<Entry>();
  return std::optional<Entry>(Entry{s, *e});
}

Result<Dataset::Records> Dataset::FindAll(std::string_view key) const {
  const size_t s = ShardOfKey(key);
  MAPFS_ASSIGN_OR_RETURN(Segment::RecordIds ids, shards_[s].FindAll(key));
  return Records{s, ids};
}

Result<Dataset::Records> Dataset::Candidates(std::string_view key) const {
  const size_t s = ShardOfKey(key);
  MAPFS_ASSIGN_OR_RETURN(Segment::RecordIds ids, shards_[s].Candidates(key));
  return Records{s, ids};
}

Status Dataset::Verify() const {
  for (const Segment& seg : shards_) MAPFS_RETURN_IF_ERROR(seg.Verify());
  if (kind() == CollectionKind::kArray) return Status::OK();
  for (size_t s = 0; s < shards_.size(); ++s) {
    const Segment& seg = shards_[s];
    if (kind() == CollectionKind::kApproxMultiMap) {
      // Keys are not stored: route each record's key field.
      if (seg.key_field_index() < 0) continue;
      for (uint64_t i = 0; i < seg.record_count(); ++i) {
        MAPFS_ASSIGN_OR_RETURN(View v, seg.Record(i));
        MAPFS_ASSIGN_OR_RETURN(View k, v.Field(seg.key_field_index()));
        if (k.is_null()) continue;
        const size_t to = ShardOfKey(k.as_str());
        if (to != s) {
          return Status::Corruption(seg.name() + ": record " + std::to_string(i) +
                                    " has a key that routes to shard " + std::to_string(to) +
                                    ", not to this shard " + std::to_string(s));
        }
      }
      continue;
    }
    for (uint64_t o = 0; o < seg.key_count(); ++o) {
      MAPFS_ASSIGN_OR_RETURN(Segment::Entry e, seg.EntryAt(o));
      const size_t to = ShardOfKey(e.key);
      if (to != s) {
        return Status::Corruption(seg.name() + ": index entry " + std::to_string(o) +
                                  " has a key that routes to shard " + std::to_string(to) +
                                  ", not to this shard " + std::to_string(s));
      }
    }
  }
  return Status::OK();
}

}  // namespace mapfs
