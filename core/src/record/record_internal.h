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
  static Result<View> Make(const Schema* schema, const Type* t, const uint8_t* base,
                           uint32_t size, uint64_t pos);
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
