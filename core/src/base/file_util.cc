// RAII owners for fds and mappings, and the temp-then-rename writer.
#include "mapfs/file_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <memory>

#include "truncation_guard.h"

namespace mapfs {

void UniqueFd::Reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Result<UniqueFd> UniqueFd::Open(const std::string& path, int flags, int mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return Status::FromErrno(path);
  return UniqueFd(fd);
}

void MappedRegion::Reset() {
  internal::UnguardRange(guard_);
  guard_ = -1;
  if (addr_ != nullptr && size_ > 0) ::munmap(addr_, size_);
  addr_ = nullptr;
  size_ = 0;
}

Result<MappedRegion> MappedRegion::Map(int fd, size_t size, int prot, int flags, off_t offset) {
  if (size == 0) return MappedRegion();
  void* addr = ::mmap(nullptr, size, prot, flags, fd, offset);
  if (addr == MAP_FAILED) return Status::FromErrno("mmap");
  return MappedRegion(addr, size);
}

Result<MappedFile> MappedFile::Open(const std::string& path) {
  MAPFS_ASSIGN_OR_RETURN(UniqueFd fd, UniqueFd::Open(path, O_RDONLY));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno(path);
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(path + ": not a regular file");
  MappedFile file;
  file.path_ = path;
  auto region = MappedRegion::Map(fd.get(), static_cast<size_t>(st.st_size), PROT_READ, MAP_SHARED);
  if (!region.ok()) return region.status().WithContext(path);
  file.region_ = std::move(region).value();
  file.region_.Guard();  // best effort: without it a truncation is SIGBUS, as before
  return file;
}

namespace {

// The temp files of `path` are `path.tmp-XXXXXX` (mkostemp's six letters and
// digits), each locked (flock) by its writer until renamed into place. One
// whose lock is free was left by a writer that died (SIGKILL, a crash):
// removed, unless it is no longer the file that was locked.
void RemoveStaleTempFiles(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, std::max<size_t>(slash, 1));
  const std::string prefix = path.substr(slash == std::string::npos ? 0 : slash + 1) + ".tmp-";
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) return;
  while (const dirent* e = ::readdir(d.get())) {
    const std::string_view name = e->d_name;
    if (name.size() != prefix.size() + 6 || !name.starts_with(prefix) ||
        !std::all_of(name.begin() + prefix.size(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)); })) {
      continue;
    }
    const std::string temp = dir + "/" + std::string(name);
    UniqueFd fd(::open(temp.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    struct stat locked, now;
    if (fd.valid() && ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0 &&
        ::fstat(fd.get(), &locked) == 0 && ::lstat(temp.c_str(), &now) == 0 &&
        S_ISREG(now.st_mode) && locked.st_ino == now.st_ino && locked.st_dev == now.st_dev) {
      ::unlink(temp.c_str());
    }
  }
}

}  // namespace

Result<AtomicFileWriter> AtomicFileWriter::Create(const std::string& path, int mode) {
  RemoveStaleTempFiles(path);
  AtomicFileWriter w;
  w.path_ = path;
  std::string pattern;
  for (;;) {
    pattern = path + ".tmp-XXXXXX";
    int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(path);
    w.fd_.Reset(fd);
    // Locked while this writer lives (RemoveStaleTempFiles). A file removed
    // as stale between its creation and the lock has no link left: retry.
    struct stat st;
    if (::flock(fd, LOCK_EX) != 0 || ::fstat(fd, &st) != 0) {
      Status err = Status::FromErrno(pattern);
      ::unlink(pattern.c_str());
      return err;
    }
    if (st.st_nlink > 0) break;
  }
  w.temp_path_ = pattern;
  if (::fchmod(w.fd_.get(), static_cast<mode_t>(mode)) != 0) {
    Status st = Status::FromErrno(pattern);
    ::unlink(pattern.c_str());
    return st;
  }
  return w;
}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& o) noexcept
    : path_(std::move(o.path_)),
      temp_path_(std::move(o.temp_path_)),
      fd_(std::move(o.fd_)),
      size_(o.size_),
      committed_(std::exchange(o.committed_, true)) {}

AtomicFileWriter::~AtomicFileWriter() {
  if (!committed_ && !temp_path_.empty()) ::unlink(temp_path_.c_str());
}

Status AtomicFileWriter::Append(std::string_view bytes) {
  MAPFS_RETURN_IF_ERROR(WriteAt(size_, bytes));
  return Status::OK();
}

Status AtomicFileWriter::WriteAt(uint64_t offset, std::string_view bytes) {
  const char* p = bytes.data();
  size_t left = bytes.size();
  uint64_t pos = offset;
  while (left > 0) {
    ssize_t n = ::pwrite(fd_.get(), p, left, static_cast<off_t>(pos));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(temp_path_);
    }
    p += n;
    left -= static_cast<size_t>(n);
    pos += static_cast<uint64_t>(n);
  }
  if (pos > size_) size_ = pos;
  return Status::OK();
}

Status AtomicFileWriter::Commit() {
  if (::fsync(fd_.get()) != 0) return Status::FromErrno(temp_path_);
  // Renamed while still locked, so that it is never taken for a stale file.
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) return Status::FromErrno(path_);
  fd_.Reset();
  committed_ = true;
  return Status::OK();
}

}  // namespace mapfs
