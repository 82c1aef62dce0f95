// Directory listings. An offset is a position in a directory's fixed child
// sequence ("." , "..", the @ entries, then children by index), so resuming
// is O(1) at any offset and a listing holds no state between calls.
#include <cstring>

#include "content.h"
#include "name_escape.h"
#include "tree_internal.h"

namespace mapfs::fs {

namespace {

constexpr uint64_t kDotEntries = 2;

// The parent's inode number where it is known without a search ("..").
uint64_t ParentIno(const NodeId& id) {
  NodeId p = id;
  if (p.depth > 0) {
    --p.depth;
  } else if (p.anchor != Anchor::kCollection) {
    p = NodeId();
    p.slot = id.slot;
  } else {
    return kRootIno;
  }
  const uint64_t ino = EncodeCompact(p);
  return ino ? ino : kRootIno;
}

}  // namespace

Status Tree::ReadDir(uint64_t ino, uint64_t offset, bool plus, const DirFiller& fill_entry) {
  // The caller's filler as it is (a copy would allocate on every listing),
  // or, at a single-file mount's root, wrapped to note what it hands over.
  DirFiller noting;
  if (VolatileChildren(ino)) {
    // readdirplus hands the kernel entries as a lookup does (NoteRootEntry).
    noting = [&](std::string_view name, const NodeAttr& attr, uint64_t next) {
      NodeAttr a = attr;
      a.volatile_entry = true;
      if (plus && !a.no_entry && name != "." && name != "..") NoteRootEntry(&a);
      return fill_entry(name, a, next);
    };
  }
  const DirFiller& fill = noting ? noting : fill_entry;
  MAPFS_ASSIGN_OR_RETURN(Node node, Resolve(ino));
  if (!node.is_dir()) return Status::IOError("not a directory", ENOTDIR);
  if (node.kind == Node::Kind::kValue && node.id.depth == 0) {
    MAPFS_RETURN_IF_ERROR(CheckRecord(node, node.value));  // a record's own directory
  }
  NodeAttr dot;
  dot.is_dir = true;
  dot.mtime = node.src ? node.src->mtime : root_mtime_;
  for (uint64_t pos = offset; pos < kDotEntries; ++pos) {
    dot.ino = pos == 0 ? ino : ParentIno(node.id);
    if (!fill(pos == 0 ? "." : "..", dot, pos + 1)) return Status::OK();
  }
  const uint64_t pos = std::max(offset, kDotEntries) - kDotEntries;
  switch (node.kind) {
    case Node::Kind::kMountRoot:
    case Node::Kind::kDirectory:
      return ReadDirEntries(node, pos, plus, fill);
    case Node::Kind::kCollection:
      if (node.src->is_dataset) return ReadDirDataset(node, pos, plus, fill);
      return ReadDirCollection(node, pos, plus, fill);
    case Node::Kind::kKeyDir:
      return ReadDirCollection(node, pos, plus, fill);
    case Node::Kind::kShards:
      return ReadDirShards(node, pos, plus, fill);
    default:
      return ReadDirValue(node, pos, plus, fill);
  }
}

Status Tree::ReadDirEntries(const Node& node, uint64_t pos, bool plus, const DirFiller& fill) {
  std::vector<Entry> entries;
  {
    std::shared_lock lock(slots_.mutex());
    const uint32_t dir_slot = node.kind == Node::Kind::kMountRoot ? 0 : node.id.slot;
    const std::vector<Entry>& all = slots_[dir_slot].entries;
    if (pos < all.size()) entries.assign(all.begin() + static_cast<ptrdiff_t>(pos), all.end());
    // Pinned until listed (see Lookup).
    for (const Entry& e : entries) slots_.Count(e.slot, 1);
  }
  struct Unpin {
    Tree* tree;
    const std::vector<Entry>& entries;
    ~Unpin() {
      for (const Entry& e : entries) tree->slots_.Count(e.slot, -1);
    }
  } unpin{this, entries};
  for (size_t i = 0; i < entries.size(); ++i) {
    NodeId child;
    child.slot = entries[i].slot;
    std::shared_ptr<const Source> src = slots_.At(child.slot);
    if (!src) continue;  // replaced meanwhile
    NodeAttr a;
    if (src->is_array) {
      // readdirplus hands this size to the kernel; an array that failed
      // to attach is listed with size 0 and answers EIO when used.
      Result<Node> array = ResolveId(child);
      Result<NodeAttr> attr = array.ok() ? AttrOf(*array) : array.status();
      if (attr.ok()) a = *attr;
    }
    a.ino = InoOf(child, plus);
    a.is_dir = !src->is_array;
    a.mtime = src->mtime;
    if (!fill(entries[i].name, a, pos + i + 1 + kDotEntries)) {
      if (plus) Forget(a.ino, 1);
      break;
    }
  }
  return Status::OK();
}

Status Tree::ReadDirCollection(const Node& node, uint64_t pos, bool plus, const DirFiller& fill) {
  const Source& src = *node.src;
  if (!src.seg) return src.status;
  const Segment& seg = *src.seg;
  const bool key_dir = node.kind == Node::Kind::kKeyDir;
  const uint64_t specials = key_dir ? 1 : std::size(kCollectionFiles);
  const uint64_t members = key_dir                                    ? node.ids.size()
                           : seg.kind() == CollectionKind::kArray ? seg.record_count()
                                                                  : seg.key_count();
  // The kernel keeps an inode for every entry a readdirplus hands it with
  // attributes. A walk of a collection needs them all, but merely listing
  // a huge one would fill the kernel with them: past kMaxAttrListing
  // members, entries come by name and type only and are looked up if used.
  const bool member_attrs = plus && members <= kMaxAttrListing;
  // Emits one entry; false when the buffer is full (its lookup is undone).
  // With `plus`, an entry whose attributes cost a rendering (a key
  // directory's @json) or cannot be had (a damaged record) is listed by
  // name and type only: a lookup sizes it, or reports the damage, when used.
  auto emit = [&](std::string_view name, const NodeId& id, uint64_t next) -> Result<bool> {
    const bool key_json = key_dir && id.depth > 0;
    const bool special = id.anchor == Anchor::kCollection || key_json;
    if (plus && !key_json && (special || member_attrs)) {
      Result<NodeAttr> a = ChildAttr(node, id, nullptr, true);
      if (a.ok()) {
        if (fill(name, *a, next)) return true;
        Forget(a->ino, 1);
        return false;
      }
      if (!a.status().IsCorruption()) return a.status();
    }
    NodeAttr a;
    a.ino = InoOf(id, false);
    a.is_dir = !key_json && (id.anchor != Anchor::kCollection || id.id == kCollectionDir);
    a.no_entry = plus;
    return fill(name, a, next);
  };
  for (uint64_t p = pos; p < specials; ++p) {
    NodeId id = node.id;
    std::string_view name;
    if (key_dir) {
      id.Push(kJsonStep);
      name = "@json";
    } else {
      id.id = kCollectionFileIds[p];
      name = kCollectionFiles[p];
    }
    MAPFS_ASSIGN_OR_RETURN(bool more, emit(name, id, p + 1 + kDotEntries));
    if (!more) return Status::OK();
  }
  if (src.is_shard && !key_dir) return Status::OK();  // its records are the dataset's
  const uint64_t first = std::max(pos, specials) - specials;
  const uint64_t base = specials + kDotEntries + 1;  // next offset of child 0
  NodeId id;
  id.slot = node.id.slot;
  if (key_dir) {
    id.anchor = Anchor::kRecord;
    for (uint64_t i = first; i < node.ids.size(); ++i) {
      id.id = node.ids[static_cast<uint32_t>(i)];
      MAPFS_ASSIGN_OR_RETURN(bool more, emit(std::to_string(i), id, base + i));
      if (!more) break;
    }
    return Status::OK();
  }
  switch (seg.kind()) {
    case CollectionKind::kArray:
      id.anchor = Anchor::kRecord;
      for (uint64_t i = first; i < seg.record_count(); ++i) {
        id.id = static_cast<uint32_t>(i);
        MAPFS_ASSIGN_OR_RETURN(bool more, emit(std::to_string(i), id, base + i));
        if (!more) break;
      }
      break;
    case CollectionKind::kMapping:
    case CollectionKind::kMultiMap:
      id.anchor = Anchor::kEntry;
      for (uint64_t i = first; i < seg.key_count(); ++i) {
        seg.PrefetchEntry(i + kListingPrefetch);
        Result<Segment::Entry> e = seg.EntryAt(i);
        if (!e.ok()) return Corrupt(src, e.status());
        MAPFS_ASSIGN_OR_RETURN(std::string name, EntryName(src, i, e->key));
        id.id = static_cast<uint32_t>(i);
        MAPFS_ASSIGN_OR_RETURN(bool more, emit(name, id, base + i));
        if (!more) break;
      }
      break;
    case CollectionKind::kApproxMultiMap:
      break;  // keys are not stored: nothing to list, lookups still work
  }
  return Status::OK();
}

Status Tree::ReadDirValue(const Node& node, uint64_t pos, bool plus, const DirFiller& fill) {
  const View& dir = node.value;
  if (pos == 0) {
    NodeId id = node.id;
    NodeAttr a;
    if (!id.Push(kJsonStep)) return Status::OK();
    // Its size would cost rendering the document: listed without attributes
    // (no_entry), so a walk renders nothing it does not read.
    a.ino = InoOf(id, false);
    a.no_entry = plus;
    if (!fill("@json", a, kDotEntries + 1)) return Status::OK();
  }
  const uint64_t first = pos == 0 ? 0 : pos - 1;
  const size_t n = ChildCount(dir);
  for (uint64_t i = first; i < n; ++i) {
    Result<View> child = ChildAt(dir, i);
    if (!child.ok()) return CorruptNode(node, child.status());
    if (child->is_null()) continue;  // absent values do not appear
    Result<std::string> name = ChildName(dir, i);
    if (!name.ok()) return CorruptNode(node, name.status());
    NodeId id = node.id;
    if (!id.Push(static_cast<uint32_t>(i))) return Status::OK();
    Result<NodeAttr> a = Status::NotFound("");
    if (plus) {
      a = ChildAttr(node, id, &*child, true);
      if (!a.ok() && !a.status().IsCorruption()) return a.status();
    }
    if (!a.ok()) {
      // A plain listing, or a damaged value: by name and type only, as in
      // ReadDirCollection.
      a = NodeAttr();
      a->ino = InoOf(id, false);
      a->is_dir = IsDirectoryValue(*child);
      a->no_entry = plus;
    }
    if (!fill(*name, *a, kDotEntries + 2 + i)) {
      if (plus && !a->no_entry) Forget(a->ino, 1);
      break;
    }
  }
  return Status::OK();
}

}  // namespace mapfs::fs
