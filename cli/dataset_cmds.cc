// The dataset branch of `mapfs get|inspect|verify` (docs/cli.md): a
// directory holding dataset.json is read through Dataset.
#include <charconv>
#include <cinttypes>
#include <cstdio>

#include "dataset_cmds.h"
#include "mapfs/dataset.h"
#include "mapfs/json_input.h"
#include "mapfs/record.h"

namespace mapfs::cli {
namespace {

std::optional<uint64_t> ParseUInt(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// A generic key's raw bytes from its command-line text: JSON of the key
// field's type, or else the text as a JSON string (as `mapfs get FILE`).
Result<std::string> GenericKeyBytes(const Dataset& ds, const std::string& text) {
  const Schema& schema = ds.schema();
  const Field& f = schema.struct_def(ds.root_struct_index()).fields[ds.key_field_index()];
  JsonRecordParser parser(schema, ds.root_struct_index());
  RecordPacker packer(schema);
  Status first;
  for (const std::string& json : {text, JsonString(text)}) {
    auto rec = parser.ParseLine("{" + JsonString(f.name) + ":" + json + "}");
    if (!rec.ok()) {
      if (first.ok()) first = rec.status();
      continue;
    }
    const Value* key = rec->FindField(f.name);
    if (key == nullptr) return Status::InvalidArgument("empty key");
    auto packed = packer.PackValue(f.type, *key);
    if (!packed.ok()) return packed.status().WithContext("key '" + text + "'");
    return std::string(*packed);
  }
  return first;
}

}  // namespace

Result<ShardTarget> RouteGet(const std::string& dir, const std::string& key) {
  MAPFS_ASSIGN_OR_RETURN(Dataset ds, Dataset::Open(dir));
  ShardTarget t;
  t.key = key;
  if (ds.kind() == CollectionKind::kArray) {
    auto index = ParseUInt(key);
    if (!index || *index >= ds.record_count()) {
      return Status::NotFound(dir + ": no record for key " + key);
    }
    const size_t s = ds.ShardOfRecord(*index);
    t.file = ds.shard(s).name();
    t.key = std::to_string(*index - ds.first_record(s));
    return t;
  }
  std::string raw;
  if (ds.key_kind() == KeyKind::kUInt) {
    auto v = ParseUInt(key);
    if (!v) return Status::InvalidArgument("key '" + key + "' is not an unsigned integer");
    raw.assign(reinterpret_cast<const char*>(&*v), 8);
  } else if (ds.key_kind() == KeyKind::kGeneric) {
    if (ds.key_field_index() < 0) {
      return Status::NotSupported(dir + ": its keys are not a field of the records");
    }
    MAPFS_ASSIGN_OR_RETURN(raw, GenericKeyBytes(ds, key));
  } else {
    raw = key;
  }
  t.file = ds.shard(ds.ShardOfKey(raw)).name();
  return t;
}

Status InspectDataset(const std::string& dir) {
  MAPFS_ASSIGN_OR_RETURN(Dataset ds, Dataset::Open(dir));
  const Manifest& m = ds.manifest();
  std::printf("dataset:         %s\n", dir.c_str());
  std::printf("format:          mapfs dataset 1\n");
  std::printf("collection:      %s\n", std::string(CollectionKindName(ds.kind())).c_str());
  std::printf("record type:     %s\n", m.root_type.c_str());
  std::printf("records:         %" PRIu64 "\n", ds.record_count());
  if (ds.kind() != CollectionKind::kArray) {
    std::printf("key:             %s (%s)\n", std::string(KeyKindName(ds.key_kind())).c_str(),
                m.key_field ? m.key_field->c_str() : "no key field");
    std::printf("index entries:   %" PRIu64 "\n", ds.key_count());
    std::printf("routing:         xxh3-64 of the raw key, seed %016" PRIx64 ", mod %zu\n",
                kRouteSeed, ds.shard_count());
  } else {
    std::printf("routing:         consecutive record ranges\n");
  }
  std::printf("shards:          %zu\n", ds.shard_count());
  for (size_t i = 0; i < ds.shard_count(); ++i) {
    const ShardInfo& s = m.shards[i];
    std::printf("  %-5zu %s  records %" PRIu64 "  keys %" PRIu64 "  first %" PRIu64
                "  size %" PRIu64 "  header %016" PRIx64 "\n",
                i, s.file.c_str(), s.record_count, s.key_count, s.first_record, s.size,
                s.header_checksum);
  }
  std::printf("schema:\n");
  std::string yaml = ds.schema().ToYaml();
  size_t start = 0;
  while (start < yaml.size()) {
    size_t end = yaml.find('\n', start);
    if (end == std::string::npos) end = yaml.size();
    std::printf("  %.*s\n", static_cast<int>(end - start), yaml.data() + start);
    start = end + 1;
  }
  return Status::OK();
}

Status VerifyDataset(const std::string& dir) {
  MAPFS_ASSIGN_OR_RETURN(Dataset ds, Dataset::Open(dir));
  MAPFS_RETURN_IF_ERROR(ds.Verify());
  std::printf("%s: OK (%s, %llu records, %zu shards)\n", dir.c_str(),
              std::string(CollectionKindName(ds.kind())).c_str(),
              static_cast<unsigned long long>(ds.record_count()), ds.shard_count());
  return Status::OK();
}

}  // namespace mapfs::cli
