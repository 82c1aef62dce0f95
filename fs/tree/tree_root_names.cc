// Tree: the children of a single-file mount's root that the kernel was
// handed, and naming them for invalidation when the file is replaced (see
// root_names.h and docs/layout.md, "Replaced sources").
#include <algorithm>
#include <string>

#include "log.h"
#include "tree_internal.h"

namespace mapfs::fs {

namespace {

// Members are numbered as the root lists them: records of an array, index
// entries of a mapping or multimap (dataset-wide for a dataset). Keys of
// approximate multimaps are not stored, so their names cannot be rebuilt.
std::unique_ptr<RootNames> NamesOf(CollectionKind kind, uint64_t records, uint64_t keys) {
  switch (kind) {
    case CollectionKind::kArray: return std::make_unique<RootNames>(records);
    case CollectionKind::kMapping:
    case CollectionKind::kMultiMap: return std::make_unique<RootNames>(keys);
    case CollectionKind::kApproxMultiMap: break;
  }
  return nullptr;
}

}  // namespace

std::unique_ptr<RootNames> RootNamesFor(const Tree::Source& src) {
  if (src.seg) return NamesOf(src.seg->kind(), src.seg->record_count(), src.seg->key_count());
  if (src.dataset) {
    const Dataset& ds = *src.dataset;
    return NamesOf(ds.kind(), ds.record_count(), ds.key_count());
  }
  return nullptr;
}

void Tree::NoteRootEntry(NodeAttr* a) const {
  a->volatile_entry = true;
  std::optional<NodeId> id = IsCompactIno(a->ino) ? DecodeCompact(a->ino) : table_.Find(a->ino);
  if (!id || id->depth != 0 || id->slot == 0 || id->slot >= slots_.capacity()) return;
  std::shared_ptr<const Source> src = slots_.At(id->slot);
  if (!src) return;
  // A dataset's member is a node of its shard, numbered in the shard.
  uint64_t first = 0;
  std::shared_ptr<const Source> root = src;
  if (src->is_shard) {
    root = slots_.At(slots_[id->slot].owner.load());
    if (!root || !root->dataset || src->shard_index >= root->shards.size() ||
        root->shards[src->shard_index] != src) {
      return;
    }
    const Dataset& ds = *root->dataset;
    first = ds.kind() == CollectionKind::kArray ? ds.first_record(src->shard_index)
                                                : root->first_key[src->shard_index];
  }
  if (!root->root_names) return;
  RootNames& names = *root->root_names;
  const CollectionKind kind = root->seg ? root->seg->kind() : root->dataset->kind();
  switch (id->anchor) {
    case Anchor::kCollection:
      if (src == root) a->volatile_entry = !names.NoteFile(id->id);
      return;
    case Anchor::kRecord:
      if (kind == CollectionKind::kArray) a->volatile_entry = !names.Note(first + id->id);
      return;
    case Anchor::kEntry:
      a->volatile_entry = !names.Note(first + id->id);
      return;
    case Anchor::kApproxKey:
      return;
  }
}

void Tree::ForgetRootNames(const Source& old, std::vector<Invalidation>* out) const {
  if (!old.root_names || (!old.seg && !old.dataset)) return;
  // The collection files are named by ForgetCollectionFiles whether noted
  // or not: their notes only serve the race with a replacement (RootNames).
  // A dataset's @shards is named here.
  for (uint32_t file : old.root_names->NotedFiles()) {
    if (old.dataset && file == kShardsDir) out->push_back({kRootIno, "@shards"});
  }
  const bool array =
      (old.seg ? old.seg->kind() : old.dataset->kind()) == CollectionKind::kArray;
  uint64_t unnamed = 0;
  for (uint64_t g : old.root_names->Noted()) {
    if (array) {
      out->push_back({kRootIno, std::to_string(g), true});
      continue;
    }
    // The shard holding dataset-wide entry `g` (empty shards share their
    // successor's first key: the last shard starting at or before `g`).
    const Source* in = &old;
    uint64_t local = g;
    if (old.dataset) {
      const auto it = std::upper_bound(old.first_key.begin(), old.first_key.end(), g);
      const size_t s = static_cast<size_t>(it - old.first_key.begin()) - 1;
      if (it == old.first_key.begin() || s >= old.shards.size()) {
        ++unnamed;
        continue;
      }
      in = old.shards[s].get();
      local = g - old.first_key[s];
    }
    Result<Segment::Entry> e = in->seg->EntryAt(local);
    Result<std::string> name = e.ok() ? EntryName(*in, g, e->key) : e.status();
    if (!name.ok()) {
      ++unnamed;  // a damaged version: it answered EIO, or the name outlives it
      continue;
    }
    out->push_back({kRootIno, std::move(*name), true});
  }
  if (unnamed > 0) {
    LogWarn("%s: %llu name(s) the kernel may cache could not be read from the replaced "
            "version; they are looked up again once it is released",
            old.path.c_str(), static_cast<unsigned long long>(unnamed));
  }
}

}  // namespace mapfs::fs
