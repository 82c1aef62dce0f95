// Tree: the children of a single-file mount's root that the kernel was
// handed, and naming them for invalidation when the file is replaced (see
// root_names.h and docs/layout.md, "Replaced sources").
#include <string>

#include "log.h"
#include "tree_internal.h"

namespace mapfs::fs {

std::unique_ptr<RootNames> RootNamesFor(const Segment& seg) {
  switch (seg.kind()) {
    case CollectionKind::kArray: return std::make_unique<RootNames>(seg.record_count());
    case CollectionKind::kMapping:
    case CollectionKind::kMultiMap: return std::make_unique<RootNames>(seg.key_count());
    case CollectionKind::kApproxMultiMap:
      break;  // keys are not stored: a key directory's name cannot be rebuilt
  }
  return nullptr;
}

void Tree::NoteRootEntry(NodeAttr* a) const {
  a->volatile_entry = true;
  std::optional<NodeId> id = IsCompactIno(a->ino) ? DecodeCompact(a->ino) : table_.Find(a->ino);
  if (!id || id->depth != 0) return;
  std::shared_ptr<const Source> src = slots_.At(id->slot);
  if (!src || !src->root_names || !src->seg) return;
  RootNames& names = *src->root_names;
  switch (id->anchor) {
    case Anchor::kCollection:
      a->volatile_entry = !names.NoteFile(id->id);
      return;
    case Anchor::kRecord:
      if (src->seg->kind() == CollectionKind::kArray) a->volatile_entry = !names.Note(id->id);
      return;
    case Anchor::kEntry:
      a->volatile_entry = !names.Note(id->id);
      return;
    case Anchor::kApproxKey:
      return;
  }
}

void Tree::ForgetRootNames(const Source& old, std::vector<Invalidation>* out) const {
  if (!old.root_names || !old.seg) return;
  // The collection files are named by ForgetCollectionFiles whether noted
  // or not: their notes only serve the race with a replacement (RootNames).
  const Segment& seg = *old.seg;
  const bool array = seg.kind() == CollectionKind::kArray;
  uint64_t unnamed = 0;
  for (uint64_t i : old.root_names->Noted()) {
    if (array) {
      out->push_back({kRootIno, std::to_string(i)});
      continue;
    }
    Result<Segment::Entry> e = seg.EntryAt(i);
    Result<std::string> name = e.ok() ? EntryName(old, i, e->key) : e.status();
    if (!name.ok()) {
      ++unnamed;  // a damaged version: it answered EIO, or the name outlives it
      continue;
    }
    out->push_back({kRootIno, std::move(*name)});
  }
  if (unnamed > 0) {
    LogWarn("%s: %llu name(s) the kernel may cache could not be read from the replaced "
            "version; they are looked up again once it is released",
            old.path.c_str(), static_cast<unsigned long long>(unnamed));
  }
}

}  // namespace mapfs::fs
