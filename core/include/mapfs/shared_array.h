// SharedArray: named n-dimensional arrays that outlive the processes using
// them (docs/arrays.md, "Shared arrays"). A `shm://name` array is a POSIX shared memory object
// (/dev/shm/name on Linux); a `file://path` array is a regular file. Either
// holds a one-page header (docs/arrays.md) followed by the page-aligned,
// C-order, little-endian data.
//
//   const uint64_t shape[] = {3, 4};
//   MAPFS_ASSIGN_OR_RETURN(SharedArray a,
//                          SharedArray::Create("shm://frames", shape, DType::kFloat64));
//   MAPFS_ASSIGN_OR_RETURN(auto values, a.MutableSpan<double>());
//   values[5] = 1.5;
//   // ...in another process:
//   MAPFS_ASSIGN_OR_RETURN(SharedArray b, SharedArray::Attach("shm://frames"));
//
// A name without a scheme means shm:// ("frames" == "shm://frames").
#ifndef MAPFS_SHARED_ARRAY_H_
#define MAPFS_SHARED_ARRAY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "mapfs/status.h"
#include "mapfs/types.h"

namespace mapfs {

// A parsed shared-array URI.
struct SharedArrayUri {
  enum class Scheme { kShm, kFile };
  Scheme scheme = Scheme::kShm;
  std::string target;     // the shm object name, or the file path
  std::string canonical;  // "shm://name" or "file://path", used in messages

  // InvalidArgument for an unknown scheme, an empty target, or a shm name
  // that is not one path component of at most 255 bytes.
  static Result<SharedArrayUri> Parse(std::string_view uri);
};

// What List() reports for each shared array in /dev/shm.
struct SharedArrayInfo {
  std::string name;  // without the shm:// prefix
  DType dtype;
  std::vector<uint64_t> shape;
  uint64_t data_size;  // bytes
};

// The .npy (format version 1.0) header for a C-order array of `dtype` and
// `shape`: magic, version, length and the dict, padded with spaces to a
// multiple of 64 bytes and ended by '\n'. Followed by the raw data it makes a
// file np.load() reads (with mmap_mode too).
std::string NpyHeader(DType dtype, std::span<const uint64_t> shape);

// The DType whose items are C++ type T, if any (int64_t -> kInt64, bool -> kBool).
template <typename T>
constexpr std::optional<DType> DTypeOf();

// One attachment to a shared array: owns the mapping (header and data), not
// the array, which lives until Remove() whatever happens to attachments.
// Move-only. The mapping is shared memory: concurrent access from threads or
// processes is the caller's to synchronize.
class SharedArray {
 public:
  // Creates a zero-filled array. AlreadyExists if the name is taken. The
  // space is reserved now (posix_fallocate), so a full /dev/shm or disk is an
  // IOError (ENOSPC) here rather than SIGBUS on a later store; an object that
  // failed creation is removed.
  static Result<SharedArray> Create(std::string_view uri, std::span<const uint64_t> shape,
                                    DType dtype);
  // Attaches to an existing array. NotFound if there is none; Corruption
  // (naming the uri) if its header is invalid or does not fit the object.
  static Result<SharedArray> Attach(std::string_view uri, bool read_only = false);
  // Removes the name; existing attachments stay valid. NotFound if missing;
  // InvalidArgument (nothing removed) if the object is not a mapfs shared array.
  static Status Remove(std::string_view uri);
  // The shm:// arrays in /dev/shm, sorted by name; objects that are not
  // valid mapfs shared arrays are skipped.
  static Result<std::vector<SharedArrayInfo>> List();

  SharedArray(SharedArray&&) noexcept;
  SharedArray& operator=(SharedArray&&) noexcept;
  SharedArray(const SharedArray&) = delete;
  SharedArray& operator=(const SharedArray&) = delete;
  ~SharedArray();

  const std::string& uri() const { return uri_; }
  DType dtype() const { return dtype_; }
  const std::vector<uint64_t>& shape() const { return shape_; }
  uint64_t element_count() const { return data_size_ / DTypeSize(dtype_); }
  size_t itemsize() const { return DTypeSize(dtype_); }
  uint64_t data_offset() const { return data_offset_; }
  uint64_t data_size() const { return data_size_; }
  uint64_t object_size() const { return object_size_; }  // header + data (+ slack)
  bool read_only() const { return read_only_; }

  // The data bytes, valid while this attachment lives.
  std::span<const std::byte> bytes() const { return {data_, data_size_}; }
  // Writable data; an IOError (EROFS) for a read-only attachment.
  Result<std::span<std::byte>> MutableBytes();
  // Typed views; T must match dtype() exactly (InvalidArgument otherwise).
  template <typename T>
  Result<std::span<const T>> Span() const;
  template <typename T>
  Result<std::span<T>> MutableSpan();

  // msync(2) of the whole mapping; `flags` are MS_ASYNC, MS_SYNC and/or
  // MS_INVALIDATE. Only file:// arrays have anything to flush.
  Status Msync(int flags);
  // mlock(2)/munlock(2) of the whole mapping.
  Status Mlock();
  Status Munlock();

  // NpyHeader(dtype(), shape()).
  std::string NpyHeader() const;

 private:
  struct Mapping;  // the Boost.Interprocess region, kept out of this header
  SharedArray() = default;
  Status CheckDType(std::optional<DType> want) const;

  std::unique_ptr<Mapping> mapping_;
  std::string uri_;
  DType dtype_ = DType::kUInt8;
  std::vector<uint64_t> shape_;
  uint64_t data_offset_ = 0;
  uint64_t data_size_ = 0;
  uint64_t object_size_ = 0;
  bool read_only_ = false;
  std::byte* data_ = nullptr;
};

template <typename T>
constexpr std::optional<DType> DTypeOf() {
  if constexpr (std::is_same_v<T, bool>) return DType::kBool;
  else if constexpr (std::is_same_v<T, float>) return DType::kFloat32;
  else if constexpr (std::is_same_v<T, double>) return DType::kFloat64;
  else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, char>) {
    constexpr bool s = std::is_signed_v<T>;
    switch (sizeof(T)) {
      case 1: return s ? DType::kInt8 : DType::kUInt8;
      case 2: return s ? DType::kInt16 : DType::kUInt16;
      case 4: return s ? DType::kInt32 : DType::kUInt32;
      case 8: return s ? DType::kInt64 : DType::kUInt64;
    }
    return std::nullopt;
  } else {
    return std::nullopt;
  }
}

template <typename T>
Result<std::span<const T>> SharedArray::Span() const {
  MAPFS_RETURN_IF_ERROR(CheckDType(DTypeOf<T>()));
  return std::span<const T>(reinterpret_cast<const T*>(data_), element_count());
}

template <typename T>
Result<std::span<T>> SharedArray::MutableSpan() {
  MAPFS_RETURN_IF_ERROR(CheckDType(DTypeOf<T>()));
  MAPFS_ASSIGN_OR_RETURN(std::span<std::byte> b, MutableBytes());
  return std::span<T>(reinterpret_cast<T*>(b.data()), element_count());
}

}  // namespace mapfs

#endif  // MAPFS_SHARED_ARRAY_H_
