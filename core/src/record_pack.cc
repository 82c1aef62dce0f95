// Packs owned Values into the record encoding (docs/format.md, "Records"),
// checking each value against its schema type.
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "mapfs/record.h"
#include "mapfs/text_format.h"
#include "record_format.h"
#include "record_internal.h"

namespace mapfs {

using namespace record_format;  // NOLINT: the codec vocabulary of this file

namespace {

const char* KindName(Value::Kind k) {
  switch (k) {
    case Value::Kind::kNull: return "null";
    case Value::Kind::kBool: return "bool";
    case Value::Kind::kInt: case Value::Kind::kUInt: return "int";
    case Value::Kind::kFloat: return "float";
    case Value::Kind::kStr: return "str";
    case Value::Kind::kBytes: return "bytes";
    case Value::Kind::kDate: return "date";
    case Value::Kind::kDateTime: return "datetime";
    case Value::Kind::kDecimal: return "decimal";
    case Value::Kind::kList: return "list";
    case Value::Kind::kTuple: return "tuple";
    case Value::Kind::kFrozenSet: return "frozenset";
    case Value::Kind::kDict: return "dict";
    case Value::Kind::kStruct: return "struct";
    case Value::Kind::kNdArray: return "ndarray";
  }
  return "?";
}

bool IsSequence(Value::Kind k) {
  return k == Value::Kind::kList || k == Value::Kind::kTuple || k == Value::Kind::kFrozenSet;
}

// Range of each int kind, as [min, max] over int64 and a max over uint64.
struct IntRange {
  int64_t min;
  uint64_t max;
};
IntRange RangeOf(TypeKind k) {
  switch (k) {
    case TypeKind::kInt8: return {INT8_MIN, INT8_MAX};
    case TypeKind::kInt16: return {INT16_MIN, INT16_MAX};
    case TypeKind::kInt32: return {INT32_MIN, INT32_MAX};
    case TypeKind::kInt64: return {INT64_MIN, INT64_MAX};
    case TypeKind::kUInt8: return {0, UINT8_MAX};
    case TypeKind::kUInt16: return {0, UINT16_MAX};
    case TypeKind::kUInt32: return {0, UINT32_MAX};
    default: return {0, UINT64_MAX};
  }
}

unsigned SignedWidth(int64_t lo, int64_t hi) {
  if (lo >= INT8_MIN && hi <= INT8_MAX) return 1;
  if (lo >= INT16_MIN && hi <= INT16_MAX) return 2;
  if (lo >= INT32_MIN && hi <= INT32_MAX) return 4;
  return 8;
}
unsigned UnsignedWidth(uint64_t hi) {
  return hi <= UINT8_MAX ? 1 : hi <= UINT16_MAX ? 2 : hi <= UINT32_MAX ? 4 : 8;
}

uint64_t FloatOrderKey(double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  return (bits >> 63) ? ~bits : bits | (uint64_t{1} << 63);
}

}  // namespace

class RecordPacker::Impl {
 public:
  explicit Impl(const Schema& schema) : schema_(schema) {}

  Result<std::string_view> Pack(int struct_index, const Value& v) {
    if (struct_index < 0 || static_cast<size_t>(struct_index) >= schema_.structs().size()) {
      return Status::InvalidArgument("struct index " + std::to_string(struct_index) +
                                     " not in the schema");
    }
    Reset();
    uint32_t pos;
    MAPFS_RETURN_IF_ERROR(AppendStruct(struct_index, v, 0, &pos));
    return std::string_view(out_);
  }

  Result<std::string_view> PackValue(const Type& t, const Value& v) {
    Reset();
    if (size_t w = FixedWidth(t.kind)) {
      out_.resize(w);
      MAPFS_RETURN_IF_ERROR(WriteFixed(t, v, 0));
    } else {
      uint32_t pos;
      MAPFS_RETURN_IF_ERROR(AppendBody(t, v, 0, &pos));
    }
    return std::string_view(out_);
  }

 private:
  struct PathElem {
    const std::string* name;  // a field name, or nullptr for an index
    size_t index;
  };
  struct PathScope {
    PathScope(Impl* impl, const std::string* name, size_t index) : impl(impl) {
      impl->path_.push_back({name, index});
    }
    ~PathScope() { impl->path_.pop_back(); }
    Impl* impl;
  };

  void Reset() {
    out_.clear();
    blobs_.clear();
    blob_index_.clear();
  }

