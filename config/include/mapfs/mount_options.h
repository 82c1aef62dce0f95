// Mount options: the one model of what a mount may be told, and the one
// validator of each option, used by both spellings (docs/mounts.md,
// "Options"): the `-o a,b=c` list of `mapfs mount` and the mount helper, and
// the `options` mapping of a mounts.yaml mount. Every option exists in both,
// with the same range and the same message for a bad value.
//
//   MountOptions o;
//   MAPFS_RETURN_IF_ERROR(ParseMountOptionList("allow_other,threads=4", &o));
//   MAPFS_RETURN_IF_ERROR(SetMountOption("mode", "0440", &o));  // a YAML value
#ifndef MAPFS_MOUNT_OPTIONS_H_
#define MAPFS_MOUNT_OPTIONS_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "mapfs/status.h"

namespace mapfs {

constexpr unsigned kMaxMountThreads = 256;
constexpr uint32_t kMaxMountMode = 0777;       // no setuid, setgid or sticky bit
constexpr uint64_t kMaxMountId = 0xfffffffe;   // (uid_t)-1 is "no change", no real id
constexpr uint64_t kMaxRenderCacheMb = uint64_t{1} << 20;

struct MountOptions {
  bool allow_other = false;          // FUSE allow_other: users other than the mounter see it
  bool default_permissions = false;  // FUSE default_permissions: the kernel checks `mode`
  bool debug = false;                // log every FUSE request (keeps the daemon in the foreground)
  std::optional<uint32_t> uid;       // owner of every node; unset: the mounting process's
  std::optional<uint32_t> gid;       // group of every node; unset: the mounting process's
  uint32_t mode = 0444;              // file permission bits; directories add x where r is set
  double cache_timeout = 3600;       // seconds: entries, attributes and negative entries
  unsigned threads = 2;              // FUSE worker threads, 1..256; 1 = single-threaded loop
  bool open = false;                 // take open/opendir (off: ENOSYS once, the kernel caches)
  bool exec = false;                 // allow executing files (off: the mount is noexec)
  bool passthrough = true;           // let the kernel read @segment from its file, where it can
  uint64_t render_cache_mb = 64;     // budget of the cache of rendered @json documents
};

// Sets option `name` from `value`: a YAML scalar, or the text after '=' in
// -o. A boolean option takes true or false, or no value at all (-o's
// "allow_other"), which means true; the others need a value. InvalidArgument
// naming the option, such as "'threads' must be an integer from 1 to 256,
// got '0'", or "unknown option 'x' (expected ...)".
Status SetMountOption(std::string_view name, std::optional<std::string_view> value,
                      MountOptions* opts);

// What option `name` takes, for messages ("true or false", "an integer from
// 1 to 256", ...); empty if there is no such option.
std::string_view MountOptionValueKind(std::string_view name);

// Applies a comma-separated -o list ("allow_other,uid=0,threads=4") to
// `opts`: every option of SetMountOption, and the spellings of mount(8):
// noexec, no_open (turn exec, open off), ro and rw (every mount is
// read-only; mount(8) passes rw unless told ro), and the generic names the
// kernel mount takes on its own (dev, nodev, suid, nosuid, atime, noatime,
// auto, noauto, user, nouser, _netdev). InvalidArgument names the item:
// "mount option 'threads=0': 'threads' must be ...".
Status ParseMountOptionList(std::string_view list, MountOptions* opts);

}  // namespace mapfs

#endif  // MAPFS_MOUNT_OPTIONS_H_
