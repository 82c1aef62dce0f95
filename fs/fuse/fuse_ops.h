// The FUSE low-level operations of a mount, over a Tree. Each handler
// replies exactly once; statuses become errno values in ErrnoOf only.
#ifndef MAPFS_FS_FUSE_OPS_H_
#define MAPFS_FS_FUSE_OPS_H_

#include <fuse_lowlevel.h>
#include <sys/types.h>

#include "mapfs/mount_options.h"
#include "mapfs/status.h"
#include "tree.h"

namespace mapfs::fs {

// What the handlers share: the session's userdata. Outlives the session.
struct FuseContext {
  Tree* tree = nullptr;
  MountOptions options;
  uid_t uid = 0;
  gid_t gid = 0;
};

// The one mapping from Status to errno: NotFound and OutOfRange -> ENOENT,
// Corruption -> EIO, IOError -> its errno, InvalidArgument -> EINVAL,
// NotSupported -> ENOTSUP, anything else -> EIO.
int ErrnoOf(const Status& st);

// The operation table (static storage).
const fuse_lowlevel_ops& MapfsOps();

}  // namespace mapfs::fs

#endif  // MAPFS_FS_FUSE_OPS_H_
