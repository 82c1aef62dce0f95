// Spill files for the segment builder: unnamed temp files that hold sorted
// index runs and the record offset table until Finish() copies them out.
#include <fcntl.h>
#include <unistd.h>

#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "segment_internal.h"

namespace mapfs::internal {
namespace {
constexpr size_t kSpillBuffer = size_t{1} << 20;
}  // namespace

Result<std::unique_ptr<SpillFile>> SpillFile::Create(const std::string& dir) {
  std::unique_ptr<SpillFile> f(new SpillFile());
  const std::string d = dir.empty() ? "." : dir;
  f->name_ = "temp file in " + d;
  int fd = ::open(d.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) {
    f->fd_.Reset(fd);
  } else {
    // Filesystems without O_TMPFILE: a named file, unlinked at once so it
    // vanishes with the descriptor whatever happens to the process.
    std::string pattern = d + "/.mapfs-spill-XXXXXX";
    fd = ::mkostemp(pattern.data(), O_CLOEXEC);
    if (fd < 0) return Status::FromErrno("temp file in " + d);
    f->fd_.Reset(fd);
    ::unlink(pattern.c_str());
  }
  f->buffer_.reserve(kSpillBuffer);
  return f;
}

Status SpillFile::Append(const void* data, size_t size) {
  if (buffer_.size() + size > kSpillBuffer) MAPFS_RETURN_IF_ERROR(Flush());
  if (size > kSpillBuffer) {
    // Larger than the buffer: write through.
    buffer_.assign(static_cast<const char*>(data), size);
    size_ += size;
    return Flush();
  }
  buffer_.append(static_cast<const char*>(data), size);
  size_ += size;
  return Status::OK();
}

Status SpillFile::Flush() {
  const char* p = buffer_.data();
  size_t left = buffer_.size();
  while (left > 0) {
    ssize_t n = ::pwrite(fd_.get(), p, left, static_cast<off_t>(flushed_));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(name_);
    }
    p += n;
    left -= static_cast<size_t>(n);
    flushed_ += static_cast<uint64_t>(n);
  }
  buffer_.clear();
  return Status::OK();
}

Status PreadFully(int fd, uint64_t offset, void* out, size_t size, std::string_view what) {
  char* p = static_cast<char*>(out);
  while (size > 0) {
    ssize_t n = ::pread(fd, p, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(what);
    }
    if (n == 0) return Status::IOError(std::string(what) + ": unexpected end of file", EIO);
    p += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return Status::OK();
}

Status SpillFile::ReadAt(uint64_t offset, void* out, size_t size) const {
  return PreadFully(fd_.get(), offset, out, size, name_);
}

SpillReader::SpillReader(const SpillFile* file, uint64_t begin, uint64_t end,
                         size_t buffer_size)
    : file_(file), pos_(begin), end_(end), buffer_(buffer_size, '\0') {}

Result<bool> SpillReader::Read(void* out, size_t size) {
  char* dst = static_cast<char*>(out);
  while (size > 0) {
    if (buf_pos_ == buf_len_) {
      if (pos_ >= end_) return false;
      size_t n = static_cast<size_t>(std::min<uint64_t>(buffer_.size(), end_ - pos_));
      MAPFS_RETURN_IF_ERROR(file_->ReadAt(pos_, buffer_.data(), n));
      pos_ += n;
      buf_pos_ = 0;
      buf_len_ = n;
    }
    size_t take = std::min(size, buf_len_ - buf_pos_);
    std::memcpy(dst, buffer_.data() + buf_pos_, take);
    dst += take;
    buf_pos_ += take;
    size -= take;
    if (size > 0 && buf_pos_ == buf_len_ && pos_ >= end_) {
      return Status::IOError("spill file: truncated run", EIO);
    }
  }
  return true;
}

SectionStream::SectionStream(AtomicFileWriter* out, uint64_t begin)
    : out_(out), begin_(begin), hash_state_(XXH3_createState()) {
  XXH3_64bits_reset(static_cast<XXH3_state_t*>(hash_state_));
  buffer_.reserve(kSpillBuffer);
}

SectionStream::~SectionStream() { XXH3_freeState(static_cast<XXH3_state_t*>(hash_state_)); }

Status SectionStream::Append(const void* data, size_t size) {
  XXH3_64bits_update(static_cast<XXH3_state_t*>(hash_state_), data, size);
  if (buffer_.size() + size > kSpillBuffer) MAPFS_RETURN_IF_ERROR(Flush());
  size_ += size;
  if (size > kSpillBuffer) {
    uint64_t at = begin_ + flushed_;
    flushed_ += size;
    return out_->WriteAt(at, std::string_view(static_cast<const char*>(data), size));
  }
  buffer_.append(static_cast<const char*>(data), size);
  return Status::OK();
}

Status SectionStream::AppendSpill(const SpillFile& file) {
  std::string chunk(kSpillBuffer, '\0');
  for (uint64_t pos = 0; pos < file.size();) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(chunk.size(), file.size() - pos));
    MAPFS_RETURN_IF_ERROR(file.ReadAt(pos, chunk.data(), n));
    MAPFS_RETURN_IF_ERROR(Append(chunk.data(), n));
    pos += n;
  }
  return Status::OK();
}

Status SectionStream::ReadBack(uint64_t offset, void* out, size_t size) {
  if (offset >= flushed_) {
    std::memcpy(out, buffer_.data() + (offset - flushed_), size);
    return Status::OK();
  }
  MAPFS_RETURN_IF_ERROR(Flush());
  return PreadFully(out_->fd(), begin_ + offset, out, size, out_->temp_path());
}

Status SectionStream::Flush() {
  if (buffer_.empty()) return Status::OK();
  MAPFS_RETURN_IF_ERROR(out_->WriteAt(begin_ + flushed_, buffer_));
  flushed_ += buffer_.size();
  buffer_.clear();
  return Status::OK();
}

uint64_t SectionStream::Checksum() const {
  return XXH3_64bits_digest(static_cast<const XXH3_state_t*>(hash_state_));
}

}  // namespace mapfs::internal
