// Keys the benchmarks share: 16 hex digits of a bijection of the record
// number, so that keys are unique, look random to the index and cost the
// same to make in every benchmark.
#ifndef MAPFS_BENCH_BENCH_KEYS_H_
#define MAPFS_BENCH_BENCH_KEYS_H_

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

namespace mapfs::bench {

constexpr size_t kHexKeyLen = 16;

// The splitmix64 finalizer: a bijection of 64-bit integers.
inline uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Writes record i's key, kHexKeyLen bytes, to `out` (no terminating NUL).
inline void HexKey(uint64_t i, char* out) {
  char buf[kHexKeyLen + 1];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(Mix(i)));
  std::memcpy(out, buf, kHexKeyLen);
}

inline std::string HexKey(uint64_t i) {
  std::string key(kHexKeyLen, '\0');
  HexKey(i, key.data());
  return key;
}

}  // namespace mapfs::bench

#endif  // MAPFS_BENCH_BENCH_KEYS_H_
