// FUSE passthrough through libfuse's custom I/O; see passthrough.h.
#include "passthrough.h"

#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "log.h"

namespace mapfs::fs {

namespace {

// The kernel's FUSE protocol (include/uapi/linux/fuse.h, 7.40), of which
// the headers Debian 12 ships know only the older part.
constexpr uint32_t kOpInit = 26;
constexpr uint64_t kInitExt = uint64_t{1} << 30;
constexpr uint64_t kInitPassthrough = uint64_t{1} << 37;  // in flags2 as bit 5
constexpr uint32_t kOpenPassthrough = 1u << 7;            // FOPEN_PASSTHROUGH
// Backing files may sit on filesystems that stack on nothing (ext4, xfs),
// not on overlayfs; the mount itself then counts as one level of stacking.
constexpr uint32_t kMaxStackDepth = 1;

// struct fuse_in_header: len, opcode, unique, nodeid, uid, gid, pid, ...
constexpr size_t kInHeaderSize = 40;
constexpr size_t kInOpcode = 4;
constexpr size_t kInUnique = 8;
// struct fuse_init_in: major, minor, max_readahead, flags, flags2, ...
constexpr size_t kInitInFlags = 12;
constexpr size_t kInitInFlags2 = 16;
// struct fuse_out_header: len, error, unique.
constexpr size_t kOutHeaderSize = 16;
constexpr size_t kOutError = 4;
constexpr size_t kOutUnique = 8;
// struct fuse_init_out: ..., flags at 12, ..., flags2 at 32, max_stack_depth at 36.
constexpr size_t kInitOutFlags = 12;
constexpr size_t kInitOutFlags2 = 32;
constexpr size_t kInitOutStackDepth = 36;
// struct fuse_open_out: fh, open_flags, backing_id.
constexpr size_t kOpenOutSize = 16;
constexpr size_t kOpenOutFlags = 8;
constexpr size_t kOpenOutBackingId = 12;

struct BackingMap {
  int32_t fd;
  uint32_t flags;
  uint64_t padding;
};
constexpr unsigned long kIocBackingOpen = _IOW(229, 1, BackingMap);
constexpr unsigned long kIocBackingClose = _IOW(229, 2, uint32_t);

template <typename T>
T Load(const void* base, size_t offset) {
  T v;
  std::memcpy(&v, static_cast<const char*>(base) + offset, sizeof v);
  return v;
}

template <typename T>
void Store(void* base, size_t offset, T v) {
  std::memcpy(static_cast<char*>(base) + offset, &v, sizeof v);
}

thread_local int t_open_reply_backing_id = 0;

}  // namespace

void Passthrough::MarkOpenReply(int id) { t_open_reply_backing_id = id; }

void Passthrough::OnRequest(const void* data, size_t len) {
  if (len < kInHeaderSize + kInitInFlags2 + sizeof(uint32_t)) return;
  if (Load<uint32_t>(data, kInOpcode) != kOpInit) return;
  const char* init = static_cast<const char*>(data) + kInHeaderSize;
  uint64_t flags = Load<uint32_t>(init, kInitInFlags);
  if (flags & kInitExt) flags |= uint64_t{Load<uint32_t>(init, kInitInFlags2)} << 32;
  offered_.store((flags & kInitPassthrough) != 0, std::memory_order_relaxed);
  init_unique_.store(Load<uint64_t>(data, kInUnique), std::memory_order_release);
}

void Passthrough::OnReply(iovec* iov, int count) {
  if (count < 1 || iov[0].iov_len < kOutHeaderSize) return;
  const int32_t error = Load<int32_t>(iov[0].iov_base, kOutError);
  const int backing_id = std::exchange(t_open_reply_backing_id, 0);
  if (backing_id != 0) {
    if (error == 0 && count == 2 && iov[1].iov_len == kOpenOutSize) {
      void* open_out = iov[1].iov_base;
      Store<uint32_t>(open_out, kOpenOutFlags,
                      Load<uint32_t>(open_out, kOpenOutFlags) | kOpenPassthrough);
      Store<int32_t>(open_out, kOpenOutBackingId, backing_id);
    }
    return;
  }
  const uint64_t unique = Load<uint64_t>(iov[0].iov_base, kOutUnique);
  if (unique == 0 || unique != init_unique_.load(std::memory_order_acquire)) return;
  init_unique_.store(0, std::memory_order_relaxed);
  if (declined_) {
    LogDebug("passthrough: off (mount option)");
    return;
  }
  if (!offered_.load(std::memory_order_relaxed) || error != 0 || count != 2 ||
      iov[1].iov_len < kInitOutStackDepth + sizeof(uint32_t)) {
    LogDebug("passthrough: not offered by the kernel; files are read through the daemon");
    return;
  }
  void* init_out = iov[1].iov_base;
  Store<uint32_t>(init_out, kInitOutFlags,
                  Load<uint32_t>(init_out, kInitOutFlags) | static_cast<uint32_t>(kInitExt));
  Store<uint32_t>(init_out, kInitOutFlags2,
                  Load<uint32_t>(init_out, kInitOutFlags2) |
                      static_cast<uint32_t>(kInitPassthrough >> 32));
  Store<uint32_t>(init_out, kInitOutStackDepth, kMaxStackDepth);
  accepted_.store(true, std::memory_order_release);
  LogDebug("passthrough: on (the kernel reads @segment files itself)");
}

int Passthrough::Acquire(uint64_t ino, const std::function<Result<UniqueFd>()>& open_file) {
  std::lock_guard<std::mutex> lock(mu_);
  Registration& r = open_[ino];
  if (r.opens++ > 0) return r.id;
  if (!enabled()) return 0;
  Result<UniqueFd> file = open_file();
  if (!file.ok()) {
    LogDebug("passthrough of inode %llu: %s", static_cast<unsigned long long>(ino),
             file.status().ToString().c_str());
    return 0;
  }
  BackingMap map{file->get(), 0, 0};
  const int id = ::ioctl(device_fd_, kIocBackingOpen, &map);
  if (id > 0) {
    r.id = id;
  } else if (errno == EPERM || errno == ENOTTY || errno == EINVAL) {
    // Not permitted (the daemon is not root) or not understood: ask no more.
    LogDebug("passthrough refused: %s; files are read through the daemon", std::strerror(errno));
    refused_.store(true, std::memory_order_relaxed);
  } else {
    LogDebug("passthrough of inode %llu: %s", static_cast<unsigned long long>(ino),
             std::strerror(errno));
  }
  return r.id;
}

void Passthrough::Release(uint64_t ino) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = open_.find(ino);
  if (it == open_.end() || --it->second.opens > 0) return;
  if (it->second.id > 0) {
    // The kernel's open files hold the backing file: only the id goes.
    uint32_t id = static_cast<uint32_t>(it->second.id);
    (void)::ioctl(device_fd_, kIocBackingClose, &id);
  }
  open_.erase(it);
}

size_t Passthrough::registered() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& [ino, r] : open_) n += r.id > 0;
  return n;
}

}  // namespace mapfs::fs
