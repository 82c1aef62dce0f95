// The names a single-file mount's root handed the kernel; see root_names.h.
#include "root_names.h"

#include <bit>

namespace mapfs::fs {

bool RootNames::Note(uint64_t i) {
  if (!members_.Holds(i)) return false;
  // Sequentially consistent, so that a note this one finds already made is
  // ordered before it too.
  members_.Set(i);
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

std::vector<uint64_t> RootNames::Noted() const { return members_.SetBits(); }

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
