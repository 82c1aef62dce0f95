// A bitmap committed page by page; see lazy_bitmap.h.
#include "lazy_bitmap.h"

#include <sys/mman.h>

#include <bit>

namespace mapfs::fs {

namespace {

// The order of the load that checks a bit before setting it: a load may
// not be a release.
std::memory_order CheckOrder(std::memory_order set_order) {
  switch (set_order) {
    case std::memory_order_release: return std::memory_order_relaxed;
    case std::memory_order_acq_rel: return std::memory_order_acquire;
    default: return set_order;
  }
}

}  // namespace

LazyBitmap::LazyBitmap(uint64_t bits) : bits_(bits) {
  if (bits == 0) return;
  const size_t bytes = static_cast<size_t>((bits + 63) / 64 * 8);
  // Anonymous and not reserved in swap: untouched pages cost nothing.
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return;
  // Where transparent huge pages are "always", one bit would commit 2 MiB.
  ::madvise(p, bytes, MADV_NOHUGEPAGE);
  words_ = static_cast<uint64_t*>(p);
  bytes_ = bytes;
}

LazyBitmap::~LazyBitmap() {
  if (words_ != nullptr) ::munmap(words_, bytes_);
}

bool LazyBitmap::Test(uint64_t i, std::memory_order order) const {
  if (!Holds(i)) return false;
  return (std::atomic_ref<uint64_t>(words_[i / 64]).load(order) >> (i % 64)) & 1;
}

void LazyBitmap::Set(uint64_t i, std::memory_order order) {
  if (!Holds(i)) return;
  std::atomic_ref<uint64_t> word(words_[i / 64]);
  const uint64_t bit = uint64_t{1} << (i % 64);
  if ((word.load(CheckOrder(order)) & bit) == 0) word.fetch_or(bit, order);
}

std::vector<uint64_t> LazyBitmap::SetBits() const {
  std::vector<uint64_t> out;
  if (words_ == nullptr) return out;
  for (uint64_t w = 0; w < (bits_ + 63) / 64; ++w) {
    uint64_t bits = std::atomic_ref<uint64_t>(words_[w]).load();
    while (bits != 0) {
      out.push_back(w * 64 + static_cast<uint64_t>(std::countr_zero(bits)));
      bits &= bits - 1;
    }
  }
  return out;
}

}  // namespace mapfs::fs
