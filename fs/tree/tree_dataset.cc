// Datasets in a tree (docs/layout.md, "Datasets"): one collection whose
// records live in the dataset's shards. The dataset's own files (@info,
// @schema, @dataset, @shards) are nodes of the dataset's slot; each record
// is a node of its shard's slot, so its inode number, resolution, contents
// and listings are those of a record of a plain segment. Lookups route a
// key to its one shard (the manifest's rule); listings run through the
// shards in order, arrays named by dataset-wide record index.
#include <algorithm>
#include <cerrno>
#include <mutex>

#include "name_escape.h"
#include "tree.h"
#include "tree_internal.h"

namespace mapfs::fs {

namespace {

constexpr uint64_t kDotEntries = 2;

// The dataset collection's own entries, in listing order.
constexpr std::string_view kDatasetFiles[] = {"@info", "@schema", "@dataset", "@shards"};
constexpr uint32_t kDatasetFileIds[] = {kInfoFile, kSchemaFile, kManifestFile, kShardsDir};

// The shard holding dataset-wide position `g` among `firsts` (each shard's
// first position, ascending; empty shards share their successor's).
size_t ShardAt(const std::vector<uint64_t>& firsts, uint64_t g) {
  auto it = std::upper_bound(firsts.begin(), firsts.end(), g);
  return static_cast<size_t>(it - firsts.begin()) - 1;
}

}  // namespace

uint32_t Tree::ShardSlot(uint32_t dataset_slot, size_t i) const {
  std::shared_lock lock(slots_.mutex());
  const std::vector<Entry>& shards = slots_[dataset_slot].entries;
  return i < shards.size() ? shards[i].slot : 0;
}

std::vector<uint32_t> Tree::ShardSlots(uint32_t dataset_slot) const {
  std::vector<uint32_t> out;
  std::shared_lock lock(slots_.mutex());
  for (const Entry& e : slots_[dataset_slot].entries) out.push_back(e.slot);
  return out;
}

Status Tree::ResolveDatasetFile(Node* n) const {
  const NodeId& id = n->id;
  if (id.anchor != Anchor::kCollection || id.depth != 0) return Status::NotFound("no such node");
  switch (id.id) {
    case kCollectionDir: n->kind = Node::Kind::kCollection; return Status::OK();
    case kSchemaFile: n->kind = Node::Kind::kSchema; break;
    case kInfoFile: n->kind = Node::Kind::kInfo; break;
    case kManifestFile: n->kind = Node::Kind::kManifest; break;
    case kShardsDir: n->kind = Node::Kind::kShards; break;
    default: return Status::NotFound("no such node");
  }
  return n->src->dataset ? Status::OK() : n->src->status;
}

Result<NodeAttr> Tree::LookupInDataset(const Node& parent, std::string_view name) {
  const Source& src = *parent.src;
  NodeId child = parent.id;
  if (!name.empty() && name[0] == '@') {
    const auto* it = std::find(std::begin(kDatasetFiles), std::end(kDatasetFiles), name);
    if (it == std::end(kDatasetFiles)) return Status::NotFound(std::string(name));
    child.id = kDatasetFileIds[it - std::begin(kDatasetFiles)];
    return ChildAttr(parent, child, nullptr, true);
  }
  if (!src.dataset) return src.status;
  const Dataset& ds = *src.dataset;
  size_t shard = 0;
  child = NodeId();
  if (ds.kind() == CollectionKind::kArray) {
    std::optional<uint64_t> i = ParseDecimal(name);
    if (!i || *i >= ds.record_count()) return Status::NotFound(std::string(name));
    shard = ds.ShardOfRecord(*i);
    child.anchor = Anchor::kRecord;
    child.id = static_cast<uint32_t>(*i - ds.first_record(shard));
  } else {
    std::optional<uint64_t> ordinal = ds.kind() == CollectionKind::kApproxMultiMap
                                          ? std::nullopt
                                          : ParseIndexedName(name);
    if (ordinal) {
      // Indexed names carry the dataset-wide ordinal: it names the shard.
      if (*ordinal >= ds.key_count()) return Status::NotFound(std::string(name));
      shard = ShardAt(src.first_key, *ordinal);
      const Source& in = *src.shards[shard];
      const uint64_t local = *ordinal - src.first_key[shard];
      Result<Segment::Entry> e = in.seg->EntryAt(local);
      if (!e.ok()) return Corrupt(in, e.status());
      MAPFS_ASSIGN_OR_RETURN(std::string canonical, EntryName(in, *ordinal, e->key));
      if (canonical != name) return Status::NotFound(std::string(name));
      ordinal = local;
    } else {
      std::optional<std::string> raw = RawKeyOfName(ds.shard(0), name);
      if (!raw) return Status::NotFound(std::string(name));
      shard = ds.ShardOfKey(*raw);
      if (ds.kind() == CollectionKind::kApproxMultiMap) {
        // Named by the key's first record, as in a segment (tree_keys.cc).
        MAPFS_ASSIGN_OR_RETURN(std::optional<uint64_t> first,
                               FindApproxKey(*src.shards[shard], name));
        if (!first) return Status::NotFound(std::string(name));
        child.anchor = Anchor::kApproxKey;
        child.id = static_cast<uint32_t>(*first);
        child.slot = ShardSlot(parent.id.slot, shard);
        if (child.slot == 0) return Status::IOError("the dataset was replaced", ESTALE);
        return ChildAttr(parent, child, nullptr, true);
      }
      MAPFS_ASSIGN_OR_RETURN(std::optional<Segment::Entry> entry,
                             FindEntry(*src.shards[shard], name));
      if (!entry) return Status::NotFound(std::string(name));
      ordinal = entry->ordinal;
    }
    child.anchor = Anchor::kEntry;
    child.id = static_cast<uint32_t>(*ordinal);
  }
  child.slot = ShardSlot(parent.id.slot, shard);
  if (child.slot == 0) return Status::IOError("the dataset was replaced", ESTALE);
  return ChildAttr(parent, child, nullptr, true);
}

Result<NodeAttr> Tree::LookupShard(const Node& parent, std::string_view name) {
  std::optional<uint64_t> i = ParseDecimal(name);
  if (!i || std::to_string(*i) != name) return Status::NotFound(std::string(name));
  NodeId child;
  child.slot = ShardSlot(parent.id.slot, *i);
  if (child.slot == 0) return Status::NotFound(std::string(name));
  return ChildAttr(parent, child, nullptr, true);
}

Status Tree::ReadDirDataset(const Node& node, uint64_t pos, bool plus, const DirFiller& fill) {
  const Source& src = *node.src;
  if (!src.dataset) return src.status;
  const Dataset& ds = *src.dataset;
  const bool array = ds.kind() == CollectionKind::kArray;
  const uint64_t total = array ? ds.record_count() : ds.key_count();
  // As for one segment: past kMaxAttrListing members, a readdirplus gives
  // members by name and type only, so that listing a huge dataset does not
  // fill the kernel with an inode per member.
  const bool member_attrs = total <= kMaxAttrListing;
  // Emits one entry; false when the buffer is full (its lookup is undone).
  auto emit = [&](std::string_view name, const NodeId& id, uint64_t next) -> Result<bool> {
    NodeAttr a;
    const bool attrs = plus && (id.anchor == Anchor::kCollection || member_attrs);
    if (attrs) {
      MAPFS_ASSIGN_OR_RETURN(a, ChildAttr(node, id, nullptr, true));
    } else {
      a.ino = InoOf(id, false);
      a.is_dir = id.anchor != Anchor::kCollection || id.id == kShardsDir;
      a.no_entry = plus;
    }
    if (fill(name, a, next)) return true;
    if (attrs) Forget(a.ino, 1);
    return false;
  };
  constexpr uint64_t kSpecials = std::size(kDatasetFiles);
  for (uint64_t p = pos; p < kSpecials; ++p) {
    NodeId id = node.id;
    id.id = kDatasetFileIds[p];
    MAPFS_ASSIGN_OR_RETURN(bool more, emit(kDatasetFiles[p], id, p + 1 + kDotEntries));
    if (!more) return Status::OK();
  }
  // Keys of approximate multimaps are not stored: nothing to list.
  if (ds.kind() == CollectionKind::kApproxMultiMap) return Status::OK();
  uint64_t g = std::max(pos, kSpecials) - kSpecials;  // dataset-wide position
  if (g >= total) return Status::OK();
  const std::vector<uint32_t> slots = ShardSlots(node.id.slot);
  if (slots.size() != ds.shard_count()) return Status::IOError("the dataset was replaced", ESTALE);
  const uint64_t base = kSpecials + kDotEntries + 1;  // next offset of position 0
  std::vector<uint64_t> firsts;
  if (array) {
    for (size_t s = 0; s < ds.shard_count(); ++s) firsts.push_back(ds.first_record(s));
  }
  const std::vector<uint64_t>& first = array ? firsts : src.first_key;
  NodeId id;
  id.anchor = array ? Anchor::kRecord : Anchor::kEntry;
  for (size_t s = ShardAt(first, g); s < ds.shard_count(); ++s) {
    const Source& shard = *src.shards[s];
    const Segment& seg = *shard.seg;
    const uint64_t count = array ? seg.record_count() : seg.key_count();
    id.slot = slots[s];
    for (uint64_t local = g - first[s]; local < count; ++local, ++g) {
      id.id = static_cast<uint32_t>(local);
      std::string name;
      if (array) {
        name = std::to_string(g);
      } else {
        seg.PrefetchEntry(local + kListingPrefetch);
        Result<Segment::Entry> e = seg.EntryAt(local);
        if (!e.ok()) return Corrupt(shard, e.status());
        MAPFS_ASSIGN_OR_RETURN(name, EntryName(shard, g, e->key));
      }
      MAPFS_ASSIGN_OR_RETURN(bool more, emit(name, id, base + g));
      if (!more) return Status::OK();
    }
  }
  return Status::OK();
}

Status Tree::ReadDirShards(const Node& node, uint64_t pos, bool plus, const DirFiller& fill) {
  const std::vector<uint32_t> slots = ShardSlots(node.id.slot);
  for (uint64_t i = pos; i < slots.size(); ++i) {
    NodeId id;
    id.slot = slots[i];
    NodeAttr a;
    if (plus) {
      MAPFS_ASSIGN_OR_RETURN(a, ChildAttr(node, id, nullptr, true));
    } else {
      a.ino = InoOf(id, false);
      a.is_dir = true;
    }
    if (!fill(std::to_string(i), a, i + 1 + kDotEntries)) {
      if (plus) Forget(a.ino, 1);
      break;
    }
  }
  return Status::OK();
}

}  // namespace mapfs::fs
