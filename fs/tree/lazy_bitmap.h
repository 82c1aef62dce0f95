// LazyBitmap: a fixed number of bits in anonymous memory that the kernel
// commits a page at a time, when a bit in it is first set. Per-version
// bitmaps over a collection's records or keys (RecordChecks, RootNames)
// thus cost address space in proportion to the collection, and memory only
// for the parts used: 4 KiB per 32768 bits around the bits set.
//
// Thread-safety: Test, Set and SetBits may be called concurrently; each is
// atomic on the word holding the bit, with the memory order given.
//
//   LazyBitmap bits(seg.record_count());
//   if (!bits.Test(id, std::memory_order_acquire)) { ...; bits.Set(id, std::memory_order_release); }
#ifndef MAPFS_FS_LAZY_BITMAP_H_
#define MAPFS_FS_LAZY_BITMAP_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace mapfs::fs {

class LazyBitmap {
 public:
  explicit LazyBitmap(uint64_t bits);
  ~LazyBitmap();
  LazyBitmap(const LazyBitmap&) = delete;
  LazyBitmap& operator=(const LazyBitmap&) = delete;

  // True if bit `i` can be held: in range, and the memory was reserved
  // (when it could not be, every bit reads as clear and Set does nothing).
  bool Holds(uint64_t i) const { return words_ != nullptr && i < bits_; }
  bool Test(uint64_t i, std::memory_order order = std::memory_order_seq_cst) const;
  // A bit already set costs one load and no write to its (shared) line.
  void Set(uint64_t i, std::memory_order order = std::memory_order_seq_cst);
  // The bits set, ascending. Reads the whole bitmap (untouched pages read
  // as zeros without being committed).
  std::vector<uint64_t> SetBits() const;
  uint64_t size() const { return bits_; }
  // Bytes of address space reserved (for tests).
  size_t reserved_bytes() const { return bytes_; }

 private:
  uint64_t bits_;
  size_t bytes_ = 0;
  uint64_t* words_ = nullptr;
};

}  // namespace mapfs::fs

#endif  // MAPFS_FS_LAZY_BITMAP_H_
