// `mapfs get FILE KEY [FIELD]`: one record (or a multimap's records) as JSON
// on stdout, the same rendering as @json (docs/layout.md). KEY is the key's
// text (mapfs/key_codec.h; docs/format.md, "Keys"): an index for arrays
// (negative from the end), the text for str keys, a decimal for uint keys,
// JSON (or a bare string) for other key types. A missing key exits non-zero.
#include <cstdio>
#include <memory>

#include "command.h"
#include "dataset_cmds.h"
#include "mapfs/dataset.h"
#include "mapfs/key_codec.h"
#include "mapfs/record.h"
#include "mapfs/segment.h"

namespace mapfs::cli {
namespace {

struct GetOptions {
  std::string file;
  std::string key;
  std::string field;
};

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
    Result<uint64_t> index = ParseArrayIndex(opt.key, seg.record_count());
    if (!index.ok()) return not_found;
    MAPFS_ASSIGN_OR_RETURN(std::string_view rec, seg.RecordBytes(*index));
    MAPFS_RETURN_IF_ERROR(Render(seg, rec, opt.field, &out));
  } else {
    KeyCodec codec(seg);
    MAPFS_ASSIGN_OR_RETURN(std::string raw, codec.FromText(opt.key));
    MAPFS_ASSIGN_OR_RETURN(std::vector<uint64_t> ids, FindRecords(seg, raw));
    if (ids.empty()) return not_found;
    // A mapping's key has one record; the multimaps' keys print a list.
    const bool list = seg.kind() != CollectionKind::kMapping;
    if (list) out.push_back('[');
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i) out.push_back(',');
      MAPFS_ASSIGN_OR_RETURN(std::string_view rec, seg.RecordBytes(ids[i]));
      MAPFS_RETURN_IF_ERROR(Render(seg, rec, opt.field, &out));
    }
    if (list) out.push_back(']');
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
  cmd->footer(
      "KEY is the raw key: a str key as it is, a uint key in decimal, an array index\n"
      "(negative counts from the end), any other key as JSON of the key field's type.\n"
      "Examples:\n"
      "  mapfs get people.mapfs 'Ada Lovelace'    a str key\n"
      "  mapfs get by_id.mapfs 42                 a uint key\n"
      "  mapfs get people.mapfs -1                the last record of an array\n"
      "  mapfs get pairs.mapfs '[\"k0\", 42]'        a tuple<str, int64> key\n"
      "  mapfs get people.mapfs 'Ada Lovelace' age   one field");
  cmd->callback([opt] {
    Status st = RunGet(*opt);
    if (!st.ok()) Fail(InFile(opt->file, st));
  });
}

const RegisterCommand kRegister(Register);

}  // namespace
}  // namespace mapfs::cli
