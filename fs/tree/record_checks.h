// RecordChecks: which records of one segment version have passed the record
// verifier (mapfs::Verify, docs/format.md "Records → Validation"), one bit
// per record. The mount serves nothing below a record (its directory
// listing, field files, @json) before that record has passed: a record
// whose refs form cycles or exponential sharing would otherwise show as an
// endless tree of directories. Verify is linear in the record size, so each
// record costs one pass, once per version.
//
// Memory: a LazyBitmap, committed only around the records actually
// checked (4 KiB per 32768).
//
// Thread-safety: Passed and MarkPassed may be called concurrently.
//
//   RecordChecks checks(seg.record_count());
//   if (!checks.Passed(id)) { MAPFS_RETURN_IF_ERROR(Verify(rec)); checks.MarkPassed(id); }
#ifndef MAPFS_FS_RECORD_CHECKS_H_
#define MAPFS_FS_RECORD_CHECKS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "lazy_bitmap.h"

namespace mapfs::fs {

class RecordChecks {
 public:
  explicit RecordChecks(uint64_t records) : passed_(records) {}

  // False for ids out of range, and always when the bitmap could not be
  // reserved (every access then verifies again: slower, still correct).
  bool Passed(uint64_t id) const { return passed_.Test(id, std::memory_order_acquire); }
  void MarkPassed(uint64_t id) { passed_.Set(id, std::memory_order_release); }
  // Bytes of address space reserved (for tests).
  size_t reserved_bytes() const { return passed_.reserved_bytes(); }

 private:
  LazyBitmap passed_;
};

}  // namespace mapfs::fs

#endif  // MAPFS_FS_RECORD_CHECKS_H_
