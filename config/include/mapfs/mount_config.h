// Loading the mount configuration YAML (docs/mounts.md): which
// sources each mount shows, where, and with which FUSE options.
//
// The loader checks the whole file before returning, so a caller that mounts
// only a loaded config never mounts half of a broken one. Every error is
// InvalidArgument with a message "FILE:LINE:COL: reason", 1-based, pointing at
// the offending YAML node:
//
//   Result<MountConfig> config = LoadMountConfig("/etc/mapfs/catalog.yaml");
//   if (!config.ok()) std::cerr << config.status().message() << "\n";
//   // /etc/mapfs/catalog.yaml:6:16: 'threads' must be an integer from 1 to 256, got '0'
//
//   MAPFS_ASSIGN_OR_RETURN(std::vector<MountSpec> chosen, SelectMounts(*config, {"catalog"}));
#ifndef MAPFS_MOUNT_CONFIG_H_
#define MAPFS_MOUNT_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mapfs/mount_options.h"
#include "mapfs/status.h"

namespace mapfs {

// One entry of a mount's `sources`: what appears as MOUNTPOINT/<name>.
struct MountSource {
  enum class Kind {
    kPath,         // a segment file or a directory of segments (which one is
                   // decided when mounting: the loader does not touch the disk)
    kSharedArray,  // a shared array in POSIX shared memory, shown as a .npy file
  };
  std::string name;  // a valid file name: not empty, no '/', no NUL, no leading '.' or '@'
  Kind kind = Kind::kPath;
  // kPath: an absolute, lexically normalized path (a relative one in the file
  // is resolved against the config file's directory). kSharedArray: the shm
  // object name, without "shm://".
  std::string path;
  std::string where;  // "FILE:LINE:COL" of the value, to prefix later errors
};

// One mount: a name (for `mapfs mount --config FILE NAME` and messages), a
// mountpoint, and its sources in file order.
struct MountSpec {
  std::string name;
  std::string mountpoint;  // absolute, lexically normalized, no trailing '/'
  std::vector<MountSource> sources;
  MountOptions options;  // mapfs/mount_options.h
  std::string where;  // "FILE:LINE:COL" of the mount's name
};

// A whole mount configuration file, mounts in file order.
struct MountConfig {
  std::string path;  // the file it came from (as given), for messages
  std::vector<MountSpec> mounts;

  // The mount named `name`, or nullptr. The pointer lives as long as `this`.
  const MountSpec* Find(std::string_view name) const;
};

// Reads and parses the mount configuration at `path`. Relative paths inside
// it are resolved against the directory holding `path`. A file that cannot be
// read is an IOError naming it (errno kept).
Result<MountConfig> LoadMountConfig(const std::string& path);

// Parses mount configuration YAML held in memory. `filename` labels error
// messages, and relative paths inside are resolved against its directory (the
// current directory if it has none).
Result<MountConfig> ParseMountConfig(std::string_view yaml_text, std::string_view filename);

// The mounts named in `names`, in that order; every mount of `config`, in file
// order, when `names` is empty. NotFound naming the first unknown name (and
// listing the known ones); InvalidArgument for a name given twice.
Result<std::vector<MountSpec>> SelectMounts(const MountConfig& config,
                                            const std::vector<std::string>& names);

}  // namespace mapfs

#endif  // MAPFS_MOUNT_CONFIG_H_