  Status Error(const std::string& msg) const {
    if (path_.empty()) return Status::InvalidArgument(msg);
    std::string where;
    for (const PathElem& e : path_) {
      if (e.name) {
        if (!where.empty()) where += '.';
        where += *e.name;
      } else {
        where += '[' + std::to_string(e.index) + ']';
      }
    }
    return Status::InvalidArgument("field \"" + where + "\": " + msg);
  }
  Status TypeError(const Type& t, const Value& v) const {
    return Error("expected " + schema_.TypeName(t) + ", got " + KindName(v.kind()));
  }

  Status CheckSize() const {
    if (out_.size() > kMaxRecordSize) return Error("record larger than 4 GiB");
    return Status::OK();
  }
  void PutRef(size_t at, uint32_t ref) { StoreLE<uint32_t>(&out_, at, ref); }
  uint32_t Here() const { return static_cast<uint32_t>(out_.size()); }

  // Converts an int Value to `k`'s range: the stored bits (two's complement).
  Status IntBits(TypeKind k, const Value& v, uint64_t* bits) const {
    IntRange r = RangeOf(k);
    bool ok;
    if (v.kind() == Value::Kind::kInt) {
      int64_t i = v.as_int();
      ok = i >= r.min && (i < 0 || static_cast<uint64_t>(i) <= r.max);
      *bits = static_cast<uint64_t>(i);
    } else if (v.kind() == Value::Kind::kUInt) {
      ok = v.as_uint() <= r.max;
      *bits = v.as_uint();
    } else {
      return TypeError(Type::Scalar(k), v);
    }
    if (!ok) {
      std::string text = v.kind() == Value::Kind::kInt ? std::to_string(v.as_int())
                                                       : std::to_string(v.as_uint());
      return Error("value " + text + " out of range for " + schema_.TypeName(Type::Scalar(k)));
    }
    return Status::OK();
  }

  Status FloatOf(const Type& t, const Value& v, double* d) const {
    switch (v.kind()) {
      case Value::Kind::kFloat: *d = v.as_float(); return Status::OK();
      case Value::Kind::kInt: *d = static_cast<double>(v.as_int()); return Status::OK();
      case Value::Kind::kUInt: *d = static_cast<double>(v.as_uint()); return Status::OK();
      default: return TypeError(t, v);
    }
  }

  // Writes a fixed-width value into out_[at, at + FixedWidth).
  Status WriteFixed(const Type& t, const Value& v, size_t at) {
    if (v.is_null()) return Error("null where " + schema_.TypeName(t) + " is required");
    if (IsIntKind(t.kind)) {
      uint64_t bits;
      MAPFS_RETURN_IF_ERROR(IntBits(t.kind, v, &bits));
      std::memcpy(out_.data() + at, &bits, FixedWidth(t.kind));
      return Status::OK();
    }
    switch (t.kind) {
      case TypeKind::kFloat32: case TypeKind::kFloat64: {
        double d = 0;
        MAPFS_RETURN_IF_ERROR(FloatOf(t, v, &d));
        if (t.kind == TypeKind::kFloat32) StoreLE<float>(&out_, at, static_cast<float>(d));
        else StoreLE<double>(&out_, at, d);
        return Status::OK();
      }
      case TypeKind::kBool:
        if (v.kind() != Value::Kind::kBool) return TypeError(t, v);
        out_[at] = v.as_bool() ? 1 : 0;
        return Status::OK();
      case TypeKind::kDate:
        if (v.kind() != Value::Kind::kDate) return TypeError(t, v);
        StoreLE<int32_t>(&out_, at, v.as_date().days);
        return Status::OK();
      case TypeKind::kDateTime:
        if (v.kind() != Value::Kind::kDateTime) return TypeError(t, v);
        StoreLE<int64_t>(&out_, at, v.as_datetime().micros);
        return Status::OK();
      default:
        return Error("internal: not a fixed-width type");
    }
  }

  // Leaf bodies identical to an earlier one in this record are stored once:
  // the just-appended copy at [pos, end) is dropped and the earlier one reused.
  uint32_t DedupLeaf(uint32_t pos) {
    std::string_view body(out_.data() + pos, out_.size() - pos);
    uint64_t h = XXH3_64bits(body.data(), body.size());
    auto same = [&](const Blob& b) {
      return b.hash == h && b.len == body.size() &&
             std::memcmp(out_.data() + b.pos, body.data(), body.size()) == 0;
    };
    if (blobs_.size() < kLinearBlobs) {
      for (const Blob& b : blobs_) {
        if (same(b)) { out_.resize(pos); return b.pos; }
      }
    } else {
      auto it = blob_index_.find(h);
      if (it != blob_index_.end() && same(blobs_[it->second])) {
        uint32_t earlier = blobs_[it->second].pos;
        out_.resize(pos);
        return earlier;
      }
    }
    blobs_.push_back({h, pos, static_cast<uint32_t>(body.size())});
    if (blobs_.size() == kLinearBlobs) {
      for (size_t i = 0; i < blobs_.size(); ++i) blob_index_.emplace(blobs_[i].hash, i);
    } else if (blobs_.size() > kLinearBlobs) {
      blob_index_.emplace(h, blobs_.size() - 1);
    }
    return pos;
  }

