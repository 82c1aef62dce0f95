// `mapfs get FILE KEY [FIELD]`: one record (or a multimap's records) as JSON
// on stdout, the same rendering as @json (design §3, §4). KEY is the raw key:
// an index for arrays, the text for str keys, a decimal for uint keys, JSON
// (or a bare string) for other key types. A missing key exits non-zero.
#include <charconv>
#include <cstdio>
#include <memory>

#include "command.h"
#include "dataset_cmds.h"
#include "mapfs/dataset.h"
#include "mapfs/json_input.h"
#include "mapfs/record.h"
#include "mapfs/segment.h"

namespace mapfs::cli {
namespace {

struct GetOptions {
  std::string file;
  std::string key;
  std::string field;
};

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

// A generic key from its command-line text, parsed as the key field's type.
Result<Value> ParseGenericKey(const Segment& seg, std::string_view text) {
  const StructDef& root = seg.schema().struct_def(seg.root_struct_index());
  const std::string& name = root.fields[seg.key_field_index()].name;
  JsonRecordParser parser(seg.schema(), seg.root_struct_index());
  auto parse = [&](const std::string& json) -> Result<Value> {
    MAPFS_ASSIGN_OR_RETURN(Value rec, parser.ParseLine("{" + JsonString(name) + ":" + json + "}"));
    const Value* key = rec.FindField(name);
    if (key == nullptr) return Status::InvalidArgument("empty key");
    return *key;
  };
  auto as_json = parse(std::string(text));
  if (as_json.ok()) return as_json;
  auto as_string = parse(JsonString(text));
  if (as_string.ok()) return as_string;
  return as_json.status();
}

// Appends the record (or one field of it) as JSON.
Status Render(const Segment& seg, std::string_view record, const std::string& field,
              std::string* out) {
  MAPFS_ASSIGN_OR_RETURN(View view, seg.ViewOf(record));
  if (!field.empty()) {
    if (!view.struct_def().FindField(field)) {
      return Status::InvalidArgument("no field '" + field + "' in " + view.struct_def().name);
    }
    MAPFS_ASSIGN_OR_RETURN(view, view.Field(field));
    if (view.is_null()) {
      out->append("null");
      return Status::OK();
    }
  }
  return RenderJson(view, out);
}

Status RenderIds(const Segment& seg, const Segment::RecordIds& ids, const std::string& field,
                 std::string_view approx_key, std::string* out) {
  out->push_back('[');
  bool first = true;
  for (uint32_t i = 0; i < ids.size(); ++i) {
    MAPFS_ASSIGN_OR_RETURN(std::string_view rec, seg.RecordBytes(ids[i]));
    if (seg.kind() == CollectionKind::kApproxMultiMap && seg.key_field_index() >= 0) {
      // Candidates may hold records of colliding keys: keep the real matches.
      MAPFS_ASSIGN_OR_RETURN(View v, seg.ViewOf(rec));
      MAPFS_ASSIGN_OR_RETURN(View k, v.Field(seg.key_field_index()));
      if (k.is_null() || k.as_str() != approx_key) continue;
    }
    if (!first) out->push_back(',');
    first = false;
    MAPFS_RETURN_IF_ERROR(Render(seg, rec, field, out));
  }
  out->push_back(']');
  return Status::OK();
}

Status RunGet(const GetOptions& opt) {
  if (IsDatasetDir(opt.file)) {
    // A dataset: the one shard holding the key answers (docs/format.md).
    MAPFS_ASSIGN_OR_RETURN(ShardTarget t, RouteGet(opt.file, opt.key));
    return RunGet({t.file, t.key, opt.field});
  }
  MAPFS_ASSIGN_OR_RETURN(Segment seg, Segment::Open(opt.file));
  const Status not_found = Status::NotFound(opt.file + ": no record for key " + opt.key);
  std::string out;
  if (seg.kind() == CollectionKind::kArray) {
    auto index = ParseUInt(opt.key);
    if (!index || *index >= seg.record_count()) return not_found;
    MAPFS_ASSIGN_OR_RETURN(std::string_view rec, seg.RecordBytes(*index));
    MAPFS_RETURN_IF_ERROR(Render(seg, rec, opt.field, &out));
  } else {
    std::string key_bytes;
    if (seg.key_kind() == KeyKind::kUInt) {
      auto v = ParseUInt(opt.key);
      if (!v) return Status::InvalidArgument("key '" + opt.key + "' is not an unsigned integer");
      key_bytes.assign(reinterpret_cast<const char*>(&*v), 8);
    } else if (seg.key_kind() == KeyKind::kGeneric) {
      MAPFS_ASSIGN_OR_RETURN(Value key, ParseGenericKey(seg, opt.key));
      RecordPacker packer(seg.schema());
      const Type& type =
          seg.schema().struct_def(seg.root_struct_index()).fields[seg.key_field_index()].type;
      auto packed = packer.PackValue(type, key);
      if (!packed.ok()) return packed.status().WithContext("key '" + opt.key + "'");
      key_bytes.assign(*packed);
    } else {
      key_bytes = opt.key;
    }
    if (seg.kind() == CollectionKind::kMapping) {
      MAPFS_ASSIGN_OR_RETURN(std::optional<Segment::Entry> hit, seg.Find(key_bytes));
      if (!hit) return not_found;
      MAPFS_RETURN_IF_ERROR(Render(seg, hit->record, opt.field, &out));
    } else {
      Segment::RecordIds ids;
      if (seg.kind() == CollectionKind::kMultiMap) {
        MAPFS_ASSIGN_OR_RETURN(ids, seg.FindAll(key_bytes));
      } else {
        MAPFS_ASSIGN_OR_RETURN(ids, seg.Candidates(key_bytes));
      }
      MAPFS_RETURN_IF_ERROR(RenderIds(seg, ids, opt.field, key_bytes, &out));
      if (out == "[]") return not_found;
    }
  }
  out.push_back('\n');
  std::fwrite(out.data(), 1, out.size(), stdout);
  return Status::OK();
}

void Register(CLI::App& app) {
  auto opt = std::make_shared<GetOptions>();
  CLI::App* cmd = app.add_subcommand("get", "Print the record of a key (an index for arrays) as JSON");
  cmd->add_option("file", opt->file, "Segment file")->required();
  cmd->add_option("key", opt->key, "The key, or the record index of an array")->required();
  cmd->add_option("field", opt->field, "Print only this field");
  cmd->callback([opt] {
    Status st = RunGet(*opt);
    if (!st.ok()) Fail(InFile(opt->file, st));
  });
}

const RegisterCommand kRegister(Register);

}  // namespace
}  // namespace mapfs::cli
