// Mounting trees and serving them: checks every mount point (reporting or
// cleaning a stale mount, never hanging on one), mounts, detaches from the
// terminal unless in the foreground, watches the sources for replacements,
// and runs one FUSE loop per mount until each is unmounted (fusermount3 -u,
// umount) or the process is signalled (SIGINT, SIGTERM, SIGHUP), which
// unmounts them all.
#ifndef MAPFS_FS_MOUNT_H_
#define MAPFS_FS_MOUNT_H_

#include <memory>
#include <string>
#include <vector>

#include "mapfs/mount_options.h"
#include "mapfs/status.h"
#include "tree.h"

namespace mapfs::fs {

// One mount of a daemon. `foreground` of the first request decides for the
// whole process.
struct MountRequest {
  std::string label;       // for messages and the fsname shown by mount(8)
  std::unique_ptr<Tree> tree;
  std::string mountpoint;
  MountOptions options;    // mapfs/mount_options.h
  bool foreground = false; // stay attached to the terminal (-f, or debug output)
};

// Mounts every request, or none: all mount points are checked first, and a
// mount that fails undoes the ones made before it. Then serves them all, in
// the foreground or (the calling process exiting 0 once all are ready) in a
// detached daemon, until every mount is gone.
Status RunMounts(std::vector<MountRequest> requests);

// Opens SOURCE (a segment file or a directory of them) and mounts it at
// `mountpoint`. In the foreground, returns when the mount goes away. In the
// background, the calling process exits with status 0 as soon as the mount
// is ready (the daemon goes on in a child) and only errors return here.
Status RunMount(const std::string& source, const std::string& mountpoint,
                const MountOptions& options, bool foreground);

// Errors when `mountpoint` cannot be mounted on: missing, not a directory,
// already a mount point. A stale FUSE mount (ENOTCONN) is detached first and
// reported as a note on standard error; if that fails the error says how to
// clean it.
Status PrepareMountpoint(const std::string& mountpoint);

}  // namespace mapfs::fs

#endif  // MAPFS_FS_MOUNT_H_