  uint32_t AppendBlob(std::string_view bytes) {
    uint32_t pos = Here();
    AppendVarint(&out_, bytes.size());
    out_.append(bytes);
    return DedupLeaf(pos);
  }

  Status AppendDecimalBody(const Decimal& d) {
    uint8_t flags = static_cast<uint8_t>((d.negative ? 1 : 0) | (static_cast<int>(d.kind) << 1));
    out_.push_back(static_cast<char>(flags));
    if (d.kind != Decimal::Kind::kFinite) return Status::OK();
    if (d.digits.empty()) return Error("decimal without digits");
    AppendVarint(&out_, ZigZag(d.exponent));
    AppendVarint(&out_, d.digits.size());
    for (size_t i = 0; i < d.digits.size(); i += 2) {
      char hi = d.digits[i], lo = i + 1 < d.digits.size() ? d.digits[i + 1] : '0';
      if (hi < '0' || hi > '9' || lo < '0' || lo > '9') return Error("decimal digit not 0-9");
      out_.push_back(static_cast<char>(((hi - '0') << 4) | (lo - '0')));
    }
    return Status::OK();
  }

  Status DecimalOf(const Value& v, Decimal* d) const {
    if (v.kind() == Value::Kind::kDecimal) { *d = v.as_decimal(); return Status::OK(); }
    if (v.kind() == Value::Kind::kInt || v.kind() == Value::Kind::kUInt) {
      bool neg = v.kind() == Value::Kind::kInt && v.as_int() < 0;
      uint64_t mag = v.kind() == Value::Kind::kUInt ? v.as_uint()
                     : neg ? ~static_cast<uint64_t>(v.as_int()) + 1
                           : static_cast<uint64_t>(v.as_int());
      d->kind = Decimal::Kind::kFinite;
      d->negative = neg;
      d->digits = std::to_string(mag);
      d->exponent = 0;
      return Status::OK();
    }
    return TypeError(Type::Scalar(TypeKind::kDecimal), v);
  }

  // Appends the encoding of a value whose slot holds a ref; *pos = its offset.
  Status AppendBody(const Type& t, const Value& v, int depth, uint32_t* pos) {
    if (depth > kMaxDepth) return Error("nested deeper than " + std::to_string(kMaxDepth));
    switch (t.kind) {
      case TypeKind::kStr:
        if (v.kind() != Value::Kind::kStr) return TypeError(t, v);
        if (!IsValidUtf8(v.text())) return Error("str is not valid UTF-8");
        *pos = AppendBlob(v.text());
        break;
      case TypeKind::kBytes:
        if (v.kind() != Value::Kind::kBytes) return TypeError(t, v);
        *pos = AppendBlob(v.text());
        break;
      case TypeKind::kDecimal: {
        Decimal d;
        MAPFS_RETURN_IF_ERROR(DecimalOf(v, &d));
        *pos = Here();
        MAPFS_RETURN_IF_ERROR(AppendDecimalBody(d));
        *pos = DedupLeaf(*pos);
        break;
      }
      case TypeKind::kList:
        if (!IsSequence(v.kind())) return TypeError(t, v);
        MAPFS_RETURN_IF_ERROR(AppendList(t.params[0], v.items().size(),
                                         [&](size_t i) -> const Value& { return v.items()[i]; },
                                         depth, pos));
        break;
      case TypeKind::kTuple:
        if (!IsSequence(v.kind())) return TypeError(t, v);
        if (t.params.empty()) {
          MAPFS_RETURN_IF_ERROR(AppendList(ViewFactory::ObjectType(), v.items().size(),
                                           [&](size_t i) -> const Value& { return v.items()[i]; },
                                           depth, pos));
        } else {
          MAPFS_RETURN_IF_ERROR(AppendTuple(t, v, depth, pos));
        }
        break;
      case TypeKind::kFrozenSet:
        if (!IsSequence(v.kind())) return TypeError(t, v);
        MAPFS_RETURN_IF_ERROR(AppendSet(t.params[0], v.items(), depth, pos));
        break;
      case TypeKind::kDict:
        if (v.kind() != Value::Kind::kDict) return TypeError(t, v);
        MAPFS_RETURN_IF_ERROR(AppendDict(t, v, depth, pos));
        break;
      case TypeKind::kStruct:
        MAPFS_RETURN_IF_ERROR(AppendStruct(t.struct_index, v, depth, pos));
        break;
      case TypeKind::kNdArray:
        if (v.kind() != Value::Kind::kNdArray) return TypeError(t, v);
        MAPFS_RETURN_IF_ERROR(AppendNdArray(t, v.ndarray(), pos));
        break;
      case TypeKind::kObject:
        MAPFS_RETURN_IF_ERROR(AppendObject(v, depth, pos));
        break;
      default:
        return Error("internal: fixed-width type has no body");
    }
    return CheckSize();
  }

