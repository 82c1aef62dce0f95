// Records: pack a struct Value into bytes, and read it back zero-copy.
//
// The encoding is specified in docs/format.md ("Records"). A View is a typed,
// lazy window on one value inside a packed record: reading an int field is a
// few loads, str/bytes come back as string_views on the buffer, containers are
// indexed on demand. Nothing is deserialized.
//
// Safety: a View never reads outside [base, base + size). Creating a View
// checks that value's own header (lengths, counts, bounds); accessors on it then
// read without checks. A corrupt buffer yields a Corruption status, never a
// crash. Whole-value operations (Verify, RenderJson, Materialize) are bounded in
// depth (kMaxDepth) and in work (linear in the record size).
//
// Lifetime: a View borrows the Schema and the buffer; both must outlive it.
//
//   RecordPacker packer(schema);
//   MAPFS_ASSIGN_OR_RETURN(std::string_view bytes, packer.Pack(person_index, person));
//   MAPFS_ASSIGN_OR_RETURN(View rec, ViewRecord(schema, person_index, bytes));
//   MAPFS_ASSIGN_OR_RETURN(View age, rec.Field(age_index));
//   if (!age.is_null()) use(age.as_int());
#ifndef MAPFS_RECORD_H_
#define MAPFS_RECORD_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mapfs/status.h"
#include "mapfs/types.h"
#include "mapfs/value.h"

namespace mapfs {

constexpr int kMaxDepth = 64;  // nesting limit for packing and whole-value walks

class ElementRange;

// The data section of the segment a record lies in. Views of a segment's
// records carry it so that they can follow value references, which point at
// values of earlier records (docs/format.md, "Value references"). Views of
// standalone records carry none and refuse references. The segment owns it;
// it must outlive the views.
struct SegmentData {
  const uint8_t* data = nullptr;  // the first byte of the data section
  uint64_t size = 0;              // the data section's size
  // Proves the data-section bytes [offset, offset + size) a reference is
  // about to read (the segment's block checksums); null: nothing to prove.
  Status (*check)(const void* context, uint64_t offset, uint64_t size) = nullptr;
  const void* context = nullptr;
};

class View {
 public:
  View() = default;  // a null value

  bool is_null() const { return type_ == nullptr; }
  // The value's type; for `object` values, the run-time type it was tagged with.
  // Must not be called on a null view.
  const Type& type() const { return *type_; }
  TypeKind kind() const { return type_->kind; }
  const Schema& schema() const { return *schema_; }

  // Scalars. as_int() serves every int kind whose value fits int64;
  // as_uint() every non-negative one; as_float() float32 and float64.
  int64_t as_int() const;  // inline below: the hot path of field reads
  uint64_t as_uint() const;
  bool is_negative_int() const;  // for int kinds: value < 0
  double as_float() const;
  float as_float32() const;
  bool as_bool() const { return width_ == 0 ? base_value_ != 0 : base_[pos_] != 0; }
  Date as_date() const;
  DateTime as_datetime() const;
  // str and bytes: a view on the record's bytes.
  std::string_view as_bytes() const;
  std::string_view as_str() const { return as_bytes(); }
  Result<Decimal> as_decimal() const;  // decodes (allocates)

  // Containers: list, tuple, frozenset, dict (entries), struct (field count).
  size_t size() const { return count_; }
  // Element i of a list, tuple or frozenset (frozensets in sorted order).
  Result<View> At(size_t i) const;
  // Struct fields by index or name: a null view when the field is absent.
  Result<View> Field(int index) const;
  Result<View> Field(std::string_view name) const;
  bool HasField(int index) const;
  const StructDef& struct_def() const { return schema_->struct_def(type_->struct_index); }
  // Dict entries in key order, and lookup by key.
  Result<View> KeyAt(size_t i) const;
  Result<View> ValueAt(size_t i) const;
  Result<std::optional<View>> Find(const Value& key) const;
  Result<std::optional<View>> Find(std::string_view str_key) const;  // no allocation
  Result<std::optional<View>> Find(int64_t int_key) const;           // no allocation
  // Frozenset membership in O(log n) (O(1) for bitmap-encoded int sets).
  Result<bool> Contains(const Value& v) const;
  Result<bool> Contains(std::string_view s) const;
  Result<bool> Contains(int64_t i) const;

