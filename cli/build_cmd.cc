// `mapfs build`: JSONL records + a schema YAML -> one segment file (docs/building.md).
// Bad input stops the build with "FILE:LINE: reason" and leaves no output.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <vector>

#include "command.h"
#include "mapfs/json_input.h"
#include "mapfs/schema_yaml.h"
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
};

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

// A progress line on stderr when it is a terminal, at most a few per second.
class Progress {
 public:
  Progress() : enabled_(::isatty(STDERR_FILENO) == 1) {}
  void Update(uint64_t records) {
    if (!enabled_ || (records & 0xFFFF) != 0) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    std::fprintf(stderr, "\rmapfs build: %llu records", static_cast<unsigned long long>(records));
    shown_ = true;
  }
  void Phase(const char* what, uint64_t records) {
    if (!enabled_) return;
    std::fprintf(stderr, "\rmapfs build: %llu records, %s", static_cast<unsigned long long>(records),
                 what);
    shown_ = true;
  }
  void Clear() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
    shown_ = false;
  }

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

int RunBuild(const BuildOptions& opt) {
  auto loaded = LoadSchemaAndType(opt.schema_path, opt.type_name);
  if (!loaded.ok()) {
    Fail(loaded.status());
    return 1;
  }
  const Schema& schema = loaded->schema;
  const int type = loaded->struct_index;
  SegmentOptions so;
  so.memory_budget = opt.memory_mib << 20;
  if (!opt.key.empty()) {
    auto field = schema.struct_def(type).FindField(opt.key);
    if (!field) {
      Fail(opt.schema_path + ": struct '" + opt.type_name + "' has no field '" + opt.key + "'");
      return 1;
    }
    so.key_field = *field;
    so.kind = opt.approx  ? CollectionKind::kApproxMultiMap
              : opt.multi ? CollectionKind::kMultiMap
                          : CollectionKind::kMapping;
    if (opt.approx && schema.struct_def(type).fields[*field].type.kind != TypeKind::kStr) {
      Fail("--approx needs a str key; field '" + opt.key + "' is " +
           schema.TypeName(schema.struct_def(type).fields[*field].type));
      return 1;
    }
  } else if (opt.multi || opt.approx) {
    Fail("--multi and --approx need --key");
    return 1;
  }

  std::ifstream in(opt.input, std::ios::binary);
  if (!in) {
    Fail(Status::FromErrno(opt.input));
    return 1;
  }
  auto lines = std::make_shared<LineMap>();
  const std::string input_name = opt.input;
  so.record_name = [lines, input_name](uint64_t id) {
    return input_name + ":" + std::to_string(lines->LineOf(id));
  };
  auto builder = SegmentBuilder::Create(opt.output, schema, type, so);
  if (!builder.ok()) {
    Fail(builder.status());
    return 1;
  }
  JsonRecordParser parser(schema, type);
  Progress progress;
  std::string line;
  uint64_t records = 0;
  for (uint64_t line_no = 1; std::getline(in, line); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      lines->Skip(records);
      continue;
    }
    auto value = parser.ParseLine(line);
    Status st = value.ok() ? (*builder)->Add(*value) : value.status();
    if (!st.ok()) {
      progress.Clear();
      Fail(st.WithContext(input_name + ":" + std::to_string(line_no)));
      return 1;
    }
    progress.Update(++records);
  }
  if (in.bad()) {
    progress.Clear();
    Fail(Status::FromErrno(opt.input));
    return 1;
  }
  progress.Phase("indexing", records);
  Status st = (*builder)->Finish();
  progress.Clear();
  if (!st.ok()) {
    Fail(st);
    return 1;
  }
  return 0;
}

void Register(CLI::App& app) {
  auto opt = std::make_shared<BuildOptions>();
  CLI::App* cmd = app.add_subcommand("build", "Build a segment file from JSONL records");
  cmd->add_option("--schema", opt->schema_path, "Schema YAML file")->required();
  cmd->add_option("--type", opt->type_name, "Struct of the records")->required();
  cmd->add_option("--input", opt->input, "JSONL input, one record per line")->required();
  cmd->add_option("--output", opt->output, "Segment file to write (atomically)")->required();
  cmd->add_option("--key", opt->key, "Key field: a mapping instead of an array");
  cmd->add_flag("--multi", opt->multi, "A key may repeat and maps to all its records");
  cmd->add_flag("--approx", opt->approx, "Store key hashes only (str keys; implies --multi)");
  cmd->add_option("--memory", opt->memory_mib, "Index memory budget in MiB before spilling")
      ->capture_default_str();
  cmd->callback([opt] { ExitCode() = RunBuild(*opt); });
}

const RegisterCommand kRegister(Register);

}  // namespace
}  // namespace mapfs::cli
