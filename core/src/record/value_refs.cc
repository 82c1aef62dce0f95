// Value references on the write side (docs/format.md, "Value references").
//
// A record is rewritten value by value. Each body gets a key: its type name,
// then its bytes with every ref slot zeroed, then one token per child (the id
// of the table entry the child matched or created, or the child's own key
// when it is too small to share). Equal keys mean equal values. A body whose
// key is in the table becomes a reference to the entry's first copy when the
// reference is shorter; otherwise it is written in full and, once the record
// is stored (Commit), entered into the table.
#include "value_refs.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "record_format.h"
#include "record_internal.h"

namespace mapfs {

using namespace record_format;  // NOLINT: the codec vocabulary of this file

namespace {

// Charged per table entry on top of its key and index slots: the entry in
// its queue.
constexpr size_t kEntryOverhead = 64;


size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

Status Bad(uint64_t pos, const std::string& what) {
  return Status::InvalidArgument("record offset " + std::to_string(pos) + ": " + what);
}

}  // namespace

class ValueDeduper::Impl {
 public:
  Impl(const Schema& schema, size_t budget)
      : schema_(schema),
        budget_(budget),
        // A sixteenth of the budget: blocks free memory in steps small
        // enough for any budget.
        block_size_(std::clamp<size_t>(budget / 16, size_t{4} << 10, size_t{1} << 20)) {}

  Result<std::string_view> Rewrite(int struct_index, std::string_view record, int unique_field) {
    if (struct_index < 0 || static_cast<size_t>(struct_index) >= schema_.structs().size()) {
      return Status::InvalidArgument("struct index " + std::to_string(struct_index) +
                                     " not in the schema");
    }
    if (record.size() > kMaxRecordSize) return Status::InvalidArgument("record larger than 4 GiB");
    src_ = reinterpret_cast<const uint8_t*>(record.data());
    src_size_ = static_cast<uint32_t>(record.size());
    visits_ = int64_t{src_size_} + 64;
    out_.clear();
    keys_.clear();
    slots_.clear();
    pending_.clear();
    pending_keys_.clear();
    locals_.clear();
    local_keys_.clear();
    root_leaves_.clear();
    if (!local_index_.empty()) local_index_.clear();
    const Type& root = schema_.struct_type(struct_index);
    const StructDef& def = schema_.struct_def(struct_index);
    unique_type_ = unique_field >= 0 && static_cast<size_t>(unique_field) < def.fields.size()
                       ? &def.fields[unique_field].type
                       : nullptr;
    MAPFS_ASSIGN_OR_RETURN(View v, ViewFactory::Make(&schema_, &root, src_, src_size_, 0));
    // Most records of most datasets: nothing in them can be shared or
    // remembered, and the rewrite would copy them as they are.
    if (NothingToShare(v, def, unique_field)) return record;
    // The root stays at offset 0 and is never shared (whole items are).
    size_t slot_mark = slots_.size();
    MAPFS_RETURN_IF_ERROR(AppendShell(v, -1));
    MAPFS_RETURN_IF_ERROR(EmitChildren(slot_mark, 0));
    if (out_.size() > kMaxRefRecordSize) {
      return Status::InvalidArgument(
          "record of " + std::to_string(out_.size()) +
          " bytes: records of a segment with value references are smaller than 2 GiB");
    }
    return std::string_view(out_);
  }

  void Commit(uint64_t item_offset) {
    for (const Pending& p : pending_) {
      std::string_view key(pending_keys_.data() + p.key_begin, p.key_len);
      // One entry may take at most a quarter of the table, so a huge value
      // cannot flush everything else.
      if (key.size() + kEntryOverhead > budget_ / 4 || index_.Find(p.hash, key) != nullptr) {
        continue;
      }
      Entry e;
      e.hash = p.hash;
      e.id = p.id;
      e.item_offset = item_offset;
      e.value_pos = p.pos;
      Push(e, key);
      // CLOCK: an entry found again since it was last passed gets a second
      // chance (it moves to the back). Only the input sequence decides.
      while (Charge() > budget_ && !entries_.empty()) {
        Entry front = entries_.front();
        index_.Erase(&entries_.front());
        if (front.referenced) {
          front.referenced = false;
          std::string_view old(front.key, front.key_len);
          Push(front, old);  // copies the key before its block can be freed
        }
        PopFront();
      }
      peak_ = std::max(peak_, Charge());
    }
    pending_.clear();
    pending_keys_.clear();
  }

