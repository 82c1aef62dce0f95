// The table of guarded mappings behind InstallTruncationGuard (file_util.h).
#ifndef MAPFS_CORE_TRUNCATION_GUARD_H_
#define MAPFS_CORE_TRUNCATION_GUARD_H_

#include <cstddef>

namespace mapfs::internal {

// Adds [addr, addr + size) to the table: its index, or -1 if it is full.
int GuardRange(void* addr, size_t size);
// Removes range `index` (-1: none); call before unmapping it.
void UnguardRange(int index);
// True once the guard replaced a page of range `index` (-1: false).
bool RangeDamaged(int index);
// Ranges in the table now (for tests).
size_t GuardedRanges();

}  // namespace mapfs::internal

#endif  // MAPFS_CORE_TRUNCATION_GUARD_H_
