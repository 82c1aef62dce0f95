// Tree: turning inode numbers back into nodes, lookups, attributes and
// reads. Sources and their versions are in tree_sources.cc, listings in
// tree_dir.cc, value children in tree_children.cc, the names of index
// entries in tree_keys.cc.
#include "tree.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "content.h"
#include "name_escape.h"
#include "tree_internal.h"

namespace mapfs::fs {

Status Tree::Damaged(const Source& src) const {
  return Status::Corruption(src.path + ": the file was truncated or rewritten in place while "
                                       "mounted; replace mounted files by rename");
}

Status Tree::Corrupt(const Source& src, const Status& st) const {
  if (st.ok() || st.message().starts_with(src.path)) return st;
  return st.WithContext(src.path);
}

Status Tree::CorruptNode(const Node& node, const Status& st) const {
  if (!st.IsCorruption() || node.src == nullptr) return st;
  if (node.record_at == 0) return Corrupt(*node.src, st);
  return st.WithContext(node.src->path + ": record at offset " + std::to_string(node.record_at));
}

Result<Tree::Node> Tree::Resolve(uint64_t ino) const {
  std::optional<NodeId> id = IsCompactIno(ino) ? DecodeCompact(ino) : table_.Find(ino);
  if (!id) return Status::NotFound("no such inode");
  return ResolveId(*id);
}

Result<Tree::Node> Tree::ResolveId(const NodeId& id) const {
  Node n;
  n.id = id;
  if (id.slot == 0) {
    if (id.anchor != Anchor::kCollection || id.id != 0 || id.depth != 0) {
      return Status::NotFound("no such node");
    }
    if (!single_) {
      n.kind = Node::Kind::kMountRoot;
      return n;
    }
  }
  MAPFS_RETURN_IF_ERROR(PinVersion(&n));
  const Source& src = *n.src;
  if (src.seg && src.seg->damaged()) return Damaged(src);
  if (src.is_directory || src.is_array || src.is_dataset || n.id.anchor == Anchor::kCollection) {
    MAPFS_RETURN_IF_ERROR(ResolveSourceFile(&n));
    return n;
  }
  if (!src.seg) return src.status;
  MAPFS_ASSIGN_OR_RETURN(std::optional<std::string_view> record, ResolveRecord(&n));
  if (!record) return n;  // a multimap key directory, or its @json
  MAPFS_RETURN_IF_ERROR(ResolveValue(&n, *record));
  return n;
}

Status Tree::PinVersion(Node* n) const {
  if (n->id.slot == 0) {
    // A single-file mount: the root is the current version's collection.
    std::shared_lock lock(slots_.mutex());
    n->id.slot = slots_[0].entries[0].slot;
    n->hold = slots_[n->id.slot].src;
  } else {
    n->hold = slots_.At(n->id.slot);
  }
  if (!n->hold) return Status::IOError("the source was replaced", ESTALE);
  n->src = n->hold.get();
  return Status::OK();
}

Status Tree::ResolveSourceFile(Node* n) const {
  const Source& src = *n->src;
  const NodeId& id = n->id;
  const bool is_top = id.anchor == Anchor::kCollection && id.id == kCollectionDir && id.depth == 0;
  if (src.is_dataset) return ResolveDatasetFile(n);
  if (src.is_directory) {
    if (!is_top) return Status::NotFound("no such node");
    n->kind = Node::Kind::kDirectory;
    return Status::OK();
  }
  if (src.is_array) {
    if (!is_top) return Status::NotFound("no such node");
    if (!src.array) return src.status;
    n->kind = Node::Kind::kArray;
    return Status::OK();
  }
  if (id.depth != 0) return Status::NotFound("no such node");
  switch (id.id) {
    case kCollectionDir: n->kind = Node::Kind::kCollection; return Status::OK();
    case kSchemaFile: n->kind = Node::Kind::kSchema; break;
    case kInfoFile: n->kind = Node::Kind::kInfo; break;
    case kSegmentFile: n->kind = Node::Kind::kSegment; break;
    default: return Status::NotFound("no such node");
  }
  return src.seg ? Status::OK() : src.status;
}

Result<std::optional<std::string_view>> Tree::ResolveRecord(Node* n) const {
  const Source& src = *n->src;
  const Segment& seg = *src.seg;
  const NodeId& id = n->id;
  if (id.anchor == Anchor::kApproxKey) return ResolveApproxKey(n);
  if (id.anchor != Anchor::kEntry) {
    // Mapping records are named by their key only: one name per node.
    if (seg.kind() == CollectionKind::kMapping || id.id >= seg.record_count()) {
      return Status::NotFound("no such record");
    }
    Result<std::string_view> bytes = seg.RecordBytes(id.id);
    if (!bytes.ok()) return Corrupt(src, bytes.status());
    return std::optional<std::string_view>(*bytes);
  }
  if (seg.kind() == CollectionKind::kArray || id.id >= seg.key_count()) {
    return Status::NotFound("no such entry");
  }
  const bool multi =
      seg.kind() == CollectionKind::kMultiMap || seg.kind() == CollectionKind::kApproxMultiMap;
  if (!multi) {
    Result<Segment::Entry> e = seg.EntryAt(id.id);
    if (!e.ok()) return Corrupt(src, e.status());
    return std::optional<std::string_view>(e->record);
  }
  Result<Segment::RecordIds> ids = seg.RecordsAt(id.id);
  if (!ids.ok()) return Corrupt(src, ids.status());
  n->ids = *ids;
  return ResolveKeyDir(n);
}

Result<std::optional<std::string_view>> Tree::ResolveKeyDir(Node* n) const {
  const NodeId& id = n->id;
  if (id.depth == 0) {
    n->kind = Node::Kind::kKeyDir;
    return std::optional<std::string_view>();
  }
  if (id.depth == 1 && id.steps[0] == kJsonStep) {
    n->kind = Node::Kind::kJson;
    n->key_dir_json = true;
    return std::optional<std::string_view>();
  }
  return Status::NotFound("no such node");
}

Status Tree::ResolveValue(Node* n, std::string_view record) const {
  const Segment& seg = *n->src->seg;
  const NodeId& id = n->id;
  n->record_at = static_cast<uint64_t>(record.data() - seg.bytes().data());
  auto corrupt = [&](const Status& st) { return CorruptNode(*n, st); };
  Result<View> rec = seg.ViewOf(record);
  if (!rec.ok()) return corrupt(rec.status());
  // The record's own directory is checked when listed or looked into
  // (Lookup, ReadDir), so that its attributes (a listing of the collection)
  // cost no pass over it.
  if (id.depth > 0) MAPFS_RETURN_IF_ERROR(CheckRecord(*n, *rec));
  View v = *rec;
  for (uint32_t i = 0; i < id.depth; ++i) {
    if (id.steps[i] == kJsonStep) {
      if (i + 1 != id.depth || !IsDirectoryValue(v)) return Status::NotFound("no such node");
      n->kind = Node::Kind::kJson;
      n->value = v;
      return Status::OK();
    }
    if (!IsDirectoryValue(v)) return Status::NotFound("not a directory");
    Result<View> child = ChildAt(v, id.steps[i]);
    if (!child.ok()) return corrupt(child.status());
    if (child->is_null()) return Status::NotFound("absent value");
    v = *child;
  }
  n->kind = Node::Kind::kValue;
  n->value = v;
  return Status::OK();
}

Status Tree::CheckRecord(const Node& n, const View& record) const {
  RecordChecks* checked = n.src->checked.get();
  if (checked != nullptr && checked->Passed(n.id.id)) return Status::OK();
  Status st = Verify(record);
  if (!st.ok()) return CorruptNode(n, st);
  if (checked != nullptr) checked->MarkPassed(n.id.id);
  return Status::OK();
}

Result<std::shared_ptr<const std::string>> Tree::JsonOf(const Node& node) const {
  // Slots are reused by later versions; generations are not.
  std::string key = node.id.Serialize();
  key.append(reinterpret_cast<const char*>(&node.src->generation), sizeof(uint64_t));
  if (auto hit = cache_->Get(key)) return hit;
  auto out = std::make_shared<std::string>();
  const Segment& seg = *node.src->seg;
  if (node.key_dir_json) {
    out->push_back('[');
    for (uint32_t i = 0; i < node.ids.size(); ++i) {
      if (i) out->push_back(',');
      Result<View> rec = seg.Record(node.ids[i]);
      Status st = rec.ok() ? RenderJson(*rec, out.get()) : rec.status();
      if (!st.ok()) return Corrupt(*node.src, st);
    }
    out->push_back(']');
  } else {
    Status st = RenderJson(node.value, out.get());
    if (!st.ok()) return CorruptNode(node, st);
  }
  out->push_back('\n');
  out->shrink_to_fit();  // appending left up to twice the bytes; the cache keeps them
  cache_->Put(key, out);
  return std::shared_ptr<const std::string>(std::move(out));
}

Result<NodeAttr> Tree::AttrOf(const Node& node) const {
  NodeAttr a;
  a.mtime = node.src ? node.src->mtime : root_mtime_;
  a.is_dir = node.is_dir();
  switch (node.kind) {
    case Node::Kind::kSchema: a.size = node.src->schema_yaml.size(); break;
    case Node::Kind::kInfo: a.size = node.src->info_json.size(); break;
    case Node::Kind::kSegment:
      a.size = node.src->seg->file_size();
      a.backing_file = true;
      break;
    case Node::Kind::kManifest: a.size = node.src->manifest.size(); break;
    case Node::Kind::kArray:
      a.size = node.src->npy_header.size() + node.src->array->data_size();
      a.live = true;
      break;
    case Node::Kind::kJson: {
      MAPFS_ASSIGN_OR_RETURN(auto json, JsonOf(node));
      a.size = json->size();
      break;
    }
    case Node::Kind::kValue:
      if (!a.is_dir) {
        Result<uint64_t> size = FileSize(node.value);
        if (!size.ok()) return CorruptNode(node, size.status());
        a.size = *size;
      }
      break;
    default:
      break;
  }
  return a;
}

Result<NodeAttr> Tree::GetAttr(uint64_t ino) const {
  MAPFS_ASSIGN_OR_RETURN(Node node, Resolve(ino));
  MAPFS_ASSIGN_OR_RETURN(NodeAttr a, AttrOf(node));
  a.ino = ino;
  return a;
}

uint64_t Tree::InoOf(const NodeId& id, bool count_lookup) {
  if (count_lookup) slots_.Count(id.slot, 1);
  if (uint64_t ino = EncodeCompact(id)) return ino;
  return count_lookup ? table_.Acquire(id) : table_.Peek(id);
}

Result<NodeAttr> Tree::ChildAttr(const Node& parent, const NodeId& child_id, const View* child,
                                 bool count_lookup) {
  Node node;
  if (child != nullptr) {
    node.kind = Node::Kind::kValue;
    node.id = child_id;
    node.src = parent.src;
    node.hold = parent.hold;
    node.value = *child;
    node.record_at = parent.record_at;
  } else {
    MAPFS_ASSIGN_OR_RETURN(node, ResolveId(child_id));
  }
  MAPFS_ASSIGN_OR_RETURN(NodeAttr a, AttrOf(node));
  a.ino = InoOf(child_id, count_lookup);
  return a;
}

Result<NodeAttr> Tree::RecordAttr(const Node& parent, const NodeId& child_id,
                                  std::string_view record) {
  Node node;
  node.id = child_id;
  node.src = parent.src;
  node.hold = parent.hold;
  MAPFS_RETURN_IF_ERROR(ResolveValue(&node, record));
  MAPFS_ASSIGN_OR_RETURN(NodeAttr a, AttrOf(node));
  a.ino = InoOf(child_id, true);
  return a;
}

Result<NodeAttr> Tree::LookupEntry(const Node& parent, std::string_view name) {
  const uint32_t dir_slot = parent.kind == Node::Kind::kMountRoot ? 0 : parent.id.slot;
  // A replacement between finding the entry and resolving it may release
  // the version found (ESTALE): the entry then names the new one.
  for (int attempt = 0;; ++attempt) {
    NodeId child;
    {
      // Counted under the lock, so the slot number cannot be freed and
      // reused between finding it and counting this lookup.
      std::shared_lock lock(slots_.mutex());
      for (const Entry& e : slots_[dir_slot].entries) {
        if (e.name == name) child.slot = e.slot;
      }
      if (child.slot != 0) slots_.Count(child.slot, 1);
    }
    if (child.slot == 0) return Status::NotFound(std::string(name));
    Result<NodeAttr> a = ChildAttr(parent, child, nullptr, true);
    slots_.Count(child.slot, -1);
    if (a.ok() || a.status().posix_errno() != ESTALE || attempt == 2) return a;
  }
}

Result<NodeAttr> Tree::LookupInCollection(const Node& parent, std::string_view name) {
  const Source& src = *parent.src;
  if (src.is_dataset) return LookupInDataset(parent, name);
  NodeId child = parent.id;
  if (!name.empty() && name[0] == '@') {
    if (name == "@schema") child.id = kSchemaFile;
    else if (name == "@info") child.id = kInfoFile;
    else if (name == "@segment") child.id = kSegmentFile;
    else return Status::NotFound(std::string(name));
    return ChildAttr(parent, child, nullptr, true);
  }
  if (src.is_shard) return Status::NotFound(std::string(name));  // records: via the dataset
  if (!src.seg) return src.status;
  if (src.seg->kind() == CollectionKind::kArray) {
    std::optional<uint64_t> i = ParseDecimal(name);
    if (!i || *i >= src.seg->record_count()) return Status::NotFound(std::string(name));
    child.anchor = Anchor::kRecord;
    child.id = static_cast<uint32_t>(*i);
  } else if (src.seg->kind() == CollectionKind::kApproxMultiMap) {
    MAPFS_ASSIGN_OR_RETURN(std::optional<uint64_t> first, FindApproxKey(src, name));
    if (!first) return Status::NotFound(std::string(name));
    child.anchor = Anchor::kApproxKey;
    child.id = static_cast<uint32_t>(*first);
  } else {
    MAPFS_ASSIGN_OR_RETURN(std::optional<Segment::Entry> entry, FindEntry(src, name));
    if (!entry) return Status::NotFound(std::string(name));
    child.anchor = Anchor::kEntry;
    child.id = static_cast<uint32_t>(entry->ordinal);
    // A mapping's entry leads to its record: no second read of the index.
    if (src.seg->kind() == CollectionKind::kMapping) return RecordAttr(parent, child, entry->record);
  }
  return ChildAttr(parent, child, nullptr, true);
}

Result<NodeAttr> Tree::Lookup(uint64_t parent_ino, std::string_view name) {
  MAPFS_ASSIGN_OR_RETURN(Node parent, Resolve(parent_ino));
  if (!parent.is_dir()) return Status::IOError("not a directory", ENOTDIR);
  NodeId child = parent.id;
  const bool reserved = !name.empty() && name[0] == '@';
  switch (parent.kind) {
    case Node::Kind::kMountRoot:
    case Node::Kind::kDirectory:
      return LookupEntry(parent, name);
    case Node::Kind::kCollection: {
      MAPFS_ASSIGN_OR_RETURN(NodeAttr a, LookupInCollection(parent, name));
      if (VolatileChildren(parent_ino)) NoteRootEntry(&a);
      return a;
    }
    case Node::Kind::kShards:
      return LookupShard(parent, name);
    case Node::Kind::kKeyDir: {
      if (name == "@json") {
        child.Push(kJsonStep);
        return ChildAttr(parent, child, nullptr, true);
      }
      std::optional<uint64_t> i = ParseDecimal(name);
      if (!i || *i >= parent.ids.size()) return Status::NotFound(std::string(name));
      child = NodeId();
      child.slot = parent.id.slot;
      child.anchor = Anchor::kRecord;
      child.id = parent.ids[static_cast<uint32_t>(*i)];
      return ChildAttr(parent, child, nullptr, true);
    }
    case Node::Kind::kValue: {
      if (parent.id.depth == 0) MAPFS_RETURN_IF_ERROR(CheckRecord(parent, parent.value));
      if (name == "@json") {
        if (!child.Push(kJsonStep)) return Status::NotFound("too deep");
        return ChildAttr(parent, child, nullptr, true);
      }
      if (reserved) return Status::NotFound(std::string(name));
      Result<std::optional<uint64_t>> pos = FindChild(parent.value, name);
      if (!pos.ok()) return CorruptNode(parent, pos.status());
      if (!*pos || !child.Push(static_cast<uint32_t>(**pos))) {
        return Status::NotFound(std::string(name));
      }
      Result<View> v = ChildAt(parent.value, **pos);
      if (!v.ok()) return CorruptNode(parent, v.status());
      if (v->is_null()) return Status::NotFound(std::string(name));
      return ChildAttr(parent, child, &*v, true);
    }
    default:
      return Status::IOError("not a directory", ENOTDIR);
  }
}

namespace {

// Points the reply at bytes [offset, offset + size) of `data`.
void Slice(std::string_view data, uint64_t offset, size_t size, ReadReply* out) {
  out->count = 1;
  out->pieces[0] = offset >= data.size() ? std::string_view() : data.substr(offset, size);
}

// Points the reply at bytes [offset, offset + size) of `header` then `data`.
void SliceNpy(std::string_view header, std::string_view data, uint64_t offset, size_t size,
              ReadReply* out) {
  if (offset < header.size()) {
    out->pieces[0] = header.substr(offset, size);
    const size_t rest = size - out->pieces[0].size();
    out->pieces[1] = data.substr(0, rest);
    out->count = 2;
  } else {
    Slice(data, offset - header.size(), size, out);
  }
}

// Reads of @segment copy from the mapping, which faults its pages in a
// readahead window at a time, synchronously. A sequential reader gets the
// next kPrefetchBytes asked for ahead, once per window, the first time a
// read starts in a window: the disk works while the kernel copies.
constexpr uint64_t kPrefetchBytes = uint64_t{8} << 20;

void PrefetchAhead(std::string_view data, uint64_t offset, size_t size) {
  if (offset >= data.size() || offset % kPrefetchBytes >= std::max<size_t>(size, 1)) return;
  static const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t base = reinterpret_cast<uintptr_t>(data.data());
  // The first read of the file asks for its own window too.
  const bool first = offset < kPrefetchBytes;
  const uint64_t begin = first ? 0 : offset - offset % kPrefetchBytes + kPrefetchBytes;
  const uint64_t end =
      std::min<uint64_t>(data.size(), begin + kPrefetchBytes * (first ? 2 : 1));
  if (begin >= end) return;
  const uint64_t from = (base + begin) & ~(page - 1);
  // Advice only: a failure costs speed, not data.
  (void)::madvise(reinterpret_cast<void*>(from), base + end - from, MADV_WILLNEED);
}

}  // namespace

Status Tree::Read(uint64_t ino, uint64_t offset, size_t size, ReadReply* out) {
  MAPFS_ASSIGN_OR_RETURN(Node node, Resolve(ino));
  if (node.is_dir()) return Status::IOError("is a directory", EISDIR);
  switch (node.kind) {
    case Node::Kind::kSchema: Slice(node.src->schema_yaml, offset, size, out); break;
    case Node::Kind::kInfo: Slice(node.src->info_json, offset, size, out); break;
    case Node::Kind::kSegment:
      Slice(node.src->seg->bytes(), offset, size, out);
      PrefetchAhead(node.src->seg->bytes(), offset, size);
      break;
    case Node::Kind::kManifest: Slice(node.src->manifest, offset, size, out); break;
    case Node::Kind::kJson: {
      MAPFS_ASSIGN_OR_RETURN(out->shared, JsonOf(node));
      Slice(*out->shared, offset, size, out);
      break;
    }
    case Node::Kind::kArray: {
      // Live: another process may be writing these bytes as they are copied.
      const std::span<const std::byte> data = node.src->array->bytes();
      SliceNpy(node.src->npy_header,
               std::string_view(reinterpret_cast<const char*>(data.data()), data.size()),
               offset, size, out);
      break;
    }
    case Node::Kind::kValue: {
      const View& v = node.value;
      switch (FileFormOf(v)) {
        case FileForm::kRaw:
          Slice(v.as_bytes(), offset, size, out);
          break;
        case FileForm::kText: {
          Status st = AppendFieldText(v, &out->owned);
          if (!st.ok()) return CorruptNode(node, st);
          Slice(out->owned, offset, size, out);
          break;
        }
        case FileForm::kNdArray: {
          out->owned = NpyHeader(v);
          SliceNpy(out->owned, v.ndarray_data(), offset, size, out);
          break;
        }
      }
      break;
    }
    default:
      return Status::IOError("is a directory", EISDIR);
  }
  // The file may have shrunk while this read copied from it.
  if (node.src->seg && node.src->seg->damaged()) return Damaged(*node.src);
  out->hold = node.hold;
  return Status::OK();
}

Result<NodeAttr> Tree::OpenNode(uint64_t ino, uint64_t* handle) {
  MAPFS_ASSIGN_OR_RETURN(Node node, Resolve(ino));
  MAPFS_ASSIGN_OR_RETURN(NodeAttr a, AttrOf(node));
  a.ino = ino;
  // The slot of the version resolved (for a single-file mount's root, the
  // current one); slot 0, the root of several sources, holds nothing.
  const uint32_t slot = node.kind == Node::Kind::kMountRoot ? 0 : node.id.slot;
  if (!slots_.Open(slot, node.src)) return Status::IOError("the source was replaced", ESTALE);
  *handle = slot;
  return a;
}

void Tree::ReleaseNode(uint64_t handle) {
  if (handle < slots_.capacity()) slots_.Close(static_cast<uint32_t>(handle));
}

Result<UniqueFd> Tree::OpenBackingFile(uint64_t ino) {
  MAPFS_ASSIGN_OR_RETURN(Node node, Resolve(ino));
  if (node.kind != Node::Kind::kSegment || !node.src->seg) {
    return Status::NotSupported("no backing file");
  }
  const Source& src = *node.src;
  MAPFS_ASSIGN_OR_RETURN(UniqueFd fd, UniqueFd::Open(src.path, O_RDONLY));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno(src.path);
  // @segment shows the whole file (Segment::bytes), as stamped at its opening.
  if (!S_ISREG(st.st_mode) || !(StampOf(st) == src.stamp) ||
      static_cast<uint64_t>(st.st_size) != src.seg->file_size()) {
    return Status::NotFound(src.path + ": no longer the file served");
  }
  return fd;
}

}  // namespace mapfs::fs