  bool wrote_references() const { return wrote_references_; }
  size_t memory_used() const { return Charge(); }
  size_t peak_memory() const { return peak_; }

 private:
  struct Entry {
    const char* key = nullptr;  // in block `block`
    uint32_t key_len = 0;
    uint32_t value_pos = 0;
    uint64_t block = 0;
    uint64_t hash = 0;
    uint64_t id = 0;
    uint64_t item_offset = 0;
    bool referenced = false;
    std::string_view Key() const { return {key, key_len}; }
  };
  // Keys live in blocks filled in insertion order, so FIFO eviction frees
  // whole blocks: no allocation per entry, and the charge is the real size.
  struct Block {
    std::unique_ptr<char[]> bytes;
    size_t size = 0, used = 0, live = 0;
  };

  size_t Charge() const {
    return block_bytes_ + entries_.size() * kEntryOverhead + index_.bytes();
  }

  // Appends an entry with a copy of `key` and indexes it.
  void Push(Entry e, std::string_view key) {
    if (blocks_.empty() || blocks_.back().size - blocks_.back().used < key.size()) {
      Block b;
      b.size = std::max(block_size_, key.size());
      b.bytes.reset(new char[b.size]);
      block_bytes_ += b.size;
      blocks_.push_back(std::move(b));
    }
    Block& b = blocks_.back();
    std::memcpy(b.bytes.get() + b.used, key.data(), key.size());
    e.key = b.bytes.get() + b.used;
    e.key_len = static_cast<uint32_t>(key.size());
    e.block = first_block_ + blocks_.size() - 1;
    b.used += key.size();
    ++b.live;
    entries_.push_back(e);
    index_.Insert(&entries_.back());
  }

  // Drops the front entry (already out of the index); frees emptied blocks.
  void PopFront() {
    --blocks_[entries_.front().block - first_block_].live;
    entries_.pop_front();
    while (blocks_.size() > 1 && blocks_.front().live == 0) {
      block_bytes_ -= blocks_.front().size;
      blocks_.pop_front();
      ++first_block_;
    }
  }
  // A value first written by the record being rewritten.
  struct Pending {
    size_t key_begin, key_len;  // in pending_keys_
    uint64_t hash;
    uint64_t id;
    uint32_t pos;
  };
  // A leaf body (or reference body) already in this record.
  struct Local {
    uint64_t hash;
    size_t key_begin, key_len;  // in local_keys_
    uint32_t ref;
    uint64_t id;
  };
  // A ref slot of the output waiting for its child.
  struct Slot {
    uint32_t dst_at;
    const Type* type;
    uint32_t src_ref;
  };
  static constexpr size_t kLinearLocals = 32;  // leaves scanned before hashing
  struct Marks {
    size_t out, pending, pending_keys, locals, local_keys;
  };

  uint32_t Here() const { return static_cast<uint32_t>(out_.size()); }

  Marks Mark() const {
    return {out_.size(), pending_.size(), pending_keys_.size(), locals_.size(),
            local_keys_.size()};
  }
  void Rollback(const Marks& m) {
    out_.resize(m.out);
    pending_.resize(m.pending);
    pending_keys_.resize(m.pending_keys);
    for (size_t i = m.locals; i < locals_.size() && !local_index_.empty(); ++i) {
      auto range = local_index_.equal_range(locals_[i].hash);
      for (auto it = range.first; it != range.second; ++it) {
        if (it->second == i) {
          local_index_.erase(it);
          break;
        }
      }
    }
    locals_.resize(m.locals);
    local_keys_.resize(m.local_keys);
    if (locals_.size() <= kLinearLocals) local_index_.clear();
  }

