// The FUSE low-level operations of a mount, over a Tree. Each handler
// replies exactly once; statuses become errno values in ErrnoOf only.
#ifndef MAPFS_FS_FUSE_OPS_H_
#define MAPFS_FS_FUSE_OPS_H_

#include <fuse_lowlevel.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "mapfs/mount_options.h"
#include "mapfs/status.h"
#include "passthrough.h"
#include "tree.h"

namespace mapfs::fs {

// Requests served, by kind: what a walk costs in kernel round trips (each
// one a switch to the daemon and back), logged when the mount ends.
struct RequestCounts {
  std::atomic<uint64_t> lookup{0};
  std::atomic<uint64_t> getattr{0};
  std::atomic<uint64_t> readdir{0};
  std::atomic<uint64_t> readdirplus{0};
  std::atomic<uint64_t> open{0};     // open and opendir
  std::atomic<uint64_t> read{0};
  std::atomic<uint64_t> forget{0};   // forget and batch forget requests
  std::atomic<uint64_t> other{0};
  // "lookup 3, getattr 0, ..., total 9".
  std::string ToString() const;
};

// The kernel's read-ahead window of a mount, in KiB, as the daemon sets it
// when it may: one FUSE request of the largest size the kernel sends (1 MiB,
// libfuse's max_write), instead of the default 128 KiB window that costs a
// sequential reader eight round trips per MiB (docs/mounts.md, "Read-ahead").
constexpr unsigned kReadAheadKb = 1024;

// What the handlers share: the session's userdata. Outlives the session.
struct FuseContext {
  Tree* tree = nullptr;
  MountOptions options;
  uid_t uid = 0;
  gid_t gid = 0;
  RequestCounts requests;
  // The mount's read_ahead_kb in sysfs (empty: unknown), raised to
  // kReadAheadKb by the first request after INIT: the kernel caps the
  // window at what the INIT reply says, which is at most the 128 KiB it
  // offers, so it can only be raised once that reply is in.
  std::string read_ahead_path;
  std::atomic<bool> read_ahead_done{false};
  std::mutex read_ahead_mu;
  // The session's I/O goes through MapfsIo, which gives it every request
  // and reply to see.
  Passthrough passthrough;
};

// Raises the read-ahead window of the mount at `path` (its sysfs
// read_ahead_kb) to `kb` if it is smaller. Needs root; IOError otherwise.
Status RaiseReadAhead(const std::string& path, unsigned kb);

// The sysfs read_ahead_kb of the FUSE mount at `mountpoint` (an absolute
// path without symbolic links), from the device numbers /proc/self/mountinfo
// gives it; NotFound if it is not mounted there.
Result<std::string> ReadAheadPathOf(const std::string& mountpoint);

// The one mapping from Status to errno: NotFound and OutOfRange -> ENOENT,
// Corruption -> EIO, IOError -> its errno, InvalidArgument -> EINVAL,
// NotSupported -> ENOTSUP, anything else -> EIO.
int ErrnoOf(const Status& st);

// The operation table (static storage).
const fuse_lowlevel_ops& MapfsOps();
// The session's I/O (fuse_session_custom_io, over the mount's /dev/fuse
// descriptor): plain reads and writes, with the session's userdata (a
// FuseContext) seeing each message for passthrough.
const fuse_custom_io& MapfsIo();

}  // namespace mapfs::fs

#endif  // MAPFS_FS_FUSE_OPS_H_
