// RecordChecks: which records of one segment version have passed the record
// verifier (mapfs::Verify, docs/format.md "Records → Validation"), one bit
// per record. The mount serves nothing below a record (its directory
// listing, field files, @json) before that record has passed: a record
// whose refs form cycles or exponential sharing would otherwise show as an
// endless tree of directories. Verify is linear in the record size, so each
// record costs one pass, once per version.
//
// Memory: the bitmap is reserved as anonymous memory (record_count / 8
// bytes of address space) and the kernel commits a page only when a bit in
// it is first set: 4 KiB per 32768 records actually checked.
//
// Thread-safety: Passed and MarkPassed may be called concurrently.
//
//   RecordChecks checks(seg.record_count());
//   if (!checks.Passed(id)) { MAPFS_RETURN_IF_ERROR(Verify(rec)); checks.MarkPassed(id); }
#ifndef MAPFS_FS_RECORD_CHECKS_H_
#define MAPFS_FS_RECORD_CHECKS_H_

#include <cstddef>
#include <cstdint>

namespace mapfs::fs {

class RecordChecks {
 public:
  explicit RecordChecks(uint64_t records);
  ~RecordChecks();
  RecordChecks(const RecordChecks&) = delete;
  RecordChecks& operator=(const RecordChecks&) = delete;

  // False for ids out of range, and always when the bitmap could not be
  // reserved (every access then verifies again: slower, still correct).
  bool Passed(uint64_t id) const;
  void MarkPassed(uint64_t id);
  // Bytes of address space reserved (for tests).
  size_t reserved_bytes() const { return bytes_; }

 private:
  uint64_t records_;
  size_t bytes_ = 0;
  uint64_t* words_ = nullptr;
};

}  // namespace mapfs::fs

#endif  // MAPFS_FS_RECORD_CHECKS_H_