  void AppendTypePrefix(const Type& t) {
    // A small direct-mapped cache in front of the map: a record's few types
    // are looked up for every body.
    TypeCacheSlot& c = type_cache_[(reinterpret_cast<uintptr_t>(&t) >> 4) % kTypeCache];
    if (c.type != &t) {
      auto it = type_ids_.find(&t);
      if (it == type_ids_.end()) {
        auto named = type_names_.emplace(schema_.TypeName(t), type_names_.size()).first;
        it = type_ids_.emplace(&t, named->second).first;
      }
      c = {&t, it->second};
    }
    keys_.append(reinterpret_cast<const char*>(&c.id), sizeof(c.id));
  }

  // Appends the source bytes [begin, end) to the output and the key.
  void CopyBytes(uint64_t begin, uint64_t end) {
    out_.append(reinterpret_cast<const char*>(src_) + begin, end - begin);
    keys_.append(reinterpret_cast<const char*>(src_) + begin, end - begin);
  }

  // The body of type `t` at source ref `src_ref`: written, shared within the
  // record, or referenced. *ref = what the parent's slot holds; the body's
  // key in keys_ (from key_start) is replaced by its token.
  Status EmitBody(const Type& t, uint32_t src_ref, int depth, uint32_t* ref) {
    if (depth > kMaxDepth) return Bad(src_ref, "nested deeper than " + std::to_string(kMaxDepth));
    if (--visits_ < 0) return Bad(src_ref, "values shared more than the record size allows");
    const size_t key_start = keys_.size();
    AppendTypePrefix(t);
    const Marks marks = Mark();
    MAPFS_ASSIGN_OR_RETURN(View v, ViewFactory::Make(&schema_, &t, src_, src_size_, src_ref));
    bool leaf = true;
    int tag = -1;
    View payload = v;
    if (t.kind == TypeKind::kObject) {
      tag = src_[src_ref];
      switch (tag) {
        case kTagNull: case kTagFalse: case kTagTrue:
          CopyBytes(src_ref, src_ref + 1);
          return Finish(key_start, marks, true, ref);
        case kTagInt: case kTagUInt: {
          uint64_t p = src_ref + 1, unused;
          if (!ReadVarint(src_, src_size_, &p, &unused)) return Bad(src_ref, "truncated int");
          CopyBytes(src_ref, p);
          return Finish(key_start, marks, true, ref);
        }
        case kTagFloat: case kTagDateTime:
          CopyBytes(src_ref, uint64_t{src_ref} + 9);
          return Finish(key_start, marks, true, ref);
        case kTagDate:
          CopyBytes(src_ref, uint64_t{src_ref} + 5);
          return Finish(key_start, marks, true, ref);
        default:
          break;  // payload has a body: below
      }
    }
    switch (payload.kind()) {
      case TypeKind::kStr: case TypeKind::kBytes:
        CopyBytes(src_ref, uint64_t{ViewFactory::body(payload)} + payload.size());
        break;
      case TypeKind::kDecimal:
        CopyBytes(src_ref, uint64_t{ViewFactory::body(payload)} + (payload.size() + 1) / 2);
        break;
      case TypeKind::kNdArray:
        MAPFS_RETURN_IF_ERROR(AppendNdArray(payload, tag));
        break;
      case TypeKind::kFrozenSet:
        if (ViewFactory::aux(payload) == kSetBitmap) {
          CopyBytes(src_ref, uint64_t{ViewFactory::body(payload)} + ViewFactory::extent(payload));
          break;
        }
        [[fallthrough]];
      case TypeKind::kList: case TypeKind::kTuple: case TypeKind::kDict: case TypeKind::kStruct: {
        if (IsFlatList(payload)) {
          CopyBytes(src_ref, uint64_t{ViewFactory::body(payload)} +
                                 payload.size() * ViewFactory::width(payload));
          break;
        }
        leaf = false;
        const size_t slot_mark = slots_.size();
        MAPFS_RETURN_IF_ERROR(AppendShell(payload, tag));
        MAPFS_RETURN_IF_ERROR(EmitChildren(slot_mark, depth));
        break;
      }
      default:
        return Bad(src_ref, "unexpected value type");
    }
    return Finish(key_start, marks, leaf, ref);
  }

