// Constants and primitive codecs of the record encoding (docs/format.md,
// "Records"). Mirrors the spec; change both together with the golden file.
#ifndef MAPFS_CORE_RECORD_FORMAT_H_
#define MAPFS_CORE_RECORD_FORMAT_H_

#include <cstdint>
#include <cstring>
#include <string>

#include "mapfs/types.h"

namespace mapfs::record_format {

// Tags of `object` values. Printable ASCII 0x21..0x7E are struct typecodes.
enum Tag : uint8_t {
  kTagNull = 0,
  kTagFalse = 1,
  kTagTrue = 2,
  kTagInt = 3,        // zigzag varint
  kTagUInt = 4,       // varint
  kTagFloat = 5,      // float64
  kTagStr = 6,        // varint length, UTF-8 bytes
  kTagBytes = 7,      // varint length, bytes
  kTagDate = 8,       // int32 days since 1970-01-01
  kTagDateTime = 9,   // int64 microseconds since the epoch, UTC
  kTagDecimal = 10,   // decimal body
  kTagList = 11,      // list<object> body
  kTagTuple = 12,     // list<object> body
  kTagFrozenSet = 13, // frozenset<object> body
  kTagDict = 14,      // dict<object, object> body
  kTagNdArray = 15,   // ndarray body
  kTagLastBuiltin = 15,
  kTagFirstTypecode = 0x21,
  kTagLastTypecode = 0x7e,
};

enum SetMode : uint8_t {
  kSetSorted = 0,  // a list body of the sorted, unique elements
  kSetBitmap = 1,  // ints: zigzag varint base, varint count, varint nbytes, bits
};

constexpr uint32_t kRefSize = 4;        // uint32 offsets from the record start
constexpr uint64_t kMaxRecordSize = 0xFFFFFFFFu;
// In a segment with value references (docs/format.md, "Value references"), a
// ref with this bit set is a value reference: the low 31 bits locate its body
// (varint item offset / 8, varint value offset) in the record. Records of
// such segments are therefore smaller than 2 GiB.
constexpr uint32_t kValueRefBit = 0x80000000u;
constexpr uint64_t kMaxRefRecordSize = kValueRefBit - 1;
constexpr uint32_t kMaxNdim = 32;

inline uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t UnZigZag(uint64_t v) {
  return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
}

inline void AppendVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Reads a varint at data[*pos], data bounded by `size`. False when truncated
// or longer than 10 bytes / 64 bits.
inline bool ReadVarint(const uint8_t* data, uint64_t size, uint64_t* pos, uint64_t* value) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*pos >= size) return false;
    uint8_t byte = data[(*pos)++];
    if (shift == 63 && byte > 1) return false;
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *value = result;
      return true;
    }
  }
  return false;
}

template <typename T>
inline T LoadLE(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;  // little-endian host (static_assert in record_view.cc)
}

template <typename T>
inline void StoreLE(std::string* out, size_t pos, T v) {
  std::memcpy(out->data() + pos, &v, sizeof(T));
}

// Sign- or zero-extends a `width`-byte little-endian integer.
inline uint64_t LoadUnsigned(const uint8_t* p, unsigned width) {
  switch (width) {
    case 1: return p[0];
    case 2: return LoadLE<uint16_t>(p);
    case 4: return LoadLE<uint32_t>(p);
    default: return LoadLE<uint64_t>(p);
  }
}
inline int64_t LoadSigned(const uint8_t* p, unsigned width) {
  switch (width) {
    case 1: return static_cast<int8_t>(p[0]);
    case 2: return LoadLE<int16_t>(p);
    case 4: return LoadLE<int32_t>(p);
    default: return LoadLE<int64_t>(p);
  }
}

// The narrowest width (1, 2, 4 or 8 bytes) of an int list or set whose
// values span [lo, hi] (signed) or [0, hi] (unsigned).
inline unsigned SignedWidth(int64_t lo, int64_t hi) {
  if (lo >= INT8_MIN && hi <= INT8_MAX) return 1;
  if (lo >= INT16_MIN && hi <= INT16_MAX) return 2;
  if (lo >= INT32_MIN && hi <= INT32_MAX) return 4;
  return 8;
}
inline unsigned UnsignedWidth(uint64_t hi) {
  return hi <= UINT8_MAX ? 1 : hi <= UINT16_MAX ? 2 : hi <= UINT32_MAX ? 4 : 8;
}

// IEEE 754 totalOrder as an unsigned key: -NaN < -inf < ... < -0 < +0 < ... < NaN.
inline uint64_t FloatOrderKey(double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  return (bits >> 63) ? ~bits : bits | (uint64_t{1} << 63);
}

}  // namespace mapfs::record_format

#endif  // MAPFS_CORE_RECORD_FORMAT_H_
