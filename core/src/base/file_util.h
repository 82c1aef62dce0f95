// RAII owners for POSIX files and mappings, and atomic file output.
//
// One owner per OS resource: move-only, -1/nullptr sentinel, O_CLOEXEC. No raw
// close()/munmap() elsewhere in the project.
//
//   MAPFS_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open("people.mapfs"));
//   std::string_view bytes = file.data();   // valid while `file` lives
#ifndef MAPFS_FILE_UTIL_H_
#define MAPFS_FILE_UTIL_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "mapfs/status.h"

namespace mapfs {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) { Reset(); fd_ = std::exchange(o.fd_, -1); }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() { return std::exchange(fd_, -1); }
  void Reset(int fd = -1);

  // open(2) with O_CLOEXEC added; IOError naming `path` on failure.
  static Result<UniqueFd> Open(const std::string& path, int flags, int mode = 0644);

 private:
  int fd_ = -1;
};

// One mmap(2) region; unmapped on destruction.
class MappedRegion {
 public:
  MappedRegion() = default;
  MappedRegion(void* addr, size_t size) : addr_(addr), size_(size) {}
  ~MappedRegion() { Reset(); }
  MappedRegion(MappedRegion&& o) noexcept
      : addr_(std::exchange(o.addr_, nullptr)),
        size_(std::exchange(o.size_, 0)),
        guard_(std::exchange(o.guard_, -1)) {}
  MappedRegion& operator=(MappedRegion&& o) noexcept {
    if (this != &o) {
      Reset();
      addr_ = std::exchange(o.addr_, nullptr);
      size_ = std::exchange(o.size_, 0);
      guard_ = std::exchange(o.guard_, -1);
    }
    return *this;
  }
  MappedRegion(const MappedRegion&) = delete;
  MappedRegion& operator=(const MappedRegion&) = delete;

  void* addr() const { return addr_; }
  size_t size() const { return size_; }
  void Reset();
  // Puts the region under the truncation guard (InstallTruncationGuard) until
  // it is unmapped. False if the guard's table of regions is full.
  bool Guard();
  // True once the guard replaced a page of this region: its file shrank, and
  // what was read from it may be wrong.
  bool damaged() const;

  // mmap(2) of `size` bytes of `fd` at `offset`; an empty region for size 0.
  static Result<MappedRegion> Map(int fd, size_t size, int prot, int flags, off_t offset = 0);

 private:
  void* addr_ = nullptr;
  size_t size_ = 0;
  int guard_ = -1;  // index in the guard's table, or -1
};

// A file mapped MAP_SHARED is truncated under us if another process
// truncates or rewrites it in place; reading a page past the new end then
// raises SIGBUS, which kills the process. Once this is installed, such a read
// in a guarded region (MappedRegion::Guard; every MappedFile is) sees filler
// bytes instead: the page is replaced by an anonymous page, so the
// validation every reader does reports corruption and the process lives.
// The replaced page reads as 0xFF bytes (offsets and lengths out of range),
// and the region reports itself damaged() so readers can refuse it.
// SIGBUS elsewhere keeps its default action. Process-wide and idempotent;
// meant for long-running readers such as the mapfs daemon.
Status InstallTruncationGuard();
// Pages the guard has replaced since the process started.
uint64_t TruncatedPagesReplaced();

// A whole file mapped read-only (MAP_SHARED, PROT_READ), guarded (above).
class MappedFile {
 public:
  static Result<MappedFile> Open(const std::string& path);
  std::string_view data() const {
    return {static_cast<const char*>(region_.addr()), region_.size()};
  }
  const std::string& path() const { return path_; }
  // See MappedRegion::damaged.
  bool damaged() const { return region_.damaged(); }

 private:
  std::string path_;
  MappedRegion region_;
};

// Writes a file so that it appears complete or not at all: the bytes go to a
// temporary file beside `path`, which is fsynced and renamed over `path` on
// Commit(). Destroying it uncommitted removes the temporary file. The writer
// holds a lock on its temporary file, so that Create() can remove those of
// `path` left by writers that died (killed, crashed) and never a live one's.
class AtomicFileWriter {
 public:
  static Result<AtomicFileWriter> Create(const std::string& path, int mode = 0644);
  ~AtomicFileWriter();
  AtomicFileWriter(AtomicFileWriter&& o) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&&) = delete;
  AtomicFileWriter(const AtomicFileWriter&) = delete;

  Status Append(std::string_view bytes);
  // Writes at an absolute position (e.g. a header patched after the body).
  Status WriteAt(uint64_t offset, std::string_view bytes);
  uint64_t size() const { return size_; }
  int fd() const { return fd_.get(); }
  const std::string& temp_path() const { return temp_path_; }
  Status Commit();

 private:
  AtomicFileWriter() = default;
  std::string path_;
  std::string temp_path_;
  UniqueFd fd_;
  uint64_t size_ = 0;
  bool committed_ = false;
};

}  // namespace mapfs

#endif  // MAPFS_FILE_UTIL_H_
