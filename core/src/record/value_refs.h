// Value references on the write side: rewrites packed records so that a value
// equal to one an earlier record of the segment holds becomes a reference to
// that first copy (docs/format.md, "Value references").
//
// The table of written values is bounded by a memory budget and is a function
// of the input sequence only (insertion order, CLOCK eviction, no timing), so
// the same records give the same bytes whatever the builder's other budgets.
// Values are equal when their type names and encodings are equal, a
// container's children compared by the table entries they matched: no hash is
// trusted without comparing the bytes.
#ifndef MAPFS_CORE_RECORD_VALUE_REFS_H_
#define MAPFS_CORE_RECORD_VALUE_REFS_H_

#include <cstdint>
#include <memory>
#include <string_view>

#include "mapfs/record.h"
#include "mapfs/status.h"
#include "mapfs/types.h"

namespace mapfs {

class ValueDeduper {
 public:
  // Bodies shorter than this are never looked up: a reference (its ref slot
  // stays, plus a body of two varints, 2 to 8 bytes) would save a few bytes
  // at the price of a table entry and a lookup for every such value.
  static constexpr size_t kMinSharedBytes = 16;

  // `memory_budget`: bytes the table may hold (entries' keys plus a fixed
  // overhead each); 0 is allowed and then nothing is shared.
  ValueDeduper(const Schema& schema, size_t memory_budget);
  ~ValueDeduper();
  ValueDeduper(const ValueDeduper&) = delete;
  ValueDeduper& operator=(const ValueDeduper&) = delete;

  // Rewrites the standalone packed record `record` of struct `struct_index`.
  // The result lives until the next call; it is smaller than 2 GiB or an
  // InvalidArgument error. Call Commit once the result is stored.
  // `unique_field` >= 0: a root field whose values do not repeat (a
  // mapping's key): its value is neither looked up nor remembered.
  Result<std::string_view> Rewrite(int struct_index, std::string_view record,
                                   int unique_field = -1);
  // The last rewritten record is the record of the item at `item_offset` of
  // the data section: its new values may now be referenced.
  void Commit(uint64_t item_offset);

  // Whether any rewritten record holds a reference.
  bool wrote_references() const;
  // Bytes the table holds now, and at most so far.
  size_t memory_used() const;
  size_t peak_memory() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mapfs

#endif  // MAPFS_CORE_RECORD_VALUE_REFS_H_
