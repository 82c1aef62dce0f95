// Schema-free internals of the segment reader: open-time validation and
// lookups over raw bytes (segment_layout.cc, segment_verify.cc). The public
// Segment adds the schema and records on top; the writer (build/) includes
// this header for the key hash and layout it writes, never the reverse.
#ifndef MAPFS_CORE_SEGMENT_INTERNAL_H_
#define MAPFS_CORE_SEGMENT_INTERNAL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mapfs/segment.h"
#include "mapfs/status.h"
#include "segment_format.h"

namespace mapfs {
namespace internal {

// A byte range of the segment, proven in bounds at open.
struct SectionSpan {
  const uint8_t* data = nullptr;
  uint64_t size = 0;
  uint64_t file_offset = 0;  // for error messages
  uint64_t checksum = 0;
  bool present = false;
};

// What open learned from the header and section table; plain data.
struct SegmentLayout {
  std::string name;  // the file name used in error messages
  const uint8_t* base = nullptr;
  uint64_t size = 0;
  uint16_t major_version = 0;
  uint16_t minor_version = 0;
  uint64_t incompat_features = 0;
  uint64_t compat_features = 0;
  CollectionKind kind = CollectionKind::kArray;
  KeyKind key_kind = KeyKind::kNone;
  uint32_t index_bits = 0;
  uint32_t section_count = 0;
  uint64_t record_count = 0;
  uint64_t key_count = 0;
  int32_t root_struct_index = 0;
  int32_t key_field_index = -1;
  uint64_t hash_seed = 0;
  uint64_t header_checksum = 0;
  SectionSpan schema, data, record_offsets, directory, entries, ranges, postings;
};

// The key hash: xxh3-64 of the key bytes with the file's seed.
using KeyHashFn = uint64_t (*)(const void* data, size_t size, uint64_t seed);
uint64_t KeyHash(const void* data, size_t size, uint64_t seed);
// Test seam: replaces the key hash for the whole process (nullptr restores
// xxh3). Builder and reader must see the same function.
void SetKeyHashForTesting(KeyHashFn fn);

// "Corruption: <name>: offset <file_offset>: <reason>".
Status SegmentCorruption(const SegmentLayout& l, uint64_t file_offset, std::string_view reason);

// Open-time validation in O(sections): magic, version, features, header
// checksum, file size, section bounds/alignment/overlap, sizes against counts.
// Does not parse the schema.
Result<SegmentLayout> ParseLayout(const uint8_t* data, size_t size, std::string name);

struct RawItem {
  std::string_view key;
  std::string_view record;
};
// The item at `item_offset` in the data section, bounds-checked.
Result<RawItem> ReadItem(const SegmentLayout& l, uint64_t item_offset);
// Record `i`'s item, through the record offset table.
Result<RawItem> ReadRecordItem(const SegmentLayout& l, uint64_t i);
// The entry at `ordinal` and its item.
Result<RawItem> ReadEntryItem(const SegmentLayout& l, uint64_t ordinal);
// Index ordinal of `key` (key bytes compared), or nullopt. For approximate
// multimaps the first entry with a matching fingerprint.
Result<std::optional<uint64_t>> FindOrdinal(const SegmentLayout& l, std::string_view key);
// Mappings: the record id of the entry at `ordinal`. A mapping's items are
// written in input order and never shared (keys are unique), so the record
// offset table is increasing and a binary search finds the entry's item.
Result<uint64_t> MappingRecordAt(const SegmentLayout& l, uint64_t ordinal);
// Multimap range of the entry at `ordinal`: pointer to its record ids.
Result<Segment::RecordIds> RangeAt(const SegmentLayout& l, uint64_t ordinal);

// Every checksum, zero padding, index order and range invariant; without the
// schema (records are checked by Segment::Verify).
Status VerifyLayout(const SegmentLayout& l);
// Section checksums and padding only (part of VerifyLayout).
Status VerifySections(const SegmentLayout& l);

}  // namespace internal

}  // namespace mapfs

#endif  // MAPFS_CORE_SEGMENT_INTERNAL_H_
