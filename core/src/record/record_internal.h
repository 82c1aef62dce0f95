// Internals shared by the record packer, views and whole-value walks.
#ifndef MAPFS_CORE_RECORD_INTERNAL_H_
#define MAPFS_CORE_RECORD_INTERNAL_H_

#include <cstdint>

#include "mapfs/record.h"

namespace mapfs {

// Builds Views; the only code that sets View's fields.
class ViewFactory {
 public:
  // A view of the value of type `t` whose encoding starts at `pos` (a ref
  // target, or a standalone value). Checks the value's own header and bounds.
  // `segment` is the data section of the record's segment, or nullptr for a
  // standalone record; a `pos` past the record that carries kValueRefBit is
  // then a value reference (docs/format.md, "Value references").
  static Result<View> Make(const Schema* schema, const Type* t, const uint8_t* base,
                           uint32_t size, uint64_t pos, const SegmentData* segment = nullptr);
  // The value of type `t` that the ref `ref`, read from the record of `from`,
  // points at: a value of that record, or one a value reference reaches.
  static Result<View> Follow(const View& from, const Type* t, uint32_t ref) {
    return Make(from.schema_, t, from.base_, from.size_, ref, from.segment_);
  }
  // Resolves value reference `ref` of the record [base, base + size) in
  // `segment`: every read through a value reference goes through here, and
  // nothing else reads another record's bytes. Checks that the reference
  // body, the target item and the target value lie in the data section and
  // that the target's record ends before the referencing record starts (so
  // references only point backwards and can never form a cycle).
  static Result<View> ResolveReference(const Schema* schema, const Type* t, const uint8_t* base,
                                       uint32_t size, const SegmentData* segment, uint32_t ref);
  // The checks of ResolveReference: where the target record and value lie.
  static Status ReferenceTarget(const uint8_t* base, uint32_t size, const SegmentData* segment,
                                uint32_t ref, const uint8_t** record, uint32_t* record_size,
                                uint32_t* value_pos);
  // A fixed-width value whose bytes [pos, pos + width) are already proven in bounds.
  static View Inline(const Schema* schema, const Type* t, const uint8_t* base, uint32_t size,
                     uint32_t pos, uint8_t width) {
    View v;
    v.schema_ = schema;
    v.type_ = t;
    v.base_ = base;
    v.size_ = size;
    v.pos_ = pos;
    v.width_ = width;
    return v;
  }
  // Accessors for the walks in record_walk.cc.
  static const uint8_t* base(const View& v) { return v.base_; }
  static const SegmentData* segment(const View& v) { return v.segment_; }
  static uint32_t size(const View& v) { return v.size_; }
  static uint32_t body(const View& v) { return v.body_; }
  static uint32_t extent(const View& v) { return v.extent_; }
  static uint8_t width(const View& v) { return v.width_; }
  static uint8_t aux(const View& v) { return v.aux_; }
  static int64_t base_value(const View& v) { return v.base_value_; }
  static const Type& ElementType(const View& v);
  static const Type& ObjectType();

 private:
  // The steps of Make for the encodings with a header: each gets the view
  // with its schema, type and record set and `pos` at the value's first byte
  // (in bounds), checks the header and fills in the rest.
  static Result<View> MakeString(View v, uint64_t pos);
  static Result<View> MakeDecimal(View v, uint64_t pos);
  static Result<View> MakeTuple(View v, uint64_t pos);
  static Result<View> MakeFrozenSet(View v, uint64_t pos);
  static Result<View> MakeDict(View v, uint64_t pos);
  static Result<View> MakeStruct(View v, uint64_t pos);
  static Result<View> MakeNdArray(View v, uint64_t pos);
  static Result<View> MakeObject(View v, uint64_t pos);
};

// The element type of a list, tuple (variadic) or frozenset type.
const Type& ElementTypeOf(const Type& t);

// Three-way comparison with a shared step budget (hostile sharing cannot make
// it exponential); a spent budget compares as "different".
int CompareViewsBudget(const View& a, const View& b, int64_t* budget);

}  // namespace mapfs

#endif  // MAPFS_CORE_RECORD_INTERNAL_H_
