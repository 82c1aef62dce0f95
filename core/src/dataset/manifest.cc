// dataset.json: parse (strict) and serialize (canonical), docs/format.md
// "The manifest".
#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "mapfs/dataset.h"

namespace mapfs {
namespace {

// Insertion-ordered, so that the schema keeps its canonical key order
// (docs/schema.md) through a parse and a dump.
using Json = nlohmann::ordered_json;

constexpr int kManifestVersion = 1;
constexpr const char* kFormatName = "mapfs-dataset";
constexpr const char* kRouteSeedHex = "6d617066735f7231";
// The manifest nests 3 deep and its schema 8 more; deeper input is refused
// before nlohmann's recursive parse and destruction see it.
constexpr int kMaxDepth = 12;
// Integers in the manifest are below 2^53 (exact in every JSON reader).
constexpr uint64_t kMaxInteger = (uint64_t{1} << 53) - 1;

Status CheckDepth(std::string_view json, const std::string& name) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) {
        return Status::Corruption(name + ": nested deeper than " + std::to_string(kMaxDepth) +
                                  " at byte " + std::to_string(i));
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return Status::OK();
}

// Field access that names the field on every failure.
class Reader {
 public:
  Reader(const Json& obj, std::string name, std::string where)
      : obj_(obj), name_(std::move(name)), where_(std::move(where)) {}

  Status Bad(const std::string& field, const std::string& why) const {
    return Status::Corruption(name_ + ": " + where_ + (where_.empty() ? "" : ".") + field +
                              ": " + why);
  }
  Status CheckKeys(std::initializer_list<const char*> keys) const {
    if (!obj_.is_object()) {
      return Status::Corruption(name_ + ": " + (where_.empty() ? "the manifest" : where_) +
                                " is not an object");
    }
    std::set<std::string> known(keys.begin(), keys.end());
    for (const auto& [k, v] : obj_.items()) {
      if (!known.count(k)) return Bad(k, "unknown field");
    }
    for (const char* k : keys) {
      if (!obj_.contains(k)) return Bad(k, "missing");
    }
    return Status::OK();
  }
  Result<std::string> Str(const char* key) const {
    const Json& v = obj_.at(key);
    if (!v.is_string()) return Bad(key, "not a string");
    return v.get<std::string>();
  }
  Result<uint64_t> UInt(const char* key) const {
    const Json& v = obj_.at(key);
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {
      return Bad(key, "not a non-negative integer");
    }
    const uint64_t u = v.get<uint64_t>();
    if (u > kMaxInteger) return Bad(key, "above 2^53");
    return u;
  }

 private:
  const Json& obj_;
  std::string name_;
  std::string where_;
};

Result<CollectionKind> KindFromName(const std::string& s) {
  for (auto k : {CollectionKind::kArray, CollectionKind::kMapping, CollectionKind::kMultiMap,
                 CollectionKind::kApproxMultiMap}) {
    if (CollectionKindName(k) == s) return k;
  }
  return Status::InvalidArgument("unknown collection kind");
}

Result<KeyKind> KeyKindFromName(const std::string& s) {
  for (auto k : {KeyKind::kNone, KeyKind::kStr, KeyKind::kUInt, KeyKind::kGeneric}) {
    if (KeyKindName(k) == s) return k;
  }
  return Status::InvalidArgument("unknown key kind");
}

Json RoutingJson(CollectionKind kind) {
  Json r = Json::object();
  if (kind == CollectionKind::kArray) {
    r["rule"] = "ranges";
  } else {
    r["hash"] = "xxh3_64";
    r["rule"] = "key_hash";
    r["seed"] = kRouteSeedHex;
  }
  return r;
}

bool ValidShardName(const std::string& f) {
  return !f.empty() && f != "." && f != ".." && f != kManifestName &&
         f.find('/') == std::string::npos && f.find('\0') == std::string::npos;
}

}  // namespace

