// Mount options: the one place that parses `-o a,b=c` for `mapfs mount`
// (and later the mount helper and mounts.yaml), so every entry point accepts
// the same names with the same meaning (docs/layout.md, "Mounting").
#ifndef MAPFS_FS_MOUNT_OPTIONS_H_
#define MAPFS_FS_MOUNT_OPTIONS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "mapfs/status.h"

namespace mapfs::fs {

struct MountOptions {
  bool foreground = false;
  bool debug = false;
  bool allow_other = false;
  bool default_permissions = false;
  std::optional<uid_t> uid;  // owner shown for every node (default: the mounting user)
  std::optional<gid_t> gid;
  mode_t file_mode = 0444;   // directories add x wherever r is set
  double cache_timeout = 3600;  // seconds; entries, attributes and negative entries
  unsigned threads = 2;         // 1 = single-threaded loop
  bool no_open = true;          // answer open/opendir with ENOSYS once (kernel caches)
  size_t render_cache_bytes = size_t{64} << 20;
};

// Applies a comma-separated option list ("allow_other,uid=0,threads=4") to
// `opts`. Known: allow_other, default_permissions, ro (implied), uid=, gid=,
// mode= (octal), cache_timeout=, threads=, open (turns no_open off),
// no_open, debug, render_cache_mb=; also the FUSE-generic names the kernel
// mount ignores harmlessly (dev, suid, nodev, nosuid, exec, noexec, atime,
// noatime, auto, noauto, user, nouser, _netdev). rw is accepted because
// mount(8) passes it by default, but every mount is read-only.
// InvalidArgument names the offending option.
Status ParseMountOptions(std::string_view list, MountOptions* opts);

}  // namespace mapfs::fs

#endif  // MAPFS_FS_MOUNT_OPTIONS_H_