  // A list body: count, [width], elements; `get(i)` yields element i.
  template <typename Get>
  Status AppendList(const Type& elem, size_t n, Get get, int depth, uint32_t* pos) {
    *pos = Here();
    AppendVarint(&out_, n);
    if (IsIntKind(elem.kind)) {
      int_scratch_.resize(n);
      bool is_signed = IsSignedIntKind(elem.kind);
      int64_t lo = 0, hi = 0;
      uint64_t uhi = 0;
      for (size_t i = 0; i < n; ++i) {
        PathScope scope(this, nullptr, i);
        if (get(i).is_null()) return Error("null in a list of " + schema_.TypeName(elem));
        MAPFS_RETURN_IF_ERROR(IntBits(elem.kind, get(i), &int_scratch_[i]));
        int64_t s = static_cast<int64_t>(int_scratch_[i]);
        lo = std::min(lo, s);
        hi = std::max(hi, s);
        uhi = std::max(uhi, int_scratch_[i]);
      }
      unsigned w = is_signed ? SignedWidth(lo, hi) : UnsignedWidth(uhi);
      out_.push_back(static_cast<char>(w));
      size_t at = out_.size();
      out_.resize(at + n * w);
      for (size_t i = 0; i < n; ++i) std::memcpy(out_.data() + at + i * w, &int_scratch_[i], w);
      return Status::OK();
    }
    if (size_t w = FixedWidth(elem.kind)) {
      size_t at = out_.size();
      out_.resize(at + n * w);
      for (size_t i = 0; i < n; ++i) {
        PathScope scope(this, nullptr, i);
        MAPFS_RETURN_IF_ERROR(WriteFixed(elem, get(i), at + i * w));
      }
      return Status::OK();
    }
    size_t refs = out_.size();
    out_.resize(refs + n * kRefSize);
    for (size_t i = 0; i < n; ++i) {
      PathScope scope(this, nullptr, i);
      const Value& item = get(i);
      if (item.is_null() && elem.kind != TypeKind::kObject) {
        return Error("null in a list of " + schema_.TypeName(elem));
      }
      uint32_t child;
      MAPFS_RETURN_IF_ERROR(AppendBody(elem, item, depth + 1, &child));
      PutRef(refs + i * kRefSize, child);
    }
    return Status::OK();
  }

  Status AppendTuple(const Type& t, const Value& v, int depth, uint32_t* pos) {
    size_t n = t.params.size();
    if (v.items().size() != n) {
      return Error("expected " + schema_.TypeName(t) + " of " + std::to_string(n) +
                   " elements, got " + std::to_string(v.items().size()));
    }
    *pos = Here();
    size_t bitmap = out_.size();
    out_.resize(bitmap + (n + 7) / 8);
    std::vector<size_t> slot_at(n, 0);
    for (size_t i = 0; i < n; ++i) {
      if (v.items()[i].is_null()) continue;
      out_[bitmap + i / 8] = static_cast<char>(out_[bitmap + i / 8] | (1 << (i % 8)));
      size_t w = FixedWidth(t.params[i].kind);
      slot_at[i] = out_.size();
      out_.resize(out_.size() + (w ? w : kRefSize));
    }
    for (size_t i = 0; i < n; ++i) {
      const Value& item = v.items()[i];
      if (item.is_null()) continue;
      PathScope scope(this, nullptr, i);
      if (IsFixedWidthKind(t.params[i].kind)) {
        MAPFS_RETURN_IF_ERROR(WriteFixed(t.params[i], item, slot_at[i]));
      } else {
        uint32_t child;
        MAPFS_RETURN_IF_ERROR(AppendBody(t.params[i], item, depth + 1, &child));
        PutRef(slot_at[i], child);
      }
    }
    return Status::OK();
  }

