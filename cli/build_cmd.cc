// `mapfs build`: JSONL records + a schema YAML -> one segment file
// (docs/building.md, docs/cli.md). Bad input stops the build with
// "FILE:LINE: reason" and leaves no output; a finished build prints a
// one-line summary on stderr.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <vector>

#include "command.h"
#include "dataset_cmds.h"
#include "mapfs/json_input.h"
#include "mapfs/schema_yaml.h"
#include "mapfs/segment.h"
#include "mapfs/segment_builder.h"

namespace mapfs::cli {
namespace {

struct BuildOptions {
  std::string schema_path;
  std::string type_name;
  std::string input;
  std::string output;
  std::string key;
  bool multi = false;
  bool approx = false;
  size_t memory_mib = 256;
  size_t dedup_memory_mib = 64;
  uint64_t shards = 0;  // > 0: a dataset directory of this many shards
  bool quiet = false;
};

// "1 record", "1,000,000 records".
std::string Count(uint64_t n, const char* noun) {
  std::string digits = std::to_string(n);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(i, ",");
  return digits + " " + noun + (n == 1 ? "" : "s");
}

// "812 bytes", "4.1 kB", "183 MB" (SI units, as ls -h --si and df -H).
std::string Size(uint64_t bytes) {
  if (bytes < 1000) return Count(bytes, "byte");
  static const char* const kUnits[] = {"kB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(bytes) / 1000;
  int unit = 0;
  while (v >= 999.5 && unit < 4) {
    v /= 1000;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), v < 9.95 ? "%.1f %s" : "%.0f %s", v, kUnits[unit]);
  return buf;
}

// Input line numbers of records: record i is on line i + 1 plus the blank
// lines skipped before it, kept as (first record id after a skip, lines added).
class LineMap {
 public:
  void Skip(uint64_t next_record_id) {
    if (!jumps_.empty() && jumps_.back().first == next_record_id) {
      ++jumps_.back().second;
    } else {
      jumps_.emplace_back(next_record_id, (jumps_.empty() ? 0 : jumps_.back().second) + 1);
    }
  }
  uint64_t LineOf(uint64_t id) const {
    uint64_t extra = 0;
    for (const auto& [first, total] : jumps_) {
      if (first > id) break;
      extra = total;
    }
    return id + 1 + extra;
  }

