// `mapfs dump FILE [-o OUT|-] [--schema S.yaml]`: every record of a segment
// as JSONL, in input order, in the @json rendering, which `mapfs build`
// takes back: rebuilding the dump with the same schema, type and key options
// gives the same bytes (docs/cli.md, "mapfs dump").
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "command.h"
#include "file_util.h"
#include "mapfs/dataset.h"
#include "mapfs/record.h"
#include "mapfs/segment.h"

namespace mapfs::cli {
namespace {

struct DumpOptions {
  std::string file;
  std::string output = "-";
  std::string schema_out;
};

// Where the lines go: standard output, or a file that appears complete or
// not at all.
class Sink {
 public:
  static Result<Sink> Open(const std::string& path) {
    Sink s;
    if (path == "-") return s;
    MAPFS_ASSIGN_OR_RETURN(AtomicFileWriter w, AtomicFileWriter::Create(path));
    s.file_ = std::make_unique<AtomicFileWriter>(std::move(w));
    return s;
  }
  Status Write(std::string_view bytes) {
    if (file_) return file_->Append(bytes);
    if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size()) {
      return Status::FromErrno("<stdout>");
    }
    return Status::OK();
  }
  Status Close() {
    if (file_) return file_->Commit();
    if (std::fflush(stdout) != 0) return Status::FromErrno("<stdout>");
    return Status::OK();
  }

 private:
  std::unique_ptr<AtomicFileWriter> file_;
};

Status RunDump(const DumpOptions& opt) {
  // A dataset directory dumps its shards in order (docs/format.md).
  std::optional<Dataset> dataset;
  std::optional<Segment> single;
  std::vector<const Segment*> segments;
  if (IsDatasetDir(opt.file)) {
    MAPFS_ASSIGN_OR_RETURN(Dataset ds, Dataset::Open(opt.file));
    dataset.emplace(std::move(ds));
    for (size_t i = 0; i < dataset->shard_count(); ++i) segments.push_back(&dataset->shard(i));
  } else {
    MAPFS_ASSIGN_OR_RETURN(Segment s, Segment::Open(opt.file));
    single.emplace(std::move(s));
    segments.push_back(&*single);
  }
  const Segment& seg = *segments[0];
  if (seg.kind() != CollectionKind::kArray && seg.key_field_index() < 0) {
    return Status::NotSupported(opt.file +
                                ": its keys are not a field of the records, so JSONL cannot "
                                "carry them");
  }
  if (!opt.schema_out.empty()) {
    MAPFS_ASSIGN_OR_RETURN(AtomicFileWriter w, AtomicFileWriter::Create(opt.schema_out));
    MAPFS_RETURN_IF_ERROR(w.Append(seg.schema().ToYaml()));
    MAPFS_RETURN_IF_ERROR(w.Commit());
  }
  MAPFS_ASSIGN_OR_RETURN(Sink sink, Sink::Open(opt.output));
  // Records are stored in input order whatever the collection kind
  // (docs/format.md, record_offsets), which is the order a rebuild needs.
  std::string out;
  uint64_t index = 0;
  for (const Segment* shard : segments) {
    for (uint64_t i = 0; i < shard->record_count(); ++i, ++index) {
      MAPFS_ASSIGN_OR_RETURN(View rec, shard->Record(i));
      Status st = RenderJson(rec, &out);
      if (!st.ok()) return st.WithContext(opt.file + ": record " + std::to_string(index));
      out.push_back('\n');
      if (out.size() >= (size_t{1} << 20)) {
        MAPFS_RETURN_IF_ERROR(sink.Write(out));
        out.clear();
      }
    }
  }
  MAPFS_RETURN_IF_ERROR(sink.Write(out));
  return sink.Close();
}

void Register(CLI::App& app) {
  auto opt = std::make_shared<DumpOptions>();
  CLI::App* cmd = app.add_subcommand(
      "dump", "Write every record as JSONL (input order) that `mapfs build` takes back");
  cmd->add_option("file", opt->file, "Segment file")->required();
  cmd->add_option("-o,--output", opt->output, "JSONL file to write; - is standard output")
      ->capture_default_str();
  cmd->add_option("--schema", opt->schema_out,
                  "Also write the segment's schema as YAML to this file, for the rebuild");
  cmd->footer("Rebuild: mapfs dump p.mapfs --schema s.yaml -o p.jsonl && mapfs build --schema "
              "s.yaml --type TYPE --input p.jsonl --output p.mapfs [--key FIELD [--multi]] "
              "(mapfs inspect shows the type and key).");
  cmd->callback([opt] {
    Status st = RunDump(*opt);
    if (!st.ok()) Fail(InFile(opt->file, st));
  });
}

const RegisterCommand kRegister(Register);

}  // namespace
}  // namespace mapfs::cli
