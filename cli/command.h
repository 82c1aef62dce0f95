// How `mapfs` subcommands plug into the one CLI11 app: each *_cmd.cc file
// registers itself with a static RegisterCommand, so adding a command touches
// only its own file.
#ifndef MAPFS_CLI_COMMAND_H_
#define MAPFS_CLI_COMMAND_H_

#include <CLI/CLI.hpp>
#include <string_view>
#include <vector>

#include "mapfs/status.h"
#include "mapfs/types.h"

namespace mapfs::cli {

using Registrar = void (*)(CLI::App& app);

std::vector<Registrar>& Registrars();

struct RegisterCommand {
  explicit RegisterCommand(Registrar r) { Registrars().push_back(r); }
};

// The process exit code, set by the command that ran.
int& ExitCode();

// Prints "mapfs: <message>" to stderr and records exit code 1.
void Fail(const Status& status);
void Fail(std::string_view message);

// Loads a schema YAML file and finds the struct named `type_name` in it;
// the error names the file and the missing struct.
struct SchemaAndType {
  Schema schema;
  int struct_index;
};
Result<SchemaAndType> LoadSchemaAndType(const std::string& schema_path,
                                        const std::string& type_name);

}  // namespace mapfs::cli

#endif  // MAPFS_CLI_COMMAND_H_