 private:
  std::vector<std::pair<uint64_t, uint64_t>> jumps_;
};

// A progress line on stderr when it is a terminal, for builds longer than a
// second: records so far and the rate, redrawn at most 5 times a second.
class Progress {
 public:
  explicit Progress(bool quiet)
      : enabled_(!quiet && ::isatty(STDERR_FILENO) == 1),
        start_(std::chrono::steady_clock::now()),
        last_(start_) {}
  void Update(uint64_t records) {
    if (!enabled_ || (records & 0xFF) != 0) return;
    auto now = std::chrono::steady_clock::now();
    if (now - start_ < std::chrono::seconds(1) || now - last_ < std::chrono::milliseconds(200)) {
      return;
    }
    last_ = now;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    std::fprintf(stderr, "\r\033[Kmapfs build: %s, %.0f records/s",
                 Count(records, "record").c_str(), static_cast<double>(records) / seconds);
    shown_ = true;
  }
  void Phase(const char* what, uint64_t records) {
    if (!shown_) return;
    std::fprintf(stderr, "\r\033[Kmapfs build: %s, %s", Count(records, "record").c_str(), what);
  }
  void Clear() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
    shown_ = false;
  }

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
};

Status RunBuild(const BuildOptions& opt) {
  MAPFS_ASSIGN_OR_RETURN(SchemaAndType loaded, LoadSchemaAndType(opt.schema_path, opt.type_name));
  const Schema& schema = loaded.schema;
  const int type = loaded.struct_index;
  SegmentOptions so;
  so.memory_budget = opt.memory_mib << 20;
  so.dedup_memory = opt.dedup_memory_mib << 20;
  if (!opt.key.empty()) {
    auto field = schema.struct_def(type).FindField(opt.key);
    if (!field) {
      return Status::InvalidArgument(opt.schema_path + ": struct '" + opt.type_name +
                                     "' has no field '" + opt.key + "'");
    }
    so.key_field = *field;
    so.kind = opt.approx  ? CollectionKind::kApproxMultiMap
              : opt.multi ? CollectionKind::kMultiMap
                          : CollectionKind::kMapping;
    if (opt.approx && schema.struct_def(type).fields[*field].type.kind != TypeKind::kStr) {
      return Status::InvalidArgument("--approx needs a str key; field '" + opt.key + "' is " +
                                     schema.TypeName(schema.struct_def(type).fields[*field].type));
    }
  } else if (opt.multi || opt.approx) {
    return Status::InvalidArgument("--multi and --approx need --key");
  }

  if (opt.shards > 0) {
    return RunShardedBuild(
        {&schema, type, std::move(so), opt.input, opt.output, opt.shards, opt.quiet});
  }
  // `-` is standard input (docs/cli.md).
  const bool from_stdin = opt.input == "-";
  const std::string input_name = from_stdin ? "<stdin>" : opt.input;
  std::ifstream file;
  if (!from_stdin) {
    file.open(opt.input, std::ios::binary);
    if (!file) return Status::FromErrno(opt.input);
  }
  std::istream& in = from_stdin ? std::cin : file;
  auto lines = std::make_shared<LineMap>();
  so.record_name = [lines, input_name](uint64_t id) {
    return input_name + ":" + std::to_string(lines->LineOf(id));
  };
  const auto started = std::chrono::steady_clock::now();
  MAPFS_ASSIGN_OR_RETURN(std::unique_ptr<SegmentBuilder> builder,
                         SegmentBuilder::Create(opt.output, schema, type, so));
  JsonRecordParser parser(schema, type);
  Progress progress(opt.quiet);
  std::string line;
  uint64_t records = 0;
  for (uint64_t line_no = 1; std::getline(in, line); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      lines->Skip(records);
      continue;
    }
    auto value = parser.ParseLine(line);
    Status st = value.ok() ? builder->Add(*value) : value.status();
    if (!st.ok()) {
      progress.Clear();
      // Writing the output failed (a full disk, say): that names its own
      // file, and the input line is not at fault.
      if (st.IsIOError()) return st;
      return st.WithContext(input_name + ":" + std::to_string(line_no));
    }
    progress.Update(++records);
  }
  if (in.bad()) {
    progress.Clear();
    return Status::FromErrno(input_name);
  }
  progress.Phase("indexing", records);
  Status st = builder->Finish();
  progress.Clear();
  MAPFS_RETURN_IF_ERROR(st);
  if (!opt.quiet) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    MAPFS_ASSIGN_OR_RETURN(Segment seg, Segment::Open(opt.output));
    std::string summary = "mapfs: built " + opt.output + ": " + Count(seg.record_count(), "record");
    if (seg.kind() != CollectionKind::kArray) {
      summary += ", " + Count(seg.key_count(), seg.kind() == CollectionKind::kApproxMultiMap
                                                   ? "key hash"
                                                   : "key");
    }
    std::fprintf(stderr, "%s, %s in %.1f s\n", summary.c_str(), Size(seg.file_size()).c_str(),
                 seconds);
  }
  return Status::OK();
}

void Register(CLI::App& app) {
  auto opt = std::make_shared<BuildOptions>();
  CLI::App* cmd = app.add_subcommand("build", "Build a segment file from JSONL records");
  cmd->add_option("--schema", opt->schema_path, "Schema YAML file")->required();
  cmd->add_option("--type", opt->type_name, "Struct of the records")->required();
  cmd->add_option("--input", opt->input, "JSONL input, one record per line; - is standard input")
      ->required();
  cmd->add_option("--output", opt->output, "Segment file to write (atomically)")->required();
  cmd->add_option("--key", opt->key, "Key field: a mapping instead of an array");
  cmd->add_flag("--multi", opt->multi, "A key may repeat and maps to all its records");
  cmd->add_flag("--approx", opt->approx, "Store key hashes only (str keys; implies --multi)");
  cmd->add_option("--memory", opt->memory_mib, "Index memory budget in MiB before spilling")
      ->capture_default_str();
  cmd->add_option("--dedup-memory", opt->dedup_memory_mib,
                  "MiB of written values remembered to store repeated values once "
                  "(value references); 0 disables")
      ->capture_default_str();
  cmd->add_option("--shards", opt->shards,
                  "Build a dataset directory (--output) of this many shard segments")
      ->check(CLI::Range(uint64_t{1}, uint64_t{65536}));
  cmd->add_flag("-q,--quiet", opt->quiet, "No progress line and no summary on standard error");
  cmd->callback([opt] {
    Status st = RunBuild(*opt);
    if (!st.ok()) Fail(st);
  });
}

const RegisterCommand kRegister(Register);

}  // namespace
}  // namespace mapfs::cli