  Status AppendStruct(int struct_index, const Value& v, int depth, uint32_t* pos) {
    const StructDef& def = schema_.struct_def(struct_index);
    if (v.kind() != Value::Kind::kStruct) return TypeError(schema_.struct_type(struct_index), v);
    if (!v.text().empty() && v.text() != def.name) {
      return Error("expected struct " + def.name + ", got struct " + v.text());
    }
    size_t n = def.fields.size();
    const Value* small[32];
    std::vector<const Value*> large;
    const Value** present = small;
    if (n > 32) {
      large.assign(n, nullptr);
      present = large.data();
    } else {
      std::fill(small, small + n, nullptr);
    }
    const auto& names = v.field_names();
    for (size_t i = 0; i < names.size(); ++i) {
      int f;
      if (i < n && def.fields[i].name == names[i]) {
        f = static_cast<int>(i);
      } else {
        auto found = def.FindField(names[i]);
        if (!found) return Error("unknown field \"" + names[i] + "\" in struct " + def.name);
        f = *found;
      }
      if (present[f] != nullptr) return Error("field \"" + names[i] + "\" given twice");
      if (!v.items()[i].is_null()) present[f] = &v.items()[i];
    }
    *pos = Here();
    size_t bitmap = out_.size();
    out_.resize(bitmap + def.layout.bitmap_bytes);
    size_t slot = out_.size();
    size_t slots_size = 0;
    for (size_t f = 0; f < n; ++f) {
      if (!present[f]) continue;
      out_[bitmap + f / 8] = static_cast<char>(out_[bitmap + f / 8] | (1 << (f % 8)));
      slots_size += def.layout.slot_size[f];
    }
    out_.resize(slot + slots_size);
    for (size_t f = 0; f < n; ++f) {
      if (!present[f]) continue;
      PathScope scope(this, &def.fields[f].name, 0);
      const Type& ft = def.fields[f].type;
      size_t at = slot;
      slot += def.layout.slot_size[f];
      if (IsFixedWidthKind(ft.kind)) {
        MAPFS_RETURN_IF_ERROR(WriteFixed(ft, *present[f], at));
      } else {
        uint32_t child;
        MAPFS_RETURN_IF_ERROR(AppendBody(ft, *present[f], depth + 1, &child));
        PutRef(at, child);
      }
    }
    return Status::OK();
  }

  // Sorts `items` by the total order of docs/format.md and drops duplicates;
  // returns the order as indices into `items`. Keys that must be unique (dict)
  // report duplicates as an error.
  Status SortedOrder(const Type& elem, size_t n, const std::function<const Value&(size_t)>& get,
                     int depth, bool unique_required, std::vector<size_t>* order) {
    order->resize(n);
    for (size_t i = 0; i < n; ++i) {
      PathScope scope(this, nullptr, i);
      if (get(i).is_null() && elem.kind != TypeKind::kObject) {
        return Error("null in a set or dict key of " + schema_.TypeName(elem));
      }
      (*order)[i] = i;
    }
    std::function<int(size_t, size_t)> cmp;
    std::vector<uint64_t> keys;
    std::unique_ptr<Impl> child;
    std::vector<View> views;
    if (IsIntKind(elem.kind) || IsFixedWidthKind(elem.kind)) {
      keys.resize(n);
      bool is_signed = IsSignedIntKind(elem.kind);
      for (size_t i = 0; i < n; ++i) {
        PathScope scope(this, nullptr, i);
        const Value& item = get(i);
        if (IsIntKind(elem.kind)) {
          MAPFS_RETURN_IF_ERROR(IntBits(elem.kind, item, &keys[i]));
          if (is_signed) keys[i] ^= uint64_t{1} << 63;  // order negatives first
        } else if (elem.kind == TypeKind::kFloat32 || elem.kind == TypeKind::kFloat64) {
          double d = 0;
          MAPFS_RETURN_IF_ERROR(FloatOf(elem, item, &d));
          if (elem.kind == TypeKind::kFloat32) d = static_cast<float>(d);
          keys[i] = FloatOrderKey(d);
        } else if (elem.kind == TypeKind::kBool) {
          if (item.kind() != Value::Kind::kBool) return TypeError(elem, item);
          keys[i] = item.as_bool();
        } else if (elem.kind == TypeKind::kDate) {
          if (item.kind() != Value::Kind::kDate) return TypeError(elem, item);
          keys[i] = static_cast<uint64_t>(static_cast<int64_t>(item.as_date().days)) ^ (uint64_t{1} << 63);
        } else {
          if (item.kind() != Value::Kind::kDateTime) return TypeError(elem, item);
          keys[i] = static_cast<uint64_t>(item.as_datetime().micros) ^ (uint64_t{1} << 63);
        }
      }
      cmp = [&](size_t a, size_t b) { return keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : 0; };
    } else if ((elem.kind == TypeKind::kStr || elem.kind == TypeKind::kBytes)) {
      for (size_t i = 0; i < n; ++i) {
        Value::Kind want = elem.kind == TypeKind::kStr ? Value::Kind::kStr : Value::Kind::kBytes;
        if (get(i).kind() != want) {
          PathScope scope(this, nullptr, i);
          return TypeError(elem, get(i));
        }
      }
      cmp = [&](size_t a, size_t b) { return get(a).text().compare(get(b).text()); };
    } else {
      // Pack each element once on the side and compare the encodings.
      child = std::make_unique<Impl>(schema_);
      child->path_ = path_;
      std::vector<uint32_t> positions(n);
      for (size_t i = 0; i < n; ++i) {
        PathScope scope(child.get(), nullptr, i);
        MAPFS_RETURN_IF_ERROR(child->AppendBody(elem, get(i), depth + 1, &positions[i]));
      }
      views.resize(n);
      const uint8_t* base = reinterpret_cast<const uint8_t*>(child->out_.data());
      for (size_t i = 0; i < n; ++i) {
        MAPFS_ASSIGN_OR_RETURN(views[i], ViewFactory::Make(&schema_, &elem, base,
                                                           static_cast<uint32_t>(child->out_.size()),
                                                           positions[i]));
      }
      cmp = [&](size_t a, size_t b) { return CompareViews(views[a], views[b]); };
    }
    std::stable_sort(order->begin(), order->end(), [&](size_t a, size_t b) { return cmp(a, b) < 0; });
    size_t kept = 0;
    for (size_t i = 0; i < order->size(); ++i) {
      if (kept > 0 && cmp((*order)[kept - 1], (*order)[i]) == 0) {
        if (unique_required) {
          PathScope scope(this, nullptr, (*order)[i]);
          return Error("duplicate dict key");
        }
        continue;
      }
      (*order)[kept++] = (*order)[i];
    }
    order->resize(kept);
    if (!keys.empty()) {
      // Sets of ints may become a bitmap; remember the sorted keys for that.
      sorted_keys_.clear();
      for (size_t i : *order) sorted_keys_.push_back(keys[i]);
    }
    return Status::OK();
  }

