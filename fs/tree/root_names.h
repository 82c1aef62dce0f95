// RootNames: which children of a single-file mount's root one version has
// handed the kernel (a lookup reply, a readdirplus entry carrying a node),
// so that its replacement can invalidate exactly those names
// (docs/layout.md, "Replaced sources"). One bit per member of the collection (a
// record of an array, an index entry of a mapping or multimap) and one per
// collection file (@schema, @info, @segment).
//
// Memory: a LazyBitmap (members / 8 bytes of address space), committed only
// around the members handed out: 4 KiB per 32768.
//
// Retire and Note race by design: a lookup that resolved the version just
// before it was replaced may note its name after the replacement listed the
// noted names. Note then returns false and the caller gives the kernel that
// entry for a short time only (NodeAttr::volatile_entry). Both sides use
// sequentially consistent operations, so a Note either is listed by Noted
// after Retire or sees the retirement.
//
// Thread-safety: every method may be called concurrently.
//
//   RootNames names(seg.key_count());
//   attr.volatile_entry = !names.Note(ordinal);   // at each lookup
//   names.Retire();                                // replaced
//   for (uint64_t i : names.Noted()) Invalidate(NameOf(i));
#ifndef MAPFS_FS_ROOT_NAMES_H_
#define MAPFS_FS_ROOT_NAMES_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "lazy_bitmap.h"

namespace mapfs::fs {

class RootNames {
 public:
  explicit RootNames(uint64_t members) : members_(members) {}

  // Notes that the kernel was handed member `i` (NoteFile: collection file
  // `file`, a CollectionFile below 64). True if the entry may be cached
  // long: noted, and the version not retired yet. False for members out of
  // range and when the bitmap could not be reserved.
  bool Note(uint64_t i);
  bool NoteFile(uint32_t file);
  // The version was replaced: later Notes return false.
  void Retire();
  bool retired() const { return retired_.load(); }
  // The members and collection files noted so far, ascending. Reads the
  // whole bitmap (untouched pages read as zeros without being committed).
  std::vector<uint64_t> Noted() const;
  std::vector<uint32_t> NotedFiles() const;
  uint64_t members() const { return members_.size(); }
  // Bytes of address space reserved (for tests).
  size_t reserved_bytes() const { return members_.reserved_bytes(); }

 private:
  LazyBitmap members_;
  std::atomic<uint64_t> files_{0};
  std::atomic<bool> retired_{false};
};

}  // namespace mapfs::fs

#endif  // MAPFS_FS_ROOT_NAMES_H_