  // ndarray: element type, shape, and the raw little-endian data.
  DType dtype() const { return static_cast<DType>(aux_); }
  size_t ndim() const { return count_; }
  uint64_t dim(size_t i) const;
  std::string_view ndarray_data() const;
  // Range-for over the elements of a list, tuple or frozenset (or a dict's
  // keys); each step yields Result<View>, so a corrupt element is an error,
  // not a crash:
  //   for (Result<View> e : tags.Elements()) { if (!e.ok()) ...; use(e->as_int()); }
  ElementRange Elements() const;

  // Offset of this value's encoding from the start of the record.
  uint32_t offset() const { return pos_; }

 private:
  friend class ViewFactory;
  Result<View> FieldSlow(int index) const;
  const Schema* schema_ = nullptr;
  const Type* type_ = nullptr;
  const uint8_t* base_ = nullptr;
  const SegmentData* segment_ = nullptr;  // set for records inside a segment
  uint32_t size_ = 0;   // bytes readable from base_
  uint32_t pos_ = 0;    // where the value (or its body) starts
  uint32_t body_ = 0;   // kind-specific: start of elements / data / fields
  uint64_t count_ = 0;  // kind-specific: element count, ndim, field count
  uint32_t extent_ = 0;  // kind-specific: bitmap bytes, dict values body, ndarray bytes
  uint8_t width_ = 0;    // stored width of ints / list elements; 0 = value in base_value_
  uint8_t aux_ = 0;      // kind-specific: dtype, set mode, dict value width
  // Kind-specific: decoded `object` ints and bools, a bitmap set's first value,
  // a struct's or tuple's first presence-bitmap word.
  int64_t base_value_ = 0;
};

// Reading a fixed-width field of a struct of up to 64 fields is the hot path
// of every lookup; it is inline so that no View needs to be materialized.
inline Result<View> View::Field(int index) const {
  if (count_ <= 64 && static_cast<uint64_t>(index) < count_) {
    uint64_t bits = static_cast<uint64_t>(base_value_);
    if (!((bits >> index) & 1)) return View();
    const StructDef& def = schema_->struct_def(type_->struct_index);
    const StructLayout::Slot& s = def.layout.slots[index];
    if (s.is_inline) {
      View v;
      v.schema_ = schema_;
      v.type_ = &def.fields[index].type;
      v.base_ = base_;
      v.segment_ = segment_;
      v.size_ = size_;
      v.pos_ = static_cast<uint32_t>(
          body_ + __builtin_popcountll(bits & s.before[0]) +
          2 * __builtin_popcountll(bits & s.before[1]) +
          4 * __builtin_popcountll(bits & s.before[2]) +
          8 * __builtin_popcountll(bits & s.before[3]));
      v.width_ = s.size;
      return v;
    }
  }
  return FieldSlow(index);
}

inline int64_t View::as_int() const {
  if (width_ == 0) return base_value_;
  const uint8_t* p = base_ + pos_;
  bool is_signed = IsSignedIntKind(type_->kind);
  switch (width_) {
    case 1: return is_signed ? static_cast<int8_t>(p[0]) : static_cast<int64_t>(p[0]);
    case 2: {
      uint16_t u;
      __builtin_memcpy(&u, p, 2);
      return is_signed ? static_cast<int16_t>(u) : static_cast<int64_t>(u);
    }
    case 4: {
      uint32_t u;
      __builtin_memcpy(&u, p, 4);
      return is_signed ? static_cast<int32_t>(u) : static_cast<int64_t>(u);
    }
    default: {
      int64_t v;
      __builtin_memcpy(&v, p, 8);
      return v;
    }
  }
}

// What View::Elements() returns; holds a copy of the view, so a range over a
// temporary stays valid for the whole loop.
class ElementRange {
 public:
  class Iterator {
   public:
    Iterator(const View* v, size_t i) : v_(v), i_(i) {}
    Result<View> operator*() const {
      return v_->kind() == TypeKind::kDict ? v_->KeyAt(i_) : v_->At(i_);
    }
    Iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const Iterator& o) const { return i_ != o.i_; }

