// `mapfs mount SOURCE MOUNTPOINT [-o opts] [-f]` and
// `mapfs mount --config mounts.yaml [NAME...] [-f]`: show segments (and
// shared arrays, as .npy files) as read-only directory trees (design §4 and
// §5, docs/layout.md, docs/mounts.md). Thin: options are parsed by
// fs/mount_options and config/mount_config, the work is fs/mount's. main.cc
// turns the mount helper's form `mapfs SOURCE MOUNTPOINT -o opts` (what
// mount(8) runs for `-t fuse.mapfs`) into the first form.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "command.h"
#include "log.h"
#include "mapfs/mount_config.h"
#include "mount.h"
#include "mount_options.h"
#include "tree.h"

namespace mapfs::cli {
namespace {

struct MountArgs {
  std::vector<std::string> positional;
  std::string config;
  std::vector<std::string> options;
  bool foreground = false;
  bool debug = false;
  unsigned threads = 0;
  std::string log_level;
};

// Exit codes: 2 for a command line or configuration that is wrong as
// written, 1 for what fails when mounting.
constexpr int kUsageError = 2;
constexpr int kMountError = 1;

// The daemon-wide settings of the command line over one mount's options.
void ApplyCommandLine(const MountArgs& args, fs::MountOptions* opts) {
  opts->debug = opts->debug || args.debug;
  // Debug output goes to standard error, which a detached daemon has not.
  opts->foreground = opts->foreground || args.foreground || opts->debug;
  if (args.threads > 0) opts->threads = args.threads;
}

// A mounts.yaml mount's options in the form the filesystem takes.
fs::MountOptions FromConfig(const MountOptions& c) {
  fs::MountOptions o;
  o.allow_other = c.allow_other;
  o.default_permissions = c.default_permissions;
  o.debug = c.debug;
  o.uid = c.uid;
  o.gid = c.gid;
  if (c.mode) o.file_mode = static_cast<mode_t>(*c.mode);
  o.cache_timeout = c.cache_timeout;
  o.threads = static_cast<unsigned>(c.threads);
  return o;
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
    r.options = FromConfig(spec.options);
    ApplyCommandLine(args, &r.options);
    fs::TreeOptions tree_options;
    tree_options.render_cache_bytes = r.options.render_cache_bytes;
    Result<std::unique_ptr<fs::Tree>> tree = fs::Tree::Open(sources, tree_options);
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
    if (r.options.debug) requests[0].options.foreground = true;
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
  fs::MountOptions opts;
  for (const std::string& list : args.options) {
    Status st = fs::ParseMountOptions(list, &opts);
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
  ApplyCommandLine(args, &opts);
  Status st = fs::RunMount(args.positional[0], args.positional[1], opts);
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
                  "Mount options, comma-separated: allow_other, default_permissions, uid=N, "
                  "gid=N, mode=0444, cache_timeout=S, threads=N, open, debug, ro; rw and the "
                  "mount(8) generic options are accepted and ignored (mounts are read-only)")
      ->allow_extra_args(false);
  cmd->add_flag("-f,--foreground", args->foreground,
                "Stay in the foreground (default: return once every mount is ready)");
  cmd->add_flag("-d,--debug", args->debug,
                "Log every FUSE request and debug messages (implies -f)");
  cmd->add_option("--threads", args->threads, "Worker threads (default 2; 1 = single-threaded)");
  cmd->add_option("--log-level", args->log_level,
                  "debug, info (default), warn or error; errors and reloads are logged to "
                  "standard error, and to syslog once detached");
  cmd->callback([args] { ExitCode() = RunMountCommand(*args); });
}

const RegisterCommand kRegister(Register);

}  // namespace
}  // namespace mapfs::cli