  Status AppendSet(const Type& elem, const std::vector<Value>& items, int depth, uint32_t* pos) {
    if (IsIntKind(elem.kind)) return AppendIntSet(elem, items, pos);
    std::vector<size_t> order;
    auto get = [&](size_t i) -> const Value& { return items[i]; };
    MAPFS_RETURN_IF_ERROR(SortedOrder(elem, items.size(), get, depth, false, &order));
    *pos = Here();
    if (IsIntKind(elem.kind) && !order.empty() && TryAppendBitmap(elem)) return Status::OK();
    out_.push_back(static_cast<char>(kSetSorted));
    uint32_t list_pos;
    return AppendList(elem, order.size(), [&](size_t i) -> const Value& { return items[order[i]]; },
                      depth, &list_pos);
  }

  // Int sets, the common case, sorted in a reused buffer: no index vector,
  // no comparator object. Same bytes as the general path.
  Status AppendIntSet(const Type& elem, const std::vector<Value>& items, uint32_t* pos) {
    bool is_signed = IsSignedIntKind(elem.kind);
    sorted_keys_.resize(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      PathScope scope(this, nullptr, i);
      if (items[i].is_null()) return Error("null in a set or dict key of " + schema_.TypeName(elem));
      MAPFS_RETURN_IF_ERROR(IntBits(elem.kind, items[i], &sorted_keys_[i]));
      if (is_signed) sorted_keys_[i] ^= uint64_t{1} << 63;  // order negatives first
    }
    std::sort(sorted_keys_.begin(), sorted_keys_.end());
    sorted_keys_.erase(std::unique(sorted_keys_.begin(), sorted_keys_.end()), sorted_keys_.end());
    *pos = Here();
    if (!sorted_keys_.empty() && TryAppendBitmap(elem)) return Status::OK();
    out_.push_back(static_cast<char>(kSetSorted));
    size_t n = sorted_keys_.size();
    AppendVarint(&out_, n);
    uint64_t flip = is_signed ? uint64_t{1} << 63 : 0;
    unsigned w = 1;
    if (n > 0) {
      uint64_t lo = sorted_keys_.front() ^ flip, hi = sorted_keys_.back() ^ flip;
      w = is_signed ? SignedWidth(static_cast<int64_t>(lo), static_cast<int64_t>(hi))
                    : UnsignedWidth(hi);
    }
    out_.push_back(static_cast<char>(w));
    size_t at = out_.size();
    out_.resize(at + n * w);
    for (size_t i = 0; i < n; ++i) {
      uint64_t v = sorted_keys_[i] ^ flip;
      std::memcpy(out_.data() + at + i * w, &v, w);
    }
    return Status::OK();
  }

