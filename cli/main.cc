// Entry point of the `mapfs` command: collects the registered subcommands and
// runs the one named on the command line.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "command.h"
#include "mapfs/schema_yaml.h"

namespace mapfs::cli {

std::vector<Registrar>& Registrars() {
  static std::vector<Registrar> registrars;
  return registrars;
}

int& ExitCode() {
  static int code = 0;
  return code;
}

void Fail(const Status& status) { Fail(status.message()); }

void Fail(std::string_view message) {
  std::cerr << "mapfs: " << message << "\n";
  ExitCode() = 1;
}

Result<SchemaAndType> LoadSchemaAndType(const std::string& schema_path,
                                        const std::string& type_name) {
  MAPFS_ASSIGN_OR_RETURN(Schema schema, LoadSchemaYaml(schema_path));
  auto index = schema.FindStruct(type_name);
  if (!index) {
    return Status::InvalidArgument(schema_path + ": no struct named '" + type_name + "'");
  }
  return SchemaAndType{std::move(schema), *index};
}

}  // namespace mapfs::cli

int main(int argc, char** argv) {
  CLI::App app{"mapfs: typed mapped files, built once and read zero-copy by many processes", "mapfs"};
  app.set_version_flag("--version", std::string("mapfs ") + MAPFS_VERSION);
  app.require_subcommand(1);
  app.footer("The FUSE mount helper form `mapfs SOURCE MOUNTPOINT [-o OPTIONS]` (what "
             "`mount -t fuse.mapfs` and /etc/fstab run) is `mapfs mount SOURCE MOUNTPOINT`.");
  for (auto registrar : mapfs::cli::Registrars()) registrar(app);
  std::vector<std::string> args(argv + 1, argv + argc);
  // mount.fuse3 runs `mapfs SOURCE MOUNTPOINT -o OPTIONS`: no subcommand.
  if (!args.empty() && !args[0].starts_with('-')) {
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands({})) known = known || sub->check_name(args[0]);
    if (!known) args.insert(args.begin(), "mount");
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return mapfs::cli::ExitCode();
}
