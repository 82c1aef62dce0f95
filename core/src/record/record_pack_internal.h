// Private to the packer: RecordPacker::Impl, which packs owned Values into
// the record encoding (docs/format.md, "Records"). record_pack.cc holds
// scalars, lists, tuples, structs and objects; record_pack_sets.cc the
// sorted containers (frozensets and dicts). The per-value hot path (IntBits,
// AppendList) is inline here so both files share it.
#ifndef MAPFS_CORE_RECORD_PACK_INTERNAL_H_
#define MAPFS_CORE_RECORD_PACK_INTERNAL_H_

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mapfs/record.h"
#include "record_format.h"
#include "record_internal.h"

namespace mapfs {

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

  Status Error(const std::string& msg) const;
  Status TypeError(const Type& t, const Value& v) const;

  Status CheckSize() const {
    if (out_.size() > record_format::kMaxRecordSize) return Error("record larger than 4 GiB");
    return Status::OK();
  }
  void PutRef(size_t at, uint32_t ref) { record_format::StoreLE<uint32_t>(&out_, at, ref); }
  uint32_t Here() const { return static_cast<uint32_t>(out_.size()); }

  // Converts an int Value to `k`'s range: the stored bits (two's complement).
  Status IntBits(TypeKind k, const Value& v, uint64_t* bits) const {
    IntRange r = IntRangeOf(k);
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
  Status WriteFixed(const Type& t, const Value& v, size_t at);
  // Leaf bodies identical to an earlier one in this record are stored once:
  // the just-appended copy at [pos, end) is dropped and the earlier one reused.
  uint32_t DedupLeaf(uint32_t pos);
  uint32_t AppendBlob(std::string_view bytes);
  Status AppendDecimalBody(const Decimal& d);
  Status DecimalOf(const Value& v, Decimal* d) const;
  // Appends the encoding of a value whose slot holds a ref; *pos = its offset.
  Status AppendBody(const Type& t, const Value& v, int depth, uint32_t* pos);
  Status AppendTuple(const Type& t, const Value& v, int depth, uint32_t* pos);
  Status AppendStruct(int struct_index, const Value& v, int depth, uint32_t* pos);
  Status AppendNdArray(const Type& t, const NdArray& a, uint32_t* pos);
  Status AppendObject(const Value& v, int depth, uint32_t* pos);

  // Sorted containers (record_pack_sets.cc).
  // Sorts `items` by the total order of docs/format.md and drops duplicates;
  // returns the order as indices into `items`. Keys that must be unique (dict)
  // report duplicates as an error.
  Status SortedOrder(const Type& elem, size_t n, const std::function<const Value&(size_t)>& get,
                     int depth, bool unique_required, std::vector<size_t>* order);
  Status AppendSet(const Type& elem, const std::vector<Value>& items, int depth, uint32_t* pos);
  // Int sets, the common case, sorted in a reused buffer: no index vector,
  // no comparator object. Same bytes as the general path.
  Status AppendIntSet(const Type& elem, const std::vector<Value>& items, uint32_t* pos);
  // Encodes the sorted int set in sorted_keys_ as a bitmap when that is smaller.
  bool TryAppendBitmap(const Type& elem);
  Status AppendDict(const Type& t, const Value& v, int depth, uint32_t* pos);

  // A list body: count, [width], elements; `get(i)` yields element i.
  template <typename Get>
  Status AppendList(const Type& elem, size_t n, Get get, int depth, uint32_t* pos) {
    *pos = Here();
    record_format::AppendVarint(&out_, n);
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
      unsigned w =
          is_signed ? record_format::SignedWidth(lo, hi) : record_format::UnsignedWidth(uhi);
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
    out_.resize(refs + n * record_format::kRefSize);
    for (size_t i = 0; i < n; ++i) {
      PathScope scope(this, nullptr, i);
      const Value& item = get(i);
      if (item.is_null() && elem.kind != TypeKind::kObject) {
        return Error("null in a list of " + schema_.TypeName(elem));
      }
      uint32_t child;
      MAPFS_RETURN_IF_ERROR(AppendBody(elem, item, depth + 1, &child));
      PutRef(refs + i * record_format::kRefSize, child);
    }
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

}  // namespace mapfs

#endif  // MAPFS_CORE_RECORD_PACK_INTERNAL_H_
