// Mounting a source and serving it: checks the mount point (reporting or
// cleaning a stale mount, never hanging on one), mounts, detaches from the
// terminal unless in the foreground, and runs the FUSE loop until unmounted
// (fusermount3 -u, umount) or signalled (SIGINT, SIGTERM, SIGHUP).
#ifndef MAPFS_FS_MOUNT_H_
#define MAPFS_FS_MOUNT_H_

#include <string>

#include "mapfs/status.h"
#include "mount_options.h"

namespace mapfs::fs {

// Opens SOURCE (a segment file or a directory of them) and mounts it at
// `mountpoint`. In the foreground, returns when the mount goes away. In the
// background, the calling process exits with status 0 as soon as the mount
// is ready (the daemon goes on in a child) and only errors return here.
Status RunMount(const std::string& source, const std::string& mountpoint,
                const MountOptions& options);

// Errors when `mountpoint` cannot be mounted on: missing, not a directory,
// already a mount point. A stale FUSE mount (ENOTCONN) is detached first and
// reported as a note on standard error; if that fails the error says how to
// clean it.
Status PrepareMountpoint(const std::string& mountpoint);

}  // namespace mapfs::fs

#endif  // MAPFS_FS_MOUNT_H_
