// `mapfs mount SOURCE MOUNTPOINT [-o opts] [-f]` and
// `mapfs mount --config mounts.yaml [NAME...] [-f]`: show segments (and
// shared arrays, as .npy files) as read-only directory trees (docs/layout.md,
// docs/mounts.md). Thin: options are parsed by
// config's mount_options and mount_config, the work is fs/fuse's mount. main.cc
// turns the mount helper's form `mapfs SOURCE MOUNTPOINT -o opts` (what
// mount(8) runs for `-t fuse.mapfs`) into the first form.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "command.h"
#include "log.h"
#include "mapfs/mount_config.h"
#include "mapfs/mount_options.h"
#include "mount.h"
#include "tree.h"

namespace mapfs::cli {
namespace {

struct MountArgs {
  std::vector<std::string> positional;
  std::string config;
  std::vector<std::string> options;
  bool foreground = false;
  bool debug = false;
  std::string threads;  // empty: each mount's own
  std::string log_level;
};

// Exit codes: 2 for a command line or configuration that is wrong as
// written, 1 for what fails when mounting.
constexpr int kUsageError = 2;
constexpr int kMountError = 1;

// The daemon-wide settings of the command line over one mount's options.
// --threads is checked like the option of the same name.
Status ApplyCommandLine(const MountArgs& args, MountOptions* opts) {
  opts->debug = opts->debug || args.debug;
  if (!args.threads.empty()) {
    Status st = SetMountOption("threads", args.threads, opts);
    if (!st.ok()) return Status::InvalidArgument("--threads: " + std::string(st.message()));
  }
  return Status::OK();
}

// Debug output goes to standard error, which a detached daemon has not.
bool Foreground(const MountArgs& args, const MountOptions& opts) {
  return args.foreground || opts.debug;
}

fs::TreeOptions TreeOptionsOf(const MountOptions& opts) {
  fs::TreeOptions t;
  t.render_cache_bytes = size_t{opts.render_cache_mb} << 20;
  return t;
}

int MountFromConfig(const MountArgs& args) {
  Result<MountConfig> config = LoadMountConfig(args.config);
  Result<std::vector<MountSpec>> chosen =
      config.ok() ? SelectMounts(*config, args.positional) : config.status();
  if (!chosen.ok()) {
    Fail(chosen.status());
    return kUsageError;
  }
  // Every source of every mount opens before anything is mounted.
  std::vector<fs::MountRequest> requests;
  for (const MountSpec& spec : *chosen) {
    std::vector<fs::TreeSource> sources;
    for (const MountSource& s : spec.sources) {
      const bool shm = s.kind == MountSource::Kind::kSharedArray;
      const std::string path = shm ? "shm://" + s.path : s.path;
      sources.push_back(fs::TreeSource{s.name, path, s.where});
    }
    fs::MountRequest r;
    r.options = spec.options;
    if (Status st = ApplyCommandLine(args, &r.options); !st.ok()) {
      Fail(st);
      return kUsageError;
    }
    Result<std::unique_ptr<fs::Tree>> tree = fs::Tree::Open(sources, TreeOptionsOf(r.options));
    if (!tree.ok()) {
      Fail(tree.status());
      return kMountError;
    }
    r.tree = std::move(tree).value();
    r.label = config->path + ":" + spec.name;
    r.mountpoint = spec.mountpoint;
    requests.push_back(std::move(r));
  }
  // Any mount asking for debug output keeps the daemon in the foreground.
  for (const fs::MountRequest& r : requests) {
    if (Foreground(args, r.options)) requests[0].foreground = true;
  }
  Status st = fs::RunMounts(std::move(requests));
  if (!st.ok()) {
    Fail(st);
    return kMountError;
  }
  return 0;
}

int RunMountCommand(const MountArgs& args) {
  std::optional<fs::LogLevel> level;
  if (!args.log_level.empty()) {
    Result<fs::LogLevel> parsed = fs::ParseLogLevel(args.log_level);
    if (!parsed.ok()) {
      Fail(parsed.status());
      return kUsageError;
    }
    level = *parsed;
  }
  MountOptions opts;
  for (const std::string& list : args.options) {
    Status st = ParseMountOptionList(list, &opts);
    if (!st.ok()) {
      Fail(st);
      return kUsageError;
    }
  }
  // An explicit --log-level wins; debug output asks for debug lines too.
  fs::SetLogLevel(level.value_or(args.debug || opts.debug ? fs::LogLevel::kDebug
                                                          : fs::LogLevel::kInfo));
  if (!args.config.empty()) {
    // Silently dropping them would mount something other than asked.
    if (!args.options.empty()) {
      Fail("-o does not apply with --config: put options in the file's 'options' "
           "(-d, --threads and --log-level apply to every mount)");
      return kUsageError;
    }
    return MountFromConfig(args);
  }
  if (args.positional.size() != 2) {
    Fail("mount takes SOURCE MOUNTPOINT, or --config FILE [NAME...]");
    return kUsageError;
  }
  if (Status st = ApplyCommandLine(args, &opts); !st.ok()) {
    Fail(st);
    return kUsageError;
  }
  Status st = fs::RunMount(args.positional[0], args.positional[1], opts, Foreground(args, opts));
  if (!st.ok()) {
    Fail(st);
    return kMountError;
  }
  return 0;
}

void Register(CLI::App& app) {
  auto args = std::make_shared<MountArgs>();
  CLI::App* cmd = app.add_subcommand(
      "mount",
      "Mount a segment file, a directory of them or a shared array as a read-only tree "
      "(SOURCE MOUNTPOINT), or the mounts of a configuration file (--config FILE [NAME...])");
  cmd->add_option("args", args->positional,
                  "SOURCE MOUNTPOINT: a segment file, a directory of *.mapfs files or a shared "
                  "array (shm://NAME, file://PATH, or a shared-array file), and an empty "
                  "directory to mount on. With --config: the names of the mounts to make "
                  "(default: all)");
  cmd->add_option("-c,--config", args->config,
                  "Mount configuration YAML (docs/mounts.md); every mount in it, or the NAMEs")
;
  cmd->add_option("-o", args->options,
                  "Mount options, comma-separated (docs/mounts.md): allow_other, "
                  "default_permissions, uid=N, gid=N, mode=0444 (at most 0777), "
                  "cache_timeout=S, threads=N (1..256), render_cache_mb=N, open, exec (default "
                  "noexec), passthrough=false, debug, ro; rw and the mount(8) generic options are accepted and "
                  "ignored (mounts are read-only)")
      ->allow_extra_args(false);
  cmd->add_flag("-f,--foreground", args->foreground,
                "Stay in the foreground (default: return once every mount is ready)");
  cmd->add_flag("-d,--debug", args->debug,
                "Log every FUSE request and debug messages (implies -f)");
  cmd->add_option("--threads", args->threads,
                  "Worker threads of every mount, 1..256 (default 2; 1 = single-threaded)");
  cmd->add_option("--log-level", args->log_level,
                  "debug, info (default), warn or error; errors and reloads are logged to "
                  "standard error, and to syslog once detached");
  cmd->callback([args] { ExitCode() = RunMountCommand(*args); });
}

const RegisterCommand kRegister(Register);

}  // namespace
}  // namespace mapfs::cli
