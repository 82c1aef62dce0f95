// The names a single-file mount's root handed the kernel; see root_names.h.
#include "root_names.h"

#include <sys/mman.h>

#include <bit>

namespace mapfs::fs {

RootNames::RootNames(uint64_t members) : members_(members) {
  if (members == 0) return;
  const size_t bytes = static_cast<size_t>((members + 63) / 64 * 8);
  // Anonymous and not reserved in swap: untouched pages cost nothing.
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return;
  words_ = static_cast<uint64_t*>(p);
  bytes_ = bytes;
}

RootNames::~RootNames() {
  if (words_ != nullptr) ::munmap(words_, bytes_);
}

bool RootNames::Note(uint64_t i) {
  if (words_ == nullptr || i >= members_) return false;
  std::atomic_ref<uint64_t> word(words_[i / 64]);
  const uint64_t bit = uint64_t{1} << (i % 64);
  // Already noted: one load, no write to a shared cache line. Sequentially
  // consistent too, so that the note it sees is ordered before this one.
  if ((word.load() & bit) == 0) word.fetch_or(bit);
  // After the bit (sequentially consistent): see root_names.h.
  return !retired_.load();
}

bool RootNames::NoteFile(uint32_t file) {
  if (file >= 64) return false;
  const uint64_t bit = uint64_t{1} << file;
  if ((files_.load() & bit) == 0) files_.fetch_or(bit);
  return !retired_.load();
}

void RootNames::Retire() { retired_.store(true); }

std::vector<uint64_t> RootNames::Noted() const {
  std::vector<uint64_t> out;
  if (words_ == nullptr) return out;
  const uint64_t words = (members_ + 63) / 64;
  for (uint64_t w = 0; w < words; ++w) {
    uint64_t bits = std::atomic_ref<uint64_t>(words_[w]).load();
    while (bits != 0) {
      out.push_back(w * 64 + static_cast<uint64_t>(std::countr_zero(bits)));
      bits &= bits - 1;
    }
  }
  return out;
}

std::vector<uint32_t> RootNames::NotedFiles() const {
  std::vector<uint32_t> out;
  uint64_t bits = files_.load();
  while (bits != 0) {
    out.push_back(static_cast<uint32_t>(std::countr_zero(bits)));
    bits &= bits - 1;
  }
  return out;
}

}  // namespace mapfs::fs