  // Encodes the sorted int set in sorted_keys_ as a bitmap when that is smaller.
  bool TryAppendBitmap(const Type& elem) {
    bool is_signed = IsSignedIntKind(elem.kind);
    auto value_of = [&](uint64_t key) {
      return is_signed ? static_cast<int64_t>(key ^ (uint64_t{1} << 63)) : static_cast<int64_t>(key);
    };
    uint64_t first = sorted_keys_.front(), last = sorted_keys_.back();
    if (!is_signed && last > static_cast<uint64_t>(INT64_MAX)) return false;
    uint64_t span = last - first;
    if (span >= (uint64_t{1} << 32)) return false;
    uint64_t nbytes = span / 8 + 1;
    unsigned w = is_signed ? SignedWidth(value_of(first), value_of(last)) : UnsignedWidth(last);
    uint64_t list_bytes = sorted_keys_.size() * w + 1;
    if (nbytes + 8 >= list_bytes) return false;
    out_.push_back(static_cast<char>(kSetBitmap));
    int64_t base = value_of(first);
    AppendVarint(&out_, ZigZag(base));
    AppendVarint(&out_, sorted_keys_.size());
    AppendVarint(&out_, nbytes);
    size_t at = out_.size();
    out_.resize(at + nbytes);
    for (uint64_t k : sorted_keys_) {
      uint64_t bit = k - first;
      out_[at + bit / 8] = static_cast<char>(out_[at + bit / 8] | (1 << (bit % 8)));
    }
    return true;
  }

  Status AppendDict(const Type& t, const Value& v, int depth, uint32_t* pos) {
    size_t n = v.dict_size();
    std::vector<size_t> order;
    MAPFS_RETURN_IF_ERROR(SortedOrder(t.params[0], n,
                                      [&](size_t i) -> const Value& { return v.dict_key(i); },
                                      depth, true, &order));
    *pos = Here();
    size_t refs = out_.size();
    out_.resize(refs + 2 * kRefSize);
    uint32_t keys_pos, values_pos;
    MAPFS_RETURN_IF_ERROR(AppendList(t.params[0], n,
                                     [&](size_t i) -> const Value& { return v.dict_key(order[i]); },
                                     depth, &keys_pos));
    PutRef(refs, keys_pos);
    MAPFS_RETURN_IF_ERROR(AppendList(t.params[1], n,
                                     [&](size_t i) -> const Value& { return v.dict_value(order[i]); },
                                     depth, &values_pos));
    PutRef(refs + kRefSize, values_pos);
    return Status::OK();
  }

  Status AppendNdArray(const Type& t, const NdArray& a, uint32_t* pos) {
    if (t.dtype && *t.dtype != a.dtype) {
      return Error("expected " + schema_.TypeName(t) + ", got ndarray<" +
                   std::string(DTypeName(a.dtype)) + ">");
    }
    if (a.shape.size() > kMaxNdim) return Error("ndarray has more than 32 dimensions");
    size_t itemsize = DTypeSize(a.dtype);
    uint64_t count = 1;
    for (uint64_t d : a.shape) {
      if (d != 0 && count > (uint64_t{1} << 40) / d) return Error("ndarray too large");
      count *= d;
    }
    if (count * itemsize != a.data.size()) {
      return Error("ndarray data has " + std::to_string(a.data.size()) + " bytes, shape needs " +
                   std::to_string(count * itemsize));
    }
    *pos = Here();
    out_.push_back(static_cast<char>(a.dtype));
    AppendVarint(&out_, a.shape.size());
    for (uint64_t d : a.shape) AppendVarint(&out_, d);
    size_t align = std::min<size_t>(itemsize, 8);
    out_.resize((out_.size() + align - 1) / align * align, '\0');
    out_.append(a.data);
    *pos = DedupLeaf(*pos);
    return Status::OK();
  }

