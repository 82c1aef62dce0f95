// FUSE passthrough: the kernel reads an open file from a backing file itself
// (docs/mounts.md, "Passthrough").
//
// Linux 6.9 and later can serve the reads and mappings of an open FUSE file
// from a file the daemon registered (FUSE_DEV_IOC_BACKING_OPEN, root only),
// with no request to the daemon. mapfs registers the source file behind an
// open @segment: a read of it costs what a read of the segment file costs,
// and a mapping of it maps the segment file's own page cache, so a mapped
// @segment is in memory once, not once in the mount's cache and once in the
// daemon's mapping.
//
// libfuse 3.14 predates the protocol's fields for this (an INIT flag, the
// backing id of an open reply), so Passthrough adds them to the raw
// messages, through the session's custom I/O (fuse_session_custom_io):
// OnRequest notes whether the kernel's INIT offers passthrough; OnReply
// accepts it in the INIT reply, and sets the backing id of the open reply a
// handler marked (MarkOpenReply) in its own thread. Where the kernel does
// not offer it, or the daemon may not register files, every open is served
// by the daemon as before.
//
// The kernel takes every open of one inode in one mode: while one open of an
// inode reads through a backing file, every other open of it must name the
// same registration, and none may be served by the daemon. So registrations
// are per inode and counted by open (Acquire, Release), and an inode whose
// registration failed is served by the daemon for as long as it stays open.
#ifndef MAPFS_FS_PASSTHROUGH_H_
#define MAPFS_FS_PASSTHROUGH_H_

#include <sys/uio.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>

#include "file_util.h"
#include "mapfs/status.h"

namespace mapfs::fs {

class Passthrough {
 public:
  // The /dev/fuse descriptor of the session, for the registration ioctls.
  void set_device_fd(int fd) { device_fd_ = fd; }
  // Not to be used (the mount option passthrough=false): the INIT reply
  // declines it, and every open is served by the daemon.
  void Decline() { declined_ = true; }
  // True once the INIT reply accepted passthrough and registering has not
  // been refused.
  bool enabled() const {
    return accepted_.load(std::memory_order_acquire) && !refused_.load(std::memory_order_relaxed);
  }

  // A request as read from the device (`len` bytes).
  void OnRequest(const void* data, size_t len);
  // A reply about to be written (iov[0] is its header).
  void OnReply(iovec* iov, int count);

  // The backing id to open `ino` with, 0 to serve this open through the
  // daemon. The first open of `ino` calls `open_file` and registers the
  // file; later ones share its registration while any is open. Each call
  // must be matched by one Release(ino) once the open ends.
  int Acquire(uint64_t ino, const std::function<Result<UniqueFd>()>& open_file);
  void Release(uint64_t ino);

  // The next reply the calling thread writes is the reply to an open, to be
  // read through backing id `id` (0: none).
  static void MarkOpenReply(int id);

  // Registered inodes (for tests and stats).
  size_t registered() const;

 private:
  struct Registration {
    int id = 0;  // 0: this inode's opens are served by the daemon
    uint64_t opens = 0;
  };

  int device_fd_ = -1;
  bool declined_ = false;
  std::atomic<uint64_t> init_unique_{0};
  std::atomic<bool> offered_{false};
  std::atomic<bool> accepted_{false};
  std::atomic<bool> refused_{false};
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, Registration> open_;
};

}  // namespace mapfs::fs

#endif  // MAPFS_FS_PASSTHROUGH_H_
