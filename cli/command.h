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

// Exit statuses (docs/cli.md, "Exit status"; the man page's EXIT STATUS).
inline constexpr int kExitOk = 0;
inline constexpr int kExitNotFound = 1;  // a key or record not found, or a check failed
inline constexpr int kExitUsage = 2;     // a usage, configuration or input error

// What a command was doing when it failed: a check (`mapfs verify`) reports
// a damaged file as a failed check, every other command as bad input.
enum class Doing { kRun, kCheck };

// The one mapping from a Status to an exit status: NotFound is 1, Corruption
// 1 when checking and 2 otherwise, everything else (InvalidArgument,
// IOError, NotSupported, ...) 2.
int ExitCodeFor(const Status& status, Doing doing = Doing::kRun);

// The process exit code, set by the command that ran.
int& ExitCode();

// Prints "mapfs: <message>" to stderr and raises the exit code to
// ExitCodeFor(status) (or `code`); a plain message is a usage error.
void Fail(const Status& status);
void Fail(const Status& status, int code);
void Fail(std::string_view message);

// `status` with "<path>: " put before its message unless it already starts
// with the path, so that every error names the file.
Status InFile(const std::string& path, const Status& status);

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