  Status AppendObject(const Value& v, int depth, uint32_t* pos) {
    *pos = Here();
    auto tag = [&](Tag t) { out_.push_back(static_cast<char>(t)); };
    uint32_t unused;
    switch (v.kind()) {
      case Value::Kind::kNull: tag(kTagNull); break;
      case Value::Kind::kBool: tag(v.as_bool() ? kTagTrue : kTagFalse); break;
      case Value::Kind::kInt: tag(kTagInt); AppendVarint(&out_, ZigZag(v.as_int())); break;
      case Value::Kind::kUInt:
        // Canonical: a uint that fits int64 is stored (and read back) as an int.
        if (v.as_uint() <= static_cast<uint64_t>(INT64_MAX)) {
          tag(kTagInt);
          AppendVarint(&out_, ZigZag(static_cast<int64_t>(v.as_uint())));
        } else {
          tag(kTagUInt);
          AppendVarint(&out_, v.as_uint());
        }
        break;
      case Value::Kind::kFloat: {
        tag(kTagFloat);
        double d = v.as_float();
        out_.append(reinterpret_cast<const char*>(&d), 8);
        break;
      }
      case Value::Kind::kStr:
        if (!IsValidUtf8(v.text())) return Error("str is not valid UTF-8");
        tag(kTagStr);
        AppendVarint(&out_, v.text().size());
        out_.append(v.text());
        break;
      case Value::Kind::kBytes:
        tag(kTagBytes);
        AppendVarint(&out_, v.text().size());
        out_.append(v.text());
        break;
      case Value::Kind::kDate: {
        tag(kTagDate);
        int32_t days = v.as_date().days;
        out_.append(reinterpret_cast<const char*>(&days), 4);
        break;
      }
      case Value::Kind::kDateTime: {
        tag(kTagDateTime);
        int64_t micros = v.as_datetime().micros;
        out_.append(reinterpret_cast<const char*>(&micros), 8);
        break;
      }
      case Value::Kind::kDecimal:
        tag(kTagDecimal);
        MAPFS_RETURN_IF_ERROR(AppendDecimalBody(v.as_decimal()));
        break;
      case Value::Kind::kList: case Value::Kind::kTuple:
        tag(v.kind() == Value::Kind::kList ? kTagList : kTagTuple);
        return AppendList(ViewFactory::ObjectType(), v.items().size(),
                          [&](size_t i) -> const Value& { return v.items()[i]; }, depth, &unused);
      case Value::Kind::kFrozenSet: {
        // The set body must follow its tag, so sort before writing the tag.
        tag(kTagFrozenSet);
        return AppendSet(ViewFactory::ObjectType(), v.items(), depth, &unused);
      }
      case Value::Kind::kDict: {
        static const Type kObjectDict = Type::Dict(Type::Object(), Type::Object());
        tag(kTagDict);
        return AppendDict(kObjectDict, v, depth, &unused);
      }
      case Value::Kind::kNdArray:
        tag(kTagNdArray);
        return AppendNdArray(Type::NdArray(std::nullopt), v.ndarray(), &unused);
      case Value::Kind::kStruct: {
        auto index = schema_.FindStruct(v.text());
        if (!index) return Error("unknown struct '" + v.text() + "' in an object value");
        const StructDef& def = schema_.struct_def(*index);
        if (def.typecode.empty()) {
          return Error("struct " + def.name + " has no typecode, so it cannot be an object value");
        }
        out_.push_back(def.typecode[0]);
        return AppendStruct(*index, v, depth, &unused);
      }
    }
    if (v.kind() != Value::Kind::kNull && v.kind() != Value::Kind::kBool) *pos = DedupLeaf(*pos);
    return Status::OK();
  }

  static constexpr size_t kLinearBlobs = 16;
  struct Blob {
    uint64_t hash;
    uint32_t pos;
    uint32_t len;
  };

  const Schema& schema_;
  std::string out_;
  std::vector<PathElem> path_;
  std::vector<Blob> blobs_;
  std::unordered_map<uint64_t, size_t> blob_index_;
  std::vector<uint64_t> int_scratch_;
  std::vector<uint64_t> sorted_keys_;
};

RecordPacker::RecordPacker(const Schema& schema) : impl_(std::make_unique<Impl>(schema)) {}
RecordPacker::~RecordPacker() = default;

Result<std::string_view> RecordPacker::Pack(int struct_index, const Value& value) {
  return impl_->Pack(struct_index, value);
}

Result<std::string_view> RecordPacker::PackValue(const Type& type, const Value& value) {
  return impl_->PackValue(type, value);
}

Result<std::string> Pack(const Schema& schema, int struct_index, const Value& value) {
  RecordPacker packer(schema);
  MAPFS_ASSIGN_OR_RETURN(std::string_view bytes, packer.Pack(struct_index, value));
  return std::string(bytes);
}

Result<size_t> PackInto(const Schema& schema, int struct_index, const Value& value,
                        std::span<uint8_t> buffer, size_t offset) {
  RecordPacker packer(schema);
  MAPFS_ASSIGN_OR_RETURN(std::string_view bytes, packer.Pack(struct_index, value));
  if (offset > buffer.size() || bytes.size() > buffer.size() - offset) {
    return Status::OutOfRange("record needs " + std::to_string(bytes.size()) + " bytes at offset " +
                              std::to_string(offset) + ", buffer has " +
                              std::to_string(buffer.size()));
  }
  std::memcpy(buffer.data() + offset, bytes.data(), bytes.size());
  return bytes.size();
}

}  // namespace mapfs
