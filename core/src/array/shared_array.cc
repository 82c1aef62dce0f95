// SharedArray on Boost.Interprocess: create, attach, remove and list named
// arrays, validating every header read from a mapping or /dev/shm against
// the object's real size (format: docs/arrays.md, shared_array_format.h).
//
// Boost.Interprocess reports failures by exception; they are caught here and
// never cross the API.
#include "mapfs/shared_array.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <boost/interprocess/exceptions.hpp>
#include <boost/interprocess/file_mapping.hpp>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cerrno>
#include <climits>
#include <cstring>
#include <limits>

#include "mapfs/file_util.h"
#include "shared_array_format.h"

namespace mapfs {

namespace bip = boost::interprocess;
namespace fmt = shared_array_format;

static_assert(std::endian::native == std::endian::little,
              "shared array headers and data are little-endian");

struct SharedArray::Mapping {
  bip::mapped_region region;
};

namespace {

constexpr const char kShmDir[] = "/dev/shm";

// A header that passed validation, in host form.
struct ValidHeader {
  DType dtype;
  std::vector<uint64_t> shape;
  uint64_t data_offset;
  uint64_t data_size;
};

Status Corrupt(const std::string& uri, const std::string& why) {
  return Status::Corruption(uri + ": " + why);
}

// Checks `h` (a private copy, so concurrent writers cannot change it between
// check and use) against the object's size.
Result<ValidHeader> Validate(const fmt::Header& h, uint64_t object_size, const std::string& uri) {
  if (std::memcmp(h.magic, fmt::kMagic, sizeof h.magic) != 0) {
    return Corrupt(uri, "bad magic: not a mapfs shared array");
  }
  if (h.version != fmt::kVersion) {
    return Status::NotSupported(uri + ": shared array version " + std::to_string(h.version) +
                                " (this build reads version " + std::to_string(fmt::kVersion) +
                                ")");
  }
  if (h.dtype >= kDTypeCount) return Corrupt(uri, "bad dtype " + std::to_string(h.dtype));
  if (h.ndim > fmt::kMaxDims) {
    return Corrupt(uri, "ndim " + std::to_string(h.ndim) + " exceeds " +
                            std::to_string(fmt::kMaxDims));
  }
  if (h.reserved != 0) return Corrupt(uri, "reserved header bytes are not zero");
  for (uint32_t d = h.ndim; d < fmt::kMaxDims; ++d) {
    if (h.shape[d] != 0) return Corrupt(uri, "shape entry past ndim is not zero");
  }
  ValidHeader v;
  v.dtype = static_cast<DType>(h.dtype);
  v.shape.assign(h.shape, h.shape + h.ndim);
  uint64_t bytes = DTypeSize(v.dtype);
  for (uint64_t n : v.shape) {
    if (__builtin_mul_overflow(bytes, n, &bytes)) return Corrupt(uri, "shape product overflows");
  }
  if (bytes != h.data_size) {
    return Corrupt(uri, "shape needs " + std::to_string(bytes) + " bytes but data size is " +
                            std::to_string(h.data_size));
  }
  if (h.data_offset < fmt::kHeaderSize || h.data_offset % fmt::kHeaderSize != 0) {
    return Corrupt(uri, "data offset " + std::to_string(h.data_offset) + " is not page-aligned "
                        "after the header");
  }
  uint64_t end;
  if (__builtin_add_overflow(h.data_offset, h.data_size, &end) || end > object_size) {
    return Corrupt(uri, "data (offset " + std::to_string(h.data_offset) + ", " +
                            std::to_string(h.data_size) + " bytes) runs past the end of the " +
                            std::to_string(object_size) + "-byte object");
  }
  v.data_offset = h.data_offset;
  v.data_size = h.data_size;
  return v;
}

Status FromBoost(const bip::interprocess_exception& e, const std::string& uri) {
  switch (e.get_error_code()) {
    case bip::already_exists_error: return Status::AlreadyExists(uri + ": already exists");
    case bip::not_found_error: return Status::NotFound(uri + ": no such shared array");
    default: break;
  }
  int err = e.get_native_error();
  if (err == 0) return Status::IOError(uri + ": " + e.what(), EIO);
  return Status::IOError(uri + ": " + std::strerror(err), err);
}

// Either kind of backing object, opened; `fd` borrows its descriptor.
struct OpenObject {
  std::optional<bip::shared_memory_object> shm;
  std::optional<bip::file_mapping> file;
  int fd = -1;
};

// Maps the whole object; `size` must be its current size (> 0).
Result<bip::mapped_region> MapObject(const OpenObject& obj, bip::mode_t mode, uint64_t size,
                                     const std::string& uri) {
  try {
    if (obj.shm) return bip::mapped_region(*obj.shm, mode, 0, size);
    return bip::mapped_region(*obj.file, mode, 0, size);
  } catch (const bip::interprocess_exception& e) {
    return FromBoost(e, uri);
  }
}

Result<uint64_t> ObjectSize(int fd, const std::string& uri) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::FromErrno(uri);
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(uri + ": not a regular file");
  return static_cast<uint64_t>(st.st_size);
}

// Removes the object behind `u`; errno is set when it returns false.
bool RemoveObject(const SharedArrayUri& u) {
  if (u.scheme == SharedArrayUri::Scheme::kShm) {
    return bip::shared_memory_object::remove(u.target.c_str());
  }
  return ::unlink(u.target.c_str()) == 0;
}

// Reads the header of an object by descriptor (no mapping), for List and Remove.
Result<fmt::Header> ReadHeader(int fd, uint64_t size, const std::string& uri) {
  fmt::Header h;
  if (size < fmt::kHeaderSize) {
    return Corrupt(uri, "object is " + std::to_string(size) + " bytes, smaller than the " +
                            std::to_string(fmt::kHeaderSize) + "-byte header");
  }
  ssize_t n;
  do {
    n = ::pread(fd, &h, sizeof h, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Status::FromErrno(uri);
  if (static_cast<size_t>(n) != sizeof h) return Corrupt(uri, "short header read");
  return h;
}

}  // namespace

Result<SharedArrayUri> SharedArrayUri::Parse(std::string_view uri) {
  SharedArrayUri u;
  std::string_view rest = uri;
  if (rest.starts_with("file://")) {
    u.scheme = Scheme::kFile;
    rest.remove_prefix(7);
  } else if (rest.starts_with("shm://")) {
    rest.remove_prefix(6);
  } else if (rest.find("://") != std::string_view::npos) {
    return Status::InvalidArgument(std::string(uri) + ": unknown scheme (use shm:// or file://)");
  }
  if (rest.empty()) return Status::InvalidArgument(std::string(uri) + ": empty name");
  if (rest.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument(std::string(uri) + ": name contains NUL");
  }
  if (u.scheme == Scheme::kShm &&
      (rest.find('/') != std::string_view::npos || rest == "." || rest == ".." ||
       rest.size() > NAME_MAX)) {
    return Status::InvalidArgument(std::string(uri) +
                                   ": a shm name is one path component of at most 255 bytes");
  }
  u.target = std::string(rest);
  u.canonical = (u.scheme == Scheme::kShm ? "shm://" : "file://") + u.target;
  return u;
}

std::string NpyHeader(DType dtype, std::span<const uint64_t> shape) {
  std::string dict = "{'descr': '" + std::string(DTypeNumpyDescr(dtype)) +
                     "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) dict += ", ";
    dict += std::to_string(shape[i]);
  }
  if (shape.size() == 1) dict += ",";
  dict += "), }";
  // magic(6) + version(2) + length(2) + dict + padding + '\n' = multiple of 64.
  const size_t unpadded = 10 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  const uint16_t len = static_cast<uint16_t>(dict.size());
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>(len >> 8);
  out += dict;
  return out;
}

std::string SharedArray::NpyHeader() const { return mapfs::NpyHeader(dtype_, shape_); }

SharedArray::SharedArray(SharedArray&&) noexcept = default;
SharedArray& SharedArray::operator=(SharedArray&&) noexcept = default;
SharedArray::~SharedArray() = default;

Result<SharedArray> SharedArray::Create(std::string_view uri_text,
                                        std::span<const uint64_t> shape, DType dtype) {
  MAPFS_ASSIGN_OR_RETURN(SharedArrayUri u, SharedArrayUri::Parse(uri_text));
  const std::string& uri = u.canonical;
  if (static_cast<int>(dtype) >= kDTypeCount) {
    return Status::InvalidArgument(uri + ": bad dtype");
  }
  if (shape.size() > fmt::kMaxDims) {
    return Status::InvalidArgument(uri + ": at most " + std::to_string(fmt::kMaxDims) +
                                   " dimensions");
  }
  uint64_t data_size = DTypeSize(dtype), total;
  for (uint64_t n : shape) {
    if (__builtin_mul_overflow(data_size, n, &data_size)) {
      return Status::InvalidArgument(uri + ": shape too large");
    }
  }
  if (__builtin_add_overflow(data_size, fmt::kDataOffset, &total) ||
      total > static_cast<uint64_t>(std::numeric_limits<off_t>::max())) {
    return Status::InvalidArgument(uri + ": shape too large");
  }

  OpenObject obj;
  UniqueFd file_fd;  // the file:// descriptor, held while we size it
  try {
    if (u.scheme == SharedArrayUri::Scheme::kShm) {
      obj.shm.emplace(bip::create_only, u.target.c_str(), bip::read_write,
                      bip::permissions(0644));
      obj.fd = obj.shm->get_mapping_handle().handle;
    } else {
      auto fd = UniqueFd::Open(u.target, O_RDWR | O_CREAT | O_EXCL, 0644);
      if (!fd.ok()) {
        if (fd.status().posix_errno() == EEXIST) return Status::AlreadyExists(uri + ": already exists");
        return Status::IOError(uri + ": " + std::strerror(fd.status().posix_errno()),
                               fd.status().posix_errno());
      }
      file_fd = std::move(fd).value();
      obj.fd = file_fd.get();
    }
  } catch (const bip::interprocess_exception& e) {
    return FromBoost(e, uri);
  }

  // From here on the name exists; any failure removes it again.
  auto fail = [&](Status st) {
    int saved = errno;
    RemoveObject(u);
    errno = saved;
    return st;
  };
  if (::ftruncate(obj.fd, static_cast<off_t>(total)) != 0) return fail(Status::FromErrno(uri));
  if (int err = ::posix_fallocate(obj.fd, 0, static_cast<off_t>(total)); err != 0) {
    return fail(Status::IOError(uri + ": reserving " + std::to_string(total) + " bytes: " +
                                    std::strerror(err), err));
  }
  if (u.scheme == SharedArrayUri::Scheme::kFile) {
    try {
      obj.file.emplace(u.target.c_str(), bip::read_write);
    } catch (const bip::interprocess_exception& e) {
      return fail(FromBoost(e, uri));
    }
  }
  auto region = MapObject(obj, bip::read_write, total, uri);
  if (!region.ok()) return fail(region.status());

  fmt::Header h{};
  h.version = fmt::kVersion;
  h.dtype = static_cast<uint8_t>(dtype);
  h.ndim = static_cast<uint8_t>(shape.size());
  h.data_offset = fmt::kDataOffset;
  h.data_size = data_size;
  std::copy(shape.begin(), shape.end(), h.shape);
  auto* base = static_cast<std::byte*>(region->get_address());
  std::memcpy(base, &h, sizeof h);
  // The magic goes last: an attacher racing with us sees "not a shared
  // array" rather than a half-written header.
  std::atomic_thread_fence(std::memory_order_release);
  std::memcpy(base, fmt::kMagic, sizeof fmt::kMagic);

  SharedArray a;
  a.mapping_ = std::make_unique<Mapping>(Mapping{std::move(region).value()});
  a.uri_ = uri;
  a.dtype_ = dtype;
  a.shape_.assign(shape.begin(), shape.end());
  a.data_offset_ = fmt::kDataOffset;
  a.data_size_ = data_size;
  a.object_size_ = total;
  a.data_ = base + fmt::kDataOffset;
  return a;
}

Result<SharedArray> SharedArray::Attach(std::string_view uri_text, bool read_only) {
  MAPFS_ASSIGN_OR_RETURN(SharedArrayUri u, SharedArrayUri::Parse(uri_text));
  const std::string& uri = u.canonical;
  const bip::mode_t mode = read_only ? bip::read_only : bip::read_write;
  OpenObject obj;
  try {
    if (u.scheme == SharedArrayUri::Scheme::kShm) {
      obj.shm.emplace(bip::open_only, u.target.c_str(), mode);
      obj.fd = obj.shm->get_mapping_handle().handle;
    } else {
      obj.file.emplace(u.target.c_str(), mode);
      obj.fd = obj.file->get_mapping_handle().handle;
    }
  } catch (const bip::interprocess_exception& e) {
    return FromBoost(e, uri);
  }
  MAPFS_ASSIGN_OR_RETURN(uint64_t size, ObjectSize(obj.fd, uri));
  if (size < fmt::kHeaderSize) {
    return Corrupt(uri, "object is " + std::to_string(size) + " bytes, smaller than the " +
                            std::to_string(fmt::kHeaderSize) + "-byte header");
  }
  if (size > std::numeric_limits<size_t>::max()) return Corrupt(uri, "object too large");
  MAPFS_ASSIGN_OR_RETURN(bip::mapped_region region, MapObject(obj, mode, size, uri));
  auto* base = static_cast<std::byte*>(region.get_address());
  fmt::Header h;
  std::memcpy(&h, base, sizeof h);
  MAPFS_ASSIGN_OR_RETURN(ValidHeader v, Validate(h, size, uri));

  SharedArray a;
  a.mapping_ = std::make_unique<Mapping>(Mapping{std::move(region)});
  a.uri_ = uri;
  a.dtype_ = v.dtype;
  a.shape_ = std::move(v.shape);
  a.data_offset_ = v.data_offset;
  a.data_size_ = v.data_size;
  a.object_size_ = size;
  a.read_only_ = read_only;
  a.data_ = base + v.data_offset;
  return a;
}

Status SharedArray::Remove(std::string_view uri_text) {
  MAPFS_ASSIGN_OR_RETURN(SharedArrayUri u, SharedArrayUri::Parse(uri_text));
  const std::string& uri = u.canonical;
  // Only remove what carries our magic: `mapfs shm remove` must not delete
  // another program's shm object or an unrelated file.
  const std::string path =
      u.scheme == SharedArrayUri::Scheme::kShm ? std::string(kShmDir) + "/" + u.target : u.target;
  const int nofollow = u.scheme == SharedArrayUri::Scheme::kShm ? O_NOFOLLOW : 0;
  auto fd = UniqueFd::Open(path, O_RDONLY | O_NONBLOCK | nofollow);
  if (!fd.ok()) {
    int err = fd.status().posix_errno();
    if (err == ENOENT) return Status::NotFound(uri + ": no such shared array");
    return Status::IOError(uri + ": " + std::strerror(err), err);
  }
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return Status::FromErrno(uri);
  char magic[sizeof fmt::kMagic] = {};
  ssize_t n = S_ISREG(st.st_mode) ? ::pread(fd->get(), magic, sizeof magic, 0) : -1;
  if (n != static_cast<ssize_t>(sizeof magic) ||
      std::memcmp(magic, fmt::kMagic, sizeof magic) != 0) {
    return Status::InvalidArgument(uri + ": not a mapfs shared array; not removed");
  }
  if (!RemoveObject(u)) {
    if (errno == ENOENT) return Status::NotFound(uri + ": no such shared array");
    return Status::FromErrno(uri);
  }
  return Status::OK();
}

Result<std::vector<SharedArrayInfo>> SharedArray::List() {
  std::vector<SharedArrayInfo> out;
  DIR* dir = ::opendir(kShmDir);
  if (dir == nullptr) return Status::FromErrno(kShmDir);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_type == DT_REG || e->d_type == DT_UNKNOWN) names.emplace_back(e->d_name);
  }
  ::closedir(dir);
  for (const std::string& name : names) {
    const std::string uri = "shm://" + name;
    // Anything unreadable, vanished or foreign is simply not ours to list.
    auto fd = UniqueFd::Open(std::string(kShmDir) + "/" + name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    if (!fd.ok()) continue;
    auto size = ObjectSize(fd->get(), uri);
    if (!size.ok()) continue;
    auto h = ReadHeader(fd->get(), *size, uri);
    if (!h.ok()) continue;
    auto v = Validate(*h, *size, uri);
    if (!v.ok()) continue;
    out.push_back(SharedArrayInfo{name, v->dtype, std::move(v->shape), v->data_size});
  }
  std::sort(out.begin(), out.end(),
            [](const SharedArrayInfo& a, const SharedArrayInfo& b) { return a.name < b.name; });
  return out;
}

Status SharedArray::CheckDType(std::optional<DType> want) const {
  if (want != dtype_) {
    return Status::InvalidArgument(uri_ + ": element type does not match dtype " +
                                   std::string(DTypeName(dtype_)));
  }
  return Status::OK();
}

Result<std::span<std::byte>> SharedArray::MutableBytes() {
  if (read_only_) return Status::IOError(uri_ + ": attached read-only", EROFS);
  return std::span<std::byte>(data_, data_size_);
}

Status SharedArray::Msync(int flags) {
  if (::msync(mapping_->region.get_address(), mapping_->region.get_size(), flags) != 0) {
    return Status::FromErrno(uri_ + ": msync");
  }
  return Status::OK();
}

Status SharedArray::Mlock() {
  if (::mlock(mapping_->region.get_address(), mapping_->region.get_size()) != 0) {
    return Status::FromErrno(uri_ + ": mlock");
  }
  return Status::OK();
}

Status SharedArray::Munlock() {
  if (::munlock(mapping_->region.get_address(), mapping_->region.get_size()) != 0) {
    return Status::FromErrno(uri_ + ": munlock");
  }
  return Status::OK();
}

}  // namespace mapfs
