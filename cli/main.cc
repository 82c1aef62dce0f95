// Entry point of the `mapfs` command: collects the registered subcommands and
// runs the one named on the command line. Conventions (exit statuses, `-`,
// the mount(8) helper form) are in docs/cli.md.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
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
  static int code = kExitOk;
  return code;
}

int ExitCodeFor(const Status& status, Doing doing) {
  switch (status.code()) {
    case StatusCode::kOk: return kExitOk;
    case StatusCode::kNotFound: return kExitNotFound;
    case StatusCode::kCorruption: return doing == Doing::kCheck ? kExitNotFound : kExitUsage;
    default: return kExitUsage;
  }
}

void Fail(const Status& status) { Fail(status, ExitCodeFor(status)); }

void Fail(const Status& status, int code) {
  std::cerr << "mapfs: " << status.message() << "\n";
  ExitCode() = std::max(ExitCode(), code);
}

void Fail(std::string_view message) { Fail(Status::InvalidArgument(std::string(message))); }

Status InFile(const std::string& path, const Status& status) {
  const std::string& m = status.message();
  if (status.ok() || (m.starts_with(path) && m.compare(path.size(), 1, ":") == 0)) return status;
  return status.WithContext(path);
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

namespace {

bool IsCommand(const CLI::App& app, const std::string& name) {
  for (const CLI::App* sub : app.get_subcommands({})) {
    if (sub->check_name(name)) return true;
  }
  return false;
}

std::string CommandList(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands({})) names.push_back(sub->get_name());
  std::sort(names.begin(), names.end());
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// Why `source` cannot be mounted, or "" if it names something that exists
// (a file or directory, or a shared array URI).
std::string SourceProblem(const std::string& source) {
  if (source.starts_with("shm://")) return "";
  const std::string path = source.starts_with("file://") ? source.substr(7) : source;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return source + ": " + std::strerror(errno);
  return "";
}

// Why `mountpoint` cannot be mounted on, or "": a directory, or the
// /dev/fd/N that mount.fuse3 passes with drop_privileges.
std::string MountpointProblem(const std::string& mountpoint) {
  if (mountpoint.starts_with("/dev/fd/")) return "";
  struct stat st;
  if (::stat(mountpoint.c_str(), &st) != 0) return mountpoint + ": " + std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return mountpoint + ": not a directory";
  return "";
}

// mount.fuse3 runs `mapfs SOURCE MOUNTPOINT -o OPTIONS` for `mount -t
// fuse.mapfs` and fstab lines (it always passes -o: at least dev,suid).
// That shape, with a SOURCE that exists and a directory MOUNTPOINT, is the
// mount helper form; "" when `args` is it, else why not.
std::string HelperFormProblem(const std::vector<std::string>& args) {
  if (args.size() != 4 || args[2] != "-o") return "not SOURCE MOUNTPOINT -o OPTIONS";
  std::string why = SourceProblem(args[0]);
  return why.empty() ? MountpointProblem(args[1]) : why;
}

// Invoked as a mount(8) helper itself (a mount.mapfs or mount.fuse.mapfs
// link): `SOURCE MOUNTPOINT [-sfnv] [-o OPTIONS] [-t TYPE] [-N NS]`; keeps
// the source, mountpoint and options.
bool IsHelperName(std::string_view argv0) {
  size_t slash = argv0.rfind('/');
  std::string_view base = slash == std::string_view::npos ? argv0 : argv0.substr(slash + 1);
  return base == "mount.mapfs" || base == "mount.fuse.mapfs" || base == "mount.fuse3.mapfs";
}

std::vector<std::string> HelperArgs(const std::vector<std::string>& args) {
  std::vector<std::string> out{"mount"};
  for (size_t i = 0; i < args.size(); ++i) {
    if ((args[i] == "-t" || args[i] == "-N") && i + 1 < args.size()) {
      ++i;
    } else if (args[i] == "-o" && i + 1 < args.size()) {
      out.push_back(args[i]);
      out.push_back(args[++i]);
    } else if (!args[i].starts_with('-')) {
      out.push_back(args[i]);
    }
  }
  return out;
}

}  // namespace
}  // namespace mapfs::cli

int main(int argc, char** argv) {
  using namespace mapfs::cli;
  CLI::App app{"mapfs: typed mapped files, built once and read zero-copy by many processes", "mapfs"};
  app.set_version_flag("--version", std::string("mapfs ") + MAPFS_VERSION);
  app.require_subcommand(1);
  app.footer("`mapfs COMMAND --help` describes a command. Exit status: 0 success, 1 a key or "
             "record not found or a failed check, 2 a usage, configuration or input error. "
             "The mount(8) helper form `mapfs SOURCE MOUNTPOINT -o OPTIONS` (what "
             "`mount -t fuse.mapfs` and /etc/fstab run) is `mapfs mount SOURCE MOUNTPOINT`.");
  for (auto registrar : Registrars()) registrar(app);
  app.failure_message([](const CLI::App* a, const CLI::Error& e) {
    std::string where = "mapfs";  // and the subcommands given, e.g. "mapfs shm create"
    for (const CLI::App* s = a; !s->get_subcommands().empty();) {
      s = s->get_subcommands().front();
      where += " " + s->get_name();
    }
    return where + ": " + e.what() + "\nRun '" + where + " --help' for more information.\n";
  });
  std::vector<std::string> args(argv + 1, argv + argc);
  if (argc > 0 && IsHelperName(argv[0])) {
    args = HelperArgs(args);
  } else if (!args.empty() && args[0] == "help") {
    // `mapfs help [COMMAND]` is `mapfs [COMMAND] --help`.
    args.erase(args.begin());
    if (args.size() > 1) args.resize(1);
    args.push_back("--help");
  } else if (!args.empty() && !args[0].starts_with('-') && !IsCommand(app, args[0])) {
    std::string why = HelperFormProblem(args);
    if (why.empty()) {
      args.insert(args.begin(), "mount");
    } else {
      std::cerr << "mapfs: unknown command '" << args[0] << "'";
      // Say why a mount helper call was not taken as one.
      if (args.size() == 4 && args[2] == "-o") std::cerr << " (not a mount: " << why << ")";
      std::cerr << "\ncommands: " << CommandList(app)
                << "\nRun 'mapfs --help' or 'mapfs COMMAND --help' for more.\n";
      return kExitUsage;
    }
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every other parse error is a usage error.
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  return ExitCode();
}
