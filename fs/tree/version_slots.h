// VersionSlots: the numbered slots that hold the versions a tree serves.
//
// A replaced version must go (munmap + close, so a deleted file's disk space
// is freed) within moments of its last reader, whatever the kernel caches.
// So a version is held only by open handles (files and directories the
// kernel opened: Open / Close) and by the requests being served (their own
// shared_ptr), never by the kernel's lookups: a replaced version is retired,
// and released once no handle is open on it and a short grace has passed
// since its retirement. An inode number of a released version then resolves
// to nothing (ESTALE: the kernel walks the path again and finds the new
// version). The grace covers what the kernel may still do with entries it
// cached just before the replacement without asking again (a path walk in
// flight, a single-file mount's volatile entries), so that a listing begun
// then does not fail; Sweep releases what the grace held back.
//
// Inode numbers carry their version's slot (node_id.h), so the slot
// *number* is not reused while the kernel may still name one of its inode
// numbers: it is freed once the kernel has also forgotten its last lookup
// (Count). A reserved slot holds no mapping, only its counters. Freed slots
// are handed out round robin, so a slot number, and its inode numbers, come
// back as late as possible.
//
// Slot 0 is the mount root and never holds a version; the root and each
// directory source list their entries in their slot.
//
// Thread-safety: Install, At, Open, Close, Count and open_versions lock
// internally. The `src`, `retired`, `entries` and `dir_path` of a slot are
// guarded by mutex(): read them under a shared lock, change them (and call
// RetireLocked) under a unique one. `lookups` and `handles` are atomic.
//
//   VersionSlots slots;
//   uint32_t s = slots.Install(version);  // 0: every slot is taken
//   slots.Count(s, 1);                    // the kernel looked one up
//   slots.Open(s, version.get());         // the kernel opened one
//   { std::unique_lock l(slots.mutex()); slots.RetireLocked(s); }  // replaced
//   slots.Close(s);                       // last handle closed: `version` is released
//   slots.Count(s, -1);                   // forgotten: the slot number is free
//
// (With a release grace, `version` goes at the first Close, Count or Sweep
// after the grace.)
#ifndef MAPFS_FS_VERSION_SLOTS_H_
#define MAPFS_FS_VERSION_SLOTS_H_

#include <atomic>
#include <chrono>
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
    std::shared_ptr<const SourceVersion> src;  // null: free, released (and for slot 0)
    std::vector<DirEntry> entries;             // directories
    std::string dir_path;                      // directories backed by a directory on disk
    // Replaced: `src` is released once `handles` is 0, and the slot number
    // is free once `lookups` is 0 too.
    bool retired = false;
    std::chrono::steady_clock::time_point release_after;  // retired: the grace's end
    // Retired by RetireHeldLocked: held whatever its handles until
    // StartGraces, then for `held_grace`.
    bool held = false;
    std::chrono::milliseconds held_grace{0};
    std::atomic<int64_t> lookups{0};  // kernel lookups of this slot's inode numbers
    std::atomic<int64_t> handles{0};  // open files and directories of this version
    std::atomic<uint32_t> owner{0};   // see Install
  };

  // `capacity` slots, 0 included (at most kMaxSlots: inode numbers hold no more).
  explicit VersionSlots(uint32_t capacity = kMaxSlots);
  VersionSlots(const VersionSlots&) = delete;
  VersionSlots& operator=(const VersionSlots&) = delete;

  uint32_t capacity() const { return capacity_; }
  // How long a retired version stays mapped without handles (default 0).
  void set_release_grace(std::chrono::milliseconds grace) { grace_ = grace; }
  std::shared_mutex& mutex() const { return mu_; }

  // A free slot now holding `src`, with no entries, lookups or handles; 0
  // if every slot is taken or reserved. With an `owner` slot (a dataset's,
  // for its shards) the new slot's lookups and handles count for the owner,
  // and it is released and freed with the owner: the owner's version can
  // name its inode numbers as long as it lives, so they stay its own.
  uint32_t Install(std::shared_ptr<const SourceVersion> src, uint32_t owner = 0);
  // The version in `slot`; null if free, released or out of range.
  std::shared_ptr<const SourceVersion> At(uint32_t slot) const;
  // Releases the version in `slot` now if no handle is open on it, else at
  // the last Close; the slot number stays reserved while the kernel holds
  // lookups. The caller holds mutex() uniquely.
  void RetireLocked(uint32_t slot);
  // Retires `slot` but holds its version until StartGraces, whose call
  // starts a grace of `grace`: for a version whose entries the kernel must
  // be told to drop (by name) before the grace may begin.
  void RetireHeldLocked(uint32_t slot, std::chrono::milliseconds grace);
  // Starts the grace of every version RetireHeldLocked holds.
  void StartGraces();
  // Adds `lookups` (negative: forgets) to the kernel's count for `slot`;
  // frees a retired slot whose count reaches 0. Slot 0 is not counted.
  void Count(uint32_t slot, int64_t lookups);
  // An open handle on the version in `slot`, which stays held until the
  // matching Close even if retired meanwhile. False (nothing opened) if
  // `slot` no longer holds `version` (released already). Slot 0 holds
  // nothing: always true.
  bool Open(uint32_t slot, const SourceVersion* version);
  void Close(uint32_t slot);
  // Releases the retired versions whose grace is over and that no handle
  // holds; returns how many retired versions are still held.
  size_t Sweep();
  // Versions held, current and retired (those with open handles).
  size_t open_versions() const;
  // Slot numbers not free: versions held, and released ones the kernel may
  // still name (for tests and stats).
  size_t reserved_slots() const;

  // The slot itself (valid below capacity()); see the locking rule above.
  Slot& operator[](uint32_t slot) { return slots_[slot]; }
  const Slot& operator[](uint32_t slot) const { return slots_[slot]; }

 private:
  // Releases and frees what a retired slot's counters and grace allow;
  // mutex() held uniquely.
  void SettleLocked(uint32_t slot, std::chrono::steady_clock::time_point now);
  // The slot whose counters `slot` uses: its owner's, or its own.
  uint32_t RootOf(uint32_t slot) const;

  const uint32_t capacity_;
  std::chrono::milliseconds grace_{0};
  mutable std::shared_mutex mu_;
  std::unique_ptr<Slot[]> slots_;
  uint32_t next_ = 0;  // the last slot Install gave
};

}  // namespace mapfs::fs

#endif  // MAPFS_FS_VERSION_SLOTS_H_
