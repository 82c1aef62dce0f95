// RAII owners for fds and mappings, and the temp-then-rename writer.
#include "file_util.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

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

Result<AtomicFileWriter> AtomicFileWriter::Create(const std::string& path, int mode) {
  AtomicFileWriter w;
  w.path_ = path;
  std::string pattern = path + ".tmp-XXXXXX";
  int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(path);
  w.fd_.Reset(fd);
  w.temp_path_ = pattern;
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) {
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
  fd_.Reset();
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) return Status::FromErrno(path_);
  committed_ = true;
  return Status::OK();
}

}  // namespace mapfs