  // True when every present field of the root struct `v` is inline, or a
  // str or bytes whose body is too short to share (or the unique field): no
  // body of the record would be looked up or remembered.
  static bool NothingToShare(const View& v, const StructDef& def, int unique_field) {
    for (size_t i = 0; i < def.fields.size(); ++i) {
      const int index = static_cast<int>(i);
      if (!v.HasField(index)) continue;
      const TypeKind kind = def.fields[i].type.kind;
      if (IsFixedWidthKind(kind)) continue;
      if (kind != TypeKind::kStr && kind != TypeKind::kBytes) return false;
      if (index == unique_field) continue;
      Result<View> f = v.Field(index);
      // A length under 127 takes one varint byte: the body is size + 1.
      if (!f.ok() || f->size() + 1 >= ValueDeduper::kMinSharedBytes) return false;
    }
    return true;
  }

  // A list, variadic tuple or sorted frozenset whose elements are inline.
  static bool IsFlatList(const View& v) {
    return (v.kind() == TypeKind::kList || v.kind() == TypeKind::kFrozenSet) &&
           IsFixedWidthKind(v.type().params[0].kind);
  }

  // ndarray: [tag], dtype, rank and shape, zero padding to the element
  // alignment at its new place, the elements. The key leaves the padding out.
  Status AppendNdArray(const View& v, int tag) {
    const uint32_t header = v.offset();  // the dtype byte
    uint64_t p = header + 1, ndim = 0, dim = 0;
    ReadVarint(src_, src_size_, &p, &ndim);  // proven by Make
    for (uint64_t d = 0; d < ndim; ++d) ReadVarint(src_, src_size_, &p, &dim);
    if (tag >= 0) {
      out_.push_back(static_cast<char>(tag));
      keys_.push_back(static_cast<char>(tag));
    }
    CopyBytes(header, p);
    const size_t align = std::min<size_t>(DTypeSize(v.dtype()), 8);
    out_.resize((out_.size() + align - 1) / align * align, '\0');
    std::string_view data = v.ndarray_data();
    out_.append(data);
    keys_.append(data);
    return Status::OK();
  }

  // Copies a container's own bytes (its "shell": headers, inline values and
  // ref slots) to the output and the key, with ref slots zeroed in the key,
  // and queues its ref slots in slots_. `tag` >= 0: an object's tag first.
  Status AppendShell(const View& v, int tag) {
    if (tag >= 0) {
      out_.push_back(static_cast<char>(tag));
      keys_.push_back(static_cast<char>(tag));
    }
    const Type& t = v.type();
    const uint32_t pos = v.offset();
    const uint32_t body = ViewFactory::body(v);
    switch (t.kind) {
      case TypeKind::kList: case TypeKind::kFrozenSet: case TypeKind::kTuple:
        if (t.kind == TypeKind::kTuple && !t.params.empty()) {
          AppendTupleSlots(t.params, pos, body);
          return Status::OK();
        }
        // count (after a set's mode byte), then one ref per element.
        AppendRefList(pos, body, kRefSize, v.size(), ElementTypeOf(t));
        return Status::OK();
      case TypeKind::kStruct:
        AppendStructSlots(schema_.struct_def(t.struct_index), pos, body);
        return Status::OK();
      case TypeKind::kDict: {
        // The dict's two refs, then its key and value lists right after it.
        const uint32_t dict_at = Here();
        out_.append(2 * kRefSize, '\0');
        keys_.append(2 * kRefSize, '\0');
        const uint32_t keys_src = LoadLE<uint32_t>(src_ + pos);
        const uint32_t values_src = LoadLE<uint32_t>(src_ + pos + kRefSize);
        StoreLE<uint32_t>(&out_, dict_at, Here());
        AppendRefList(keys_src, body, ViewFactory::width(v), v.size(), t.params[0]);
        StoreLE<uint32_t>(&out_, dict_at + kRefSize, Here());
        AppendRefList(values_src, ViewFactory::extent(v), ViewFactory::aux(v), v.size(),
                      t.params[1]);
        return Status::OK();
      }
      default:
        return Bad(pos, "not a container");
    }
  }

