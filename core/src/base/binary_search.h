// The one binary search of the library: over `n` sorted elements whose
// comparison with the probe may fail (a damaged element is an error, never
// a guess). Used by set and dict lookups and by the mapping record search.
#ifndef MAPFS_CORE_BINARY_SEARCH_H_
#define MAPFS_CORE_BINARY_SEARCH_H_

#include <cstdint>
#include <optional>

#include "mapfs/status.h"

namespace mapfs {

// `cmp(i)` is Result<int>: element i compared with the probe (<0, 0, >0).
// Returns the index of an equal element, nullopt when there is none, or the
// first comparison error.
template <typename CmpAt>
Result<std::optional<uint64_t>> BinarySearch(uint64_t n, CmpAt cmp) {
  uint64_t lo = 0, hi = n;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    Result<int> c = cmp(mid);
    if (!c.ok()) return c.status();
    if (*c == 0) return std::optional<uint64_t>(mid);
    if (*c < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return std::optional<uint64_t>();
}

}  // namespace mapfs

#endif  // MAPFS_CORE_BINARY_SEARCH_H_
