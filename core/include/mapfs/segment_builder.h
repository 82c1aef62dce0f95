// SegmentBuilder: writes a segment file from a stream of records, in bounded
// memory, atomically.
//
// Records are packed and streamed straight into a temporary file beside the
// output. Only (key hash, item offset, record id) tuples, 24 bytes each, stay
// in memory; when they reach the memory budget they are sorted and spilled as
// a run to an unnamed temp file, and Finish() k-way merges the runs into the
// index. Peak memory is about memory_budget + 16 MiB of I/O buffers and the
// dedup table + 4 bytes per record of the most frequent multimap key (or
// approximate hash group), whatever the input size.
// The output appears only when Finish() succeeds; the same input gives the same
// bytes (independent of the budget).
//
// Not thread-safe: one builder is fed by one thread.
//
//   SegmentOptions opt;
//   opt.kind = CollectionKind::kMapping;
//   opt.key_field = *schema.struct_def(person).FindField("name");
//   MAPFS_ASSIGN_OR_RETURN(auto b, SegmentBuilder::Create("p.mapfs", schema, person, opt));
//   for (const Value& v : people) MAPFS_RETURN_IF_ERROR(b->Add(v));
//   MAPFS_RETURN_IF_ERROR(b->Finish());
#ifndef MAPFS_SEGMENT_BUILDER_H_
#define MAPFS_SEGMENT_BUILDER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "mapfs/segment.h"
#include "mapfs/status.h"
#include "mapfs/types.h"
#include "mapfs/value.h"

namespace mapfs {

struct SegmentOptions {
  CollectionKind kind = CollectionKind::kArray;
  // The root struct's field holding the key (required by Add() for keyed
  // kinds), or -1 when keys come only through AddPacked().
  int key_field = -1;
  // The key encoding for AddPacked() without a key field; derived from the
  // key field's type otherwise (str -> kStr, uint8..uint64 -> kUInt, else
  // kGeneric).
  KeyKind key_kind = KeyKind::kNone;
  // Bytes of index tuples held in memory before a run is spilled.
  size_t memory_budget = size_t{256} << 20;
  // Where spill runs go; empty = the output's directory.
  std::string temp_dir;
  // Store identical items (key + record bytes) once, found through a
  // direct-mapped table of 16384 recent items' hashes (256 KiB).
  bool dedup = true;
  // Store each str, bytes, decimal, container, ndarray or struct value once
  // per segment: a value equal to one an earlier record holds becomes a value
  // reference to it (docs/format.md, "Value references"). The table of
  // written values holds at most this many bytes (0: no value references);
  // what it keeps depends only on the input, so the output does not depend
  // on this or any other budget beyond which values are found.
  size_t dedup_memory = size_t{64} << 20;
  // Names record `record_id` (0-based, input order) in error messages, e.g.
  // "people.jsonl:7"; default "<path>: record N".
  std::function<std::string(uint64_t record_id)> record_name;
};

class SegmentWriter;  // core/src/build/build_internal.h
class ValueDeduper;   // core/src/record/value_refs.h

class SegmentBuilder {
 public:
  // `schema` must outlive the builder.
  static Result<std::unique_ptr<SegmentBuilder>> Create(const std::string& path,
                                                        const Schema& schema,
                                                        int root_struct_index,
                                                        SegmentOptions options);
  ~SegmentBuilder();
  SegmentBuilder(const SegmentBuilder&) = delete;
  SegmentBuilder& operator=(const SegmentBuilder&) = delete;

  // Packs a struct Value of the root type and extracts its key field.
  // InvalidArgument if the value does not fit the schema or lacks its key.
  Status Add(const Value& record);
  // Adds already packed record bytes under raw key bytes (see Segment::Find).
  Status AddPacked(std::string_view key, std::string_view record);
  // Adds every element of a range of Values.
  template <typename Range>
  Status AddAll(const Range& records) {
    for (const auto& r : records) MAPFS_RETURN_IF_ERROR(Add(r));
    return Status::OK();
  }
  // Builds the index and renames the file into place. Duplicate keys in a
  // mapping fail here with InvalidArgument naming the key; no output then.
  Status Finish();

  uint64_t record_count() const;
  // Bytes the table of written values holds at most so far (dedup_memory).
  size_t dedup_peak_memory() const;

 private:
  Status AddRecord(std::string_view key, std::string_view packed);
  SegmentBuilder() = default;
  const Schema* schema_ = nullptr;
  int root_ = 0;
  int key_field_ = -1;
  KeyKind key_kind_ = KeyKind::kNone;
  CollectionKind kind_ = CollectionKind::kArray;
  std::unique_ptr<RecordPacker> packer_;
  std::unique_ptr<RecordPacker> key_packer_;
  std::unique_ptr<ValueDeduper> values_;  // null when dedup_memory is 0
  std::unique_ptr<SegmentWriter> writer_;
};

}  // namespace mapfs

#endif  // MAPFS_SEGMENT_BUILDER_H_