  // A list body: header at `header`, `n` elements of `width` at `elements`;
  // ref elements are queued.
  void AppendRefList(uint32_t header, uint32_t elements, uint8_t width, uint64_t n,
                      const Type& elem) {
    const uint32_t shell_at = Here();
    CopyBytes(header, uint64_t{elements} + n * width);
    if (IsFixedWidthKind(elem.kind)) return;
    const uint32_t first = shell_at + (elements - header);
    for (uint64_t i = 0; i < n; ++i) {
      const uint32_t src_ref = LoadLE<uint32_t>(src_ + elements + i * kRefSize);
      ZeroKeySlot(first + i * kRefSize);
      slots_.push_back({static_cast<uint32_t>(first + i * kRefSize), &elem, src_ref});
    }
  }

  // Typed tuples: bitmap, then the present elements' slots.
  void AppendTupleSlots(const std::vector<Type>& params, uint32_t pos, uint32_t body) {
    const uint8_t* bitmap = src_ + pos;
    uint64_t off = body;
    const uint32_t shell_at = Here();
    std::vector<std::pair<uint64_t, const Type*>> refs;
    for (size_t i = 0; i < params.size(); ++i) {
      if (!(bitmap[i / 8] & (1u << (i % 8)))) continue;
      size_t w = FixedWidth(params[i].kind);
      if (w == 0) {
        refs.emplace_back(off, &params[i]);
        w = kRefSize;
      }
      off += w;
    }
    CopyBytes(pos, off);
    for (const auto& [src_at, type] : refs) {
      const uint32_t dst = static_cast<uint32_t>(shell_at + (src_at - pos));
      ZeroKeySlot(dst);
      slots_.push_back({dst, type, LoadLE<uint32_t>(src_ + src_at)});
    }
  }

  // Structs: bitmap, then the present fields' slots (layout widths).
  void AppendStructSlots(const StructDef& def, uint32_t pos, uint32_t body) {
    const uint8_t* bitmap = src_ + pos;
    uint64_t off = body;
    const uint32_t shell_at = Here();
    const size_t first_slot = slots_.size();
    for (size_t f = 0; f < def.fields.size(); ++f) {
      if (!(bitmap[f / 8] & (1u << (f % 8)))) continue;
      if (!IsFixedWidthKind(def.fields[f].type.kind)) {
        slots_.push_back({static_cast<uint32_t>(shell_at + (off - pos)), &def.fields[f].type,
                          LoadLE<uint32_t>(src_ + off)});
      }
      off += def.layout.slot_size[f];
    }
    CopyBytes(pos, off);
    for (size_t i = first_slot; i < slots_.size(); ++i) ZeroKeySlot(slots_[i].dst_at);
  }

  // Right after a shell was copied, the key's tail mirrors the output's:
  // zero the ref slot at output offset `dst` in the key.
  void ZeroKeySlot(uint32_t dst) {
    const size_t key_pos = keys_.size() - (out_.size() - dst);
    std::memset(keys_.data() + key_pos, 0, kRefSize);
  }

  // The fast path of the common root field: a str or bytes too short to share
  // (or of the unique field) needs no key, as the root's own key is never
  // used. Copied as is; leaves the packer shared stay shared (by source
  // offset). False when the slot is not such a field.
  bool CopyRootLeaf(const Slot& s, uint32_t* child) {
    if (s.type->kind != TypeKind::kStr && s.type->kind != TypeKind::kBytes) return false;
    uint64_t p = s.src_ref, len = 0;
    if (p >= src_size_ || !ReadVarint(src_, src_size_, &p, &len) || len > src_size_ - p) {
      return false;  // EmitBody reports it
    }
    const uint64_t end = p + len;
    if (!table_off_ && end - s.src_ref >= ValueDeduper::kMinSharedBytes) return false;
    for (const auto& [src, dst] : root_leaves_) {
      if (src == s.src_ref) {
        *child = dst;
        return true;
      }
    }
    *child = Here();
    out_.append(reinterpret_cast<const char*>(src_) + s.src_ref, end - s.src_ref);
    if (root_leaves_.size() < 64) root_leaves_.emplace_back(s.src_ref, *child);
    return true;
  }

