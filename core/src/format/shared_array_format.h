// The on-disk / in-memory header of a shared array, field by field as
// docs/arrays.md ("Shared array header") specifies. Private to core.
#ifndef MAPFS_CORE_SHARED_ARRAY_FORMAT_H_
#define MAPFS_CORE_SHARED_ARRAY_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace mapfs::shared_array_format {

// "MAPFSARR": identifies a mapfs shared array; List() skips anything else.
constexpr char kMagic[8] = {'M', 'A', 'P', 'F', 'S', 'A', 'R', 'R'};
constexpr uint32_t kVersion = 1;
// The header fills the first page; data starts on the next page boundary so
// it is page-aligned in every mapping (SIMD, O_DIRECT, huge numpy views).
constexpr uint64_t kHeaderSize = 4096;
constexpr uint64_t kDataOffset = kHeaderSize;
constexpr uint32_t kMaxDims = 32;  // numpy's historical NPY_MAXDIMS

// All integers little-endian. Bytes after `shape` up to kHeaderSize are zero.
struct Header {
  char magic[8];
  uint32_t version;
  uint8_t dtype;       // mapfs::DType value
  uint8_t ndim;        // 0..kMaxDims
  uint16_t reserved;   // zero
  uint64_t data_offset;  // multiple of 4096, >= kHeaderSize
  uint64_t data_size;    // product(shape) * DTypeSize(dtype)
  uint64_t shape[kMaxDims];  // entries past ndim are zero
};

static_assert(std::is_trivially_copyable_v<Header>);
static_assert(offsetof(Header, version) == 8);
static_assert(offsetof(Header, dtype) == 12);
static_assert(offsetof(Header, ndim) == 13);
static_assert(offsetof(Header, data_offset) == 16);
static_assert(offsetof(Header, data_size) == 24);
static_assert(offsetof(Header, shape) == 32);
static_assert(sizeof(Header) == 32 + 8 * kMaxDims);
static_assert(sizeof(Header) <= kHeaderSize);

}  // namespace mapfs::shared_array_format

#endif  // MAPFS_CORE_SHARED_ARRAY_FORMAT_H_