Result<Manifest> Manifest::Parse(std::string_view json, const std::string& name) {
  MAPFS_RETURN_IF_ERROR(CheckDepth(json, name));
  Json doc = Json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::Corruption(name + ": not valid JSON");
  Reader top(doc, name, "");
  MAPFS_RETURN_IF_ERROR(top.CheckKeys({"format", "version", "kind", "root_type", "key_field",
                                       "key_kind", "schema", "routing", "record_count",
                                       "key_count", "shards"}));
  MAPFS_ASSIGN_OR_RETURN(std::string format, top.Str("format"));
  if (format != kFormatName) return top.Bad("format", "not \"mapfs-dataset\"");
  MAPFS_ASSIGN_OR_RETURN(uint64_t version, top.UInt("version"));
  if (version != kManifestVersion) {
    return Status::NotSupported(name + ": version " + std::to_string(version) +
                                " (this reader knows 1)");
  }
  Manifest m;
  MAPFS_ASSIGN_OR_RETURN(std::string kind, top.Str("kind"));
  auto k = KindFromName(kind);
  if (!k.ok()) return top.Bad("kind", "unknown collection kind \"" + kind + "\"");
  m.kind = *k;
  MAPFS_ASSIGN_OR_RETURN(std::string key_kind, top.Str("key_kind"));
  auto kk = KeyKindFromName(key_kind);
  if (!kk.ok()) return top.Bad("key_kind", "unknown key kind \"" + key_kind + "\"");
  m.key_kind = *kk;
  if ((m.kind == CollectionKind::kArray) != (m.key_kind == KeyKind::kNone)) {
    return top.Bad("key_kind", "\"" + key_kind + "\" does not fit kind \"" + kind + "\"");
  }
  MAPFS_ASSIGN_OR_RETURN(m.root_type, top.Str("root_type"));
  const Json& kf = doc.at("key_field");
  if (kf.is_string()) {
    m.key_field = kf.get<std::string>();
  } else if (!kf.is_null()) {
    return top.Bad("key_field", "neither a string nor null");
  }
  if (m.kind == CollectionKind::kArray && m.key_field) {
    return top.Bad("key_field", "an array has no key field");
  }
  // Compared as unordered JSON: any key order is the same rule.
  if (nlohmann::json::parse(doc.at("routing").dump()) !=
      nlohmann::json::parse(RoutingJson(m.kind).dump())) {
    return top.Bad("routing", "not the routing rule of a " + kind + " (docs/format.md)");
  }
  const Json& sj = doc.at("schema");
  if (!sj.is_object()) return top.Bad("schema", "not an object");
  auto schema = Schema::FromCanonicalJson(sj.dump());
  if (!schema.ok()) return top.Bad("schema", schema.status().message());
  m.schema_json = schema->ToCanonicalJson();
  auto root = schema->FindStruct(m.root_type);
  if (!root) return top.Bad("root_type", "no struct \"" + m.root_type + "\" in the schema");
  if (m.key_field && !schema->struct_def(*root).FindField(*m.key_field)) {
    return top.Bad("key_field", "no field \"" + *m.key_field + "\" in " + m.root_type);
  }
  MAPFS_ASSIGN_OR_RETURN(m.record_count, top.UInt("record_count"));
  MAPFS_ASSIGN_OR_RETURN(m.key_count, top.UInt("key_count"));

  const Json& shards = doc.at("shards");
  if (!shards.is_array()) return top.Bad("shards", "not an array");
  if (shards.empty()) return top.Bad("shards", "empty");
  std::set<std::string> names;
  uint64_t records = 0, keys = 0;
  for (size_t i = 0; i < shards.size(); ++i) {
    Reader r(shards[i], name, "shards[" + std::to_string(i) + "]");
    MAPFS_RETURN_IF_ERROR(r.CheckKeys(
        {"file", "size", "header_checksum", "record_count", "key_count", "first_record"}));
    ShardInfo s;
    MAPFS_ASSIGN_OR_RETURN(s.file, r.Str("file"));
    if (!ValidShardName(s.file)) return r.Bad("file", "not a file name: \"" + s.file + "\"");
    if (!names.insert(s.file).second) return r.Bad("file", "\"" + s.file + "\" named twice");
    MAPFS_ASSIGN_OR_RETURN(s.size, r.UInt("size"));
    MAPFS_ASSIGN_OR_RETURN(std::string sum, r.Str("header_checksum"));
    if (sum.size() != 16 || sum.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return r.Bad("header_checksum", "not 16 lowercase hex digits");
    }
    s.header_checksum = std::stoull(sum, nullptr, 16);
    MAPFS_ASSIGN_OR_RETURN(s.record_count, r.UInt("record_count"));
    MAPFS_ASSIGN_OR_RETURN(s.key_count, r.UInt("key_count"));
    MAPFS_ASSIGN_OR_RETURN(s.first_record, r.UInt("first_record"));
    if (s.first_record != records) {
      return r.Bad("first_record", std::to_string(s.first_record) + ", the shards before hold " +
                                       std::to_string(records) + " records");
    }
    if (s.key_count > s.record_count) return r.Bad("key_count", "above record_count");
    if (m.kind == CollectionKind::kArray && s.key_count != 0) {
      return r.Bad("key_count", "not 0 in an array");
    }
    if (m.kind == CollectionKind::kMapping && s.key_count != s.record_count) {
      return r.Bad("key_count", "not record_count in a mapping");
    }
    records += s.record_count;
    keys += s.key_count;
    if (records > kMaxInteger) return r.Bad("record_count", "the sum exceeds 2^53");
    m.shards.push_back(std::move(s));
  }
  if (records != m.record_count) {
    return top.Bad("record_count", std::to_string(m.record_count) + ", the shards hold " +
                                       std::to_string(records));
  }
  if (keys != m.key_count) {
    return top.Bad("key_count", std::to_string(m.key_count) + ", the shards hold " +
                                    std::to_string(keys));
  }
  return m;
}

std::string Manifest::Serialize() const {
  // Keys are inserted in byte order: the canonical form (docs/format.md).
  Json doc = Json::object();
  Json arr = Json::array();
  for (const ShardInfo& s : shards) {
    char sum[17];
    std::snprintf(sum, sizeof(sum), "%016" PRIx64, s.header_checksum);
    Json shard = Json::object();
    shard["file"] = s.file;
    shard["first_record"] = s.first_record;
    shard["header_checksum"] = sum;
    shard["key_count"] = s.key_count;
    shard["record_count"] = s.record_count;
    shard["size"] = s.size;
    arr.push_back(std::move(shard));
  }
  doc["format"] = kFormatName;
  doc["key_count"] = key_count;
  doc["key_field"] = key_field ? Json(*key_field) : Json(nullptr);
  doc["key_kind"] = std::string(KeyKindName(key_kind));
  doc["kind"] = std::string(CollectionKindName(kind));
  doc["record_count"] = record_count;
  doc["root_type"] = root_type;
  doc["routing"] = RoutingJson(kind);
  doc["schema"] = Json::parse(schema_json, nullptr, false);
  doc["shards"] = std::move(arr);
  doc["version"] = kManifestVersion;
  return doc.dump();
}

}  // namespace mapfs
