// `mapfs mount SOURCE MOUNTPOINT [-o opts] [-f]`: shows segments (and
// shared arrays, as .npy files) as a read-only directory tree (design §4,
// docs/layout.md). Thin: options are parsed by fs/mount_options, the work is
// fs/mount's.
#include <memory>
#include <string>
#include <vector>

#include "command.h"
#include "mount.h"
#include "mount_options.h"

namespace mapfs::cli {
namespace {

struct MountArgs {
  std::string source;
  std::string mountpoint;
  std::vector<std::string> options;
  bool foreground = false;
  bool debug = false;
  unsigned threads = 0;
};

int RunMountCommand(const MountArgs& args) {
  fs::MountOptions opts;
  for (const std::string& list : args.options) {
    Status st = fs::ParseMountOptions(list, &opts);
    if (!st.ok()) {
      Fail(st);
      return 2;
    }
  }
  opts.foreground = opts.foreground || args.foreground || args.debug;
  opts.debug = opts.debug || args.debug;
  if (args.threads > 0) opts.threads = args.threads;
  Status st = fs::RunMount(args.source, args.mountpoint, opts);
  if (!st.ok()) {
    Fail(st);
    return 1;
  }
  return 0;
}

void Register(CLI::App& app) {
  auto args = std::make_shared<MountArgs>();
  CLI::App* cmd = app.add_subcommand(
      "mount",
      "Mount a segment file (or a directory of them) or a shared array as a read-only tree");
  cmd->add_option("source", args->source,
                  "Segment file, a directory of *.mapfs files, or a shared array "
                  "(shm://NAME, file://PATH, or a path to a shared-array file)")
      ->required();
  cmd->add_option("mountpoint", args->mountpoint, "Empty directory to mount on")->required();
  cmd->add_option("-o", args->options,
                  "Mount options, comma-separated: allow_other, default_permissions, uid=N, "
                  "gid=N, mode=0444, cache_timeout=S, threads=N, open, debug, ro")
      ->allow_extra_args(false);
  cmd->add_flag("-f,--foreground", args->foreground,
                "Stay in the foreground (default: return once the mount is ready)");
  cmd->add_flag("-d,--debug", args->debug, "Log every FUSE request (implies -f)");
  cmd->add_option("--threads", args->threads, "Worker threads (default 2; 1 = single-threaded)");
  cmd->callback([args] { ExitCode() = RunMountCommand(*args); });
}

const RegisterCommand kRegister(Register);

}  // namespace
}  // namespace mapfs::cli
