// VersionSlots: the numbered slots that hold the versions a tree serves.
// Inode numbers carry their version's slot (node_id.h), so a slot is not
// reused while the kernel may still name one of its inode numbers: a
// replaced version is retired, and freed (unmapped) only once the kernel has
// forgotten its last lookup. Freed slots are handed out round robin, so a
// slot number, and its inode numbers, come back as late as possible.
//
// Slot 0 is the mount root and never holds a version; the root and each
// directory source list their entries in their slot.
//
// Thread-safety: Install, At, Count and open_versions lock internally. The
// `src`, `retired`, `entries` and `dir_path` of a slot are guarded by
// mutex(): read them under a shared lock, change them (and call
// RetireLocked) under a unique one. `lookups` is atomic.
//
//   VersionSlots slots;
//   uint32_t s = slots.Install(version);  // 0: every slot is taken
//   slots.Count(s, 1);                    // the kernel looked one up
//   { std::unique_lock l(slots.mutex()); slots.RetireLocked(s); }  // replaced
//   slots.Count(s, -1);                   // forgotten: `version` is released
#ifndef MAPFS_FS_VERSION_SLOTS_H_
#define MAPFS_FS_VERSION_SLOTS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "node_id.h"
#include "source_version.h"

namespace mapfs::fs {

class VersionSlots {
 public:
  struct Slot {
    std::shared_ptr<const SourceVersion> src;  // null: free (and for slot 0)
    std::vector<DirEntry> entries;             // directories
    std::string dir_path;                      // directories backed by a directory on disk
    bool retired = false;                      // replaced; freed once `lookups` is 0
    std::atomic<int64_t> lookups{0};           // kernel lookups of this slot's inode numbers
    std::atomic<uint32_t> owner{0};            // see Install
  };

  // `capacity` slots, 0 included (at most kMaxSlots: inode numbers hold no more).
  explicit VersionSlots(uint32_t capacity = kMaxSlots);
  VersionSlots(const VersionSlots&) = delete;
  VersionSlots& operator=(const VersionSlots&) = delete;

  uint32_t capacity() const { return capacity_; }
  std::shared_mutex& mutex() const { return mu_; }

  // A free slot now holding `src`, with no entries and no lookups; 0 if
  // every slot is taken. With an `owner` slot (a dataset's, for its shards)
  // the new slot's lookups count for the owner and it is freed with the
  // owner: the owner's version can name its inode numbers as long as it
  // lives, so they must stay its own until then.
  uint32_t Install(std::shared_ptr<const SourceVersion> src, uint32_t owner = 0);
  // The version in `slot`; null if free or out of range.
  std::shared_ptr<const SourceVersion> At(uint32_t slot) const;
  // Frees `slot` now if the kernel holds none of its inode numbers, else
  // once Count brings its lookups to 0. The caller holds mutex() uniquely.
  void RetireLocked(uint32_t slot);
  // Adds `lookups` (negative: forgets) to the kernel's count for `slot`;
  // frees a retired slot whose count reaches 0. Slot 0 is not counted.
  void Count(uint32_t slot, int64_t lookups);
  // Versions held, current and retired.
  size_t open_versions() const;

  // The slot itself (valid below capacity()); see the locking rule above.
  Slot& operator[](uint32_t slot) { return slots_[slot]; }
  const Slot& operator[](uint32_t slot) const { return slots_[slot]; }

 private:
  const uint32_t capacity_;
  mutable std::shared_mutex mu_;
  std::unique_ptr<Slot[]> slots_;
  void FreeLocked(uint32_t slot);  // and the slots it owns
  uint32_t next_ = 0;  // the last slot Install gave
};

}  // namespace mapfs::fs

#endif  // MAPFS_FS_VERSION_SLOTS_H_