   private:
    const View* v_;
    size_t i_;
  };
  explicit ElementRange(const View& v) : v_(v) {}
  Iterator begin() const { return {&v_, 0}; }
  Iterator end() const { return {&v_, v_.size()}; }

 private:
  View v_;
};

// Views the record of struct type `struct_index` that starts at `data[0]`;
// `data.size()` bounds every read.
Result<View> ViewRecord(const Schema& schema, int struct_index, std::string_view data);
// The same, for a record at `offset` inside `buffer` (sharedbuffers' unpack_from).
Result<View> ViewRecordAt(const Schema& schema, int struct_index, std::string_view buffer,
                          size_t offset);

// Views the record `data` that lies inside `segment`'s data section, so that
// it may hold value references (docs/format.md, "Value references").
Result<View> ViewSegmentRecord(const Schema& schema, int struct_index, const SegmentData* segment,
                               std::string_view data);

// Proves that every byte reachable from `v` is well-formed: bounds, counts,
// tags, UTF-8 of str, sorted unique sets and dict keys, depth <= kMaxDepth,
// and every value reference with the value it reaches. Work is linear in the
// record size plus the referenced values.
Status Verify(const View& v);

// Verifies many records of one segment and checks each referenced value once
// (keyed by its place and type), so verifying a whole segment stays linear in
// its size however often its values are referenced.
class RecordVerifier {
 public:
  RecordVerifier();
  ~RecordVerifier();
  RecordVerifier(const RecordVerifier&) = delete;
  RecordVerifier& operator=(const RecordVerifier&) = delete;
  Status Verify(const View& v);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// An owned copy of the value (null view -> null Value).
Result<Value> Materialize(const View& v);

// Appends the JSON rendering of docs/layout.md ("Field files") (no trailing newline). Verifies first.
Status RenderJson(const View& v, std::string* out);

// A total order on values of the same schema type (used for set and dict
// key order): <0, 0 or >0.
int CompareViews(const View& a, const View& b);

// Packs records of one schema. Reuses its buffers: keep one per thread.
class RecordPacker {
 public:
  explicit RecordPacker(const Schema& schema);
  ~RecordPacker();
  RecordPacker(const RecordPacker&) = delete;
  RecordPacker& operator=(const RecordPacker&) = delete;

  // Packs `value` (a struct Value) as a record of `struct_index`. The returned
  // bytes live in the packer until the next call.
  Result<std::string_view> Pack(int struct_index, const Value& value);
  // Packs a standalone value of any type (used for generic keys): the value's
  // encoding starts at the returned bytes' start when `type` is a ref kind.
  Result<std::string_view> PackValue(const Type& type, const Value& value);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// One-shot helpers in the style of sharedbuffers.
Result<std::string> Pack(const Schema& schema, int struct_index, const Value& value);
// Writes the record at `buffer[offset]`; returns its size, or OutOfRange when
// it does not fit (the buffer is untouched then).
Result<size_t> PackInto(const Schema& schema, int struct_index, const Value& value,
                        std::span<uint8_t> buffer, size_t offset);

// A view of a standalone value packed by RecordPacker::PackValue.
Result<View> ViewValue(const Schema& schema, const Type& type, std::string_view data);

}  // namespace mapfs

#endif  // MAPFS_RECORD_H_
