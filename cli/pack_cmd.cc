// `mapfs pack`: packs JSONL records with a schema and prints each one back
// through a zero-copy view — as JSON (what `mapfs get` and @json show) or as
// the packed bytes in hex. A tool for checking what a schema makes of data.
#include <cstdio>
#include <fstream>
#include <iostream>

#include "command.h"
#include "mapfs/json_input.h"
#include "mapfs/record.h"

namespace mapfs::cli {
namespace {

struct PackOptions {
  std::string schema_path;
  std::string type_name;
  std::string input = "-";
  bool hex = false;
};

void AppendHex(std::string* out, std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  for (unsigned char c : bytes) {
    out->push_back(kDigits[c >> 4]);
    out->push_back(kDigits[c & 15]);
  }
}

Status RunPack(const PackOptions& opt) {
  MAPFS_ASSIGN_OR_RETURN(SchemaAndType loaded, LoadSchemaAndType(opt.schema_path, opt.type_name));
  const Schema& schema = loaded.schema;
  const int type = loaded.struct_index;
  std::ifstream file;
  std::istream* in = &std::cin;
  std::string input_name = opt.input == "-" ? "<stdin>" : opt.input;
  if (opt.input != "-") {
    file.open(opt.input, std::ios::binary);
    if (!file) return Status::FromErrno(opt.input);
    in = &file;
  }
  JsonRecordParser parser(schema, type);
  RecordPacker packer(schema);
  std::string line, out;
  for (size_t line_no = 1; std::getline(*in, line); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::string where = input_name + ":" + std::to_string(line_no);
    auto value = parser.ParseLine(line);
    if (!value.ok()) return value.status().WithContext(where);
    auto packed = packer.Pack(type, *value);
    if (!packed.ok()) return packed.status().WithContext(where);
    out.clear();
    if (opt.hex) {
      AppendHex(&out, *packed);
    } else {
      auto view = ViewRecord(schema, type, *packed);
      Status st = view.ok() ? RenderJson(*view, &out) : view.status();
      if (!st.ok()) return st.WithContext(where);
    }
    out.push_back('\n');
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
  if (in->bad()) return Status::FromErrno(input_name);
  return Status::OK();
}

void Register(CLI::App& app) {
  auto opt = std::make_shared<PackOptions>();
  CLI::App* cmd = app.add_subcommand(
      "pack", "Pack JSONL records with a schema and print them back through a view (JSON or hex)");
  cmd->add_option("--schema", opt->schema_path, "Schema YAML file")->required();
  cmd->add_option("--type", opt->type_name, "Struct of the records")->required();
  cmd->add_flag("--hex", opt->hex, "Print the packed bytes in hex instead of JSON");
  cmd->add_option("input", opt->input, "JSONL file (default: standard input)");
  cmd->callback([opt] {
    Status st = RunPack(*opt);
    if (!st.ok()) Fail(st);
  });
}

const RegisterCommand kRegister(Register);

}  // namespace
}  // namespace mapfs::cli
