// The bitmap of records that passed the record verifier; see record_checks.h.
#include "record_checks.h"

#include <sys/mman.h>

#include <atomic>

namespace mapfs::fs {

RecordChecks::RecordChecks(uint64_t records) : records_(records) {
  if (records == 0) return;
  const size_t bytes = static_cast<size_t>((records + 63) / 64 * 8);
  // Anonymous and not reserved in swap: untouched pages cost nothing.
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return;
  words_ = static_cast<uint64_t*>(p);
  bytes_ = bytes;
}

RecordChecks::~RecordChecks() {
  if (words_ != nullptr) ::munmap(words_, bytes_);
}

bool RecordChecks::Passed(uint64_t id) const {
  if (words_ == nullptr || id >= records_) return false;
  const uint64_t w = std::atomic_ref<uint64_t>(words_[id / 64]).load(std::memory_order_acquire);
  return (w >> (id % 64)) & 1;
}

void RecordChecks::MarkPassed(uint64_t id) {
  if (words_ == nullptr || id >= records_) return;
  std::atomic_ref<uint64_t>(words_[id / 64])
      .fetch_or(uint64_t{1} << (id % 64), std::memory_order_release);
}

}  // namespace mapfs::fs