  // Emits the children queued from `slot_mark` and patches their slots.
  Status EmitChildren(size_t slot_mark, int depth) {
    const size_t end = slots_.size();
    for (size_t i = slot_mark; i < end; ++i) {
      const Slot s = slots_[i];
      uint32_t child;
      // A field whose values never repeat is not worth a table entry.
      table_off_ = depth == 0 && s.type == unique_type_;
      if (depth == 0 && CopyRootLeaf(s, &child)) {
        table_off_ = false;
        StoreLE<uint32_t>(&out_, s.dst_at, child);
        continue;
      }
      Status st = EmitBody(*s.type, s.src_ref, depth + 1, &child);
      if (depth == 0) table_off_ = false;
      MAPFS_RETURN_IF_ERROR(st);
      StoreLE<uint32_t>(&out_, s.dst_at, child);
    }
    slots_.resize(slot_mark);
    return Status::OK();
  }

  // The body just written from marks.out on, with its key in keys_ from
  // key_start: share it, reference it or keep it; leave its token in keys_.
  Status Finish(size_t key_start, const Marks& marks, bool leaf, uint32_t* ref) {
    const uint32_t at = static_cast<uint32_t>(marks.out);
    const size_t len = out_.size() - marks.out;
    std::string_view key(keys_.data() + key_start, keys_.size() - key_start);
    const uint64_t hash = XXH3_64bits(key.data(), key.size());
    uint64_t id = 0;
    *ref = at;
    bool done = false;
    if (leaf) {
      // Within the record: the leaf sharing of docs/format.md ("Sharing").
      auto same = [&](const Local& l) {
        if (l.hash != hash || std::string_view(local_keys_.data() + l.key_begin, l.key_len) != key) {
          return false;
        }
        out_.resize(at);
        *ref = l.ref;
        id = l.id;
        return true;
      };
      if (locals_.size() <= kLinearLocals) {
        for (const Local& l : locals_) {
          if ((done = same(l))) break;
        }
      } else {
        auto range = local_index_.equal_range(hash);
        for (auto it = range.first; it != range.second && !done; ++it) done = same(locals_[it->second]);
      }
    }
    if (!done && len >= ValueDeduper::kMinSharedBytes && budget_ > 0 && !table_off_) {
      if (Entry* e = index_.Find(hash, key)) {
        e->referenced = true;
        id = e->id;
        const uint64_t item8 = e->item_offset / 8;
        if (VarintSize(item8) + VarintSize(e->value_pos) < len) {
          Rollback(marks);
          *ref = kValueRefBit | Here();
          AppendVarint(&out_, item8);
          AppendVarint(&out_, e->value_pos);
          wrote_references_ = true;
        }
      } else {
        id = next_id_++;
        pending_.push_back({pending_keys_.size(), key.size(), hash, id, at});
        pending_keys_.append(key);
      }
    }
    if (leaf && !done) {
      locals_.push_back({hash, local_keys_.size(), key.size(), *ref, id});
      local_keys_.append(key);
      if (locals_.size() == kLinearLocals + 1) {
        for (size_t i = 0; i < locals_.size(); ++i) local_index_.emplace(locals_[i].hash, i);
      } else if (locals_.size() > kLinearLocals + 1) {
        local_index_.emplace(hash, locals_.size() - 1);
      }
    }
    // The token that stands for this body in its parent's key.
    if (id != 0) {
      keys_.resize(key_start);
      keys_.push_back('\1');
      keys_.append(reinterpret_cast<const char*>(&id), sizeof(id));
    } else {
      char header[11] = {0};
      size_t n = 1;
      for (uint64_t v = key.size(); ; v >>= 7) {
        header[n++] = static_cast<char>((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
        if (v < 0x80) break;
      }
      keys_.insert(key_start, header, n);
    }
    return Status::OK();
  }

  const Schema& schema_;
  const size_t budget_;
  const size_t block_size_;
  const uint8_t* src_ = nullptr;
  uint32_t src_size_ = 0;
  int64_t visits_ = 0;
  const Type* unique_type_ = nullptr;  // the root field Rewrite was told is unique
  bool table_off_ = false;             // emitting that field's value
  std::vector<std::pair<uint32_t, uint32_t>> root_leaves_;  // CopyRootLeaf: source -> output
  std::string out_;
  std::string keys_;
  std::vector<Slot> slots_;
  std::vector<Pending> pending_;
  std::string pending_keys_;
  std::vector<Local> locals_;
  std::string local_keys_;
  std::unordered_multimap<uint64_t, size_t> local_index_;
  struct TypeCacheSlot {
    const Type* type = nullptr;
    uint32_t id = 0;
  };
  static constexpr size_t kTypeCache = 64;
  TypeCacheSlot type_cache_[kTypeCache];
  std::unordered_map<const Type*, uint32_t> type_ids_;
  std::unordered_map<std::string, uint32_t> type_names_;
  // The table: entries in CLOCK order, found by key.
  std::deque<Entry> entries_;  // CLOCK order; addresses stay put
  std::deque<Block> blocks_;
  uint64_t first_block_ = 0;  // the number of blocks_.front()
  size_t block_bytes_ = 0;
  // Open addressing over the entries' key hashes (linear probing,
  // tombstones): one cache line per probe, keys compared on a hash match.
  class Index {
   public:
    Entry* Find(uint64_t hash, std::string_view key) const {
      if (slots_.empty()) return nullptr;
      for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
        const IndexSlot& s = slots_[i];
        if (s.entry == nullptr) return nullptr;
        if (s.hash == hash && s.entry != Tomb() && s.entry->Key() == key) return s.entry;
      }
    }
    void Insert(Entry* e) {
      if ((live_ + tombs_ + 1) * 4 > slots_.size() * 3) Rehash();
      for (size_t i = e->hash & mask_;; i = (i + 1) & mask_) {
        IndexSlot& s = slots_[i];
        if (s.entry == nullptr || s.entry == Tomb()) {
          if (s.entry == Tomb()) --tombs_;
          s = {e->hash, e};
          ++live_;
          return;
        }
      }
    }
    size_t bytes() const { return slots_.size() * sizeof(IndexSlot); }
    void Erase(const Entry* e) {
      for (size_t i = e->hash & mask_;; i = (i + 1) & mask_) {
        IndexSlot& s = slots_[i];
        if (s.entry == e) {
          s.entry = Tomb();
          --live_;
          ++tombs_;
          return;
        }
      }
    }

   private:
    struct IndexSlot {
      uint64_t hash = 0;
      Entry* entry = nullptr;  // nullptr: empty
    };
    static Entry* Tomb() {
      static Entry tomb;
      return &tomb;
    }
    void Rehash() {
      // At most half full after a rehash, at most 3/4 (tombstones counted)
      // before the next.
      size_t n = 64;
      while (n < (live_ + 1) * 2) n *= 2;
      std::vector<IndexSlot> old = std::move(slots_);
      slots_.assign(n, IndexSlot{});
      mask_ = n - 1;
      tombs_ = 0;
      live_ = 0;
      for (const IndexSlot& s : old) {
        if (s.entry != nullptr && s.entry != Tomb()) Insert(s.entry);
      }
    }
    std::vector<IndexSlot> slots_;
    size_t mask_ = 0, live_ = 0, tombs_ = 0;
  };
  Index index_;
  size_t peak_ = 0;
  uint64_t next_id_ = 1;
  bool wrote_references_ = false;
};

ValueDeduper::ValueDeduper(const Schema& schema, size_t memory_budget)
    : impl_(std::make_unique<Impl>(schema, memory_budget)) {}
ValueDeduper::~ValueDeduper() = default;

Result<std::string_view> ValueDeduper::Rewrite(int struct_index, std::string_view record,
                                               int unique_field) {
  return impl_->Rewrite(struct_index, record, unique_field);
}
void ValueDeduper::Commit(uint64_t item_offset) { impl_->Commit(item_offset); }
bool ValueDeduper::wrote_references() const { return impl_->wrote_references(); }
size_t ValueDeduper::memory_used() const { return impl_->memory_used(); }
size_t ValueDeduper::peak_memory() const { return impl_->peak_memory(); }

}  // namespace mapfs
