// Schema-free internals of the segment reader: open-time validation and
// lookups over raw bytes (segment_layout.cc, segment_verify.cc). The public
// Segment adds the schema and records on top; the writer (build/) includes
// this header for the key hash and layout it writes, never the reverse.
#ifndef MAPFS_CORE_SEGMENT_INTERNAL_H_
#define MAPFS_CORE_SEGMENT_INTERNAL_H_

#include <atomic>
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

// Which bytes reads have proven against their checksums (segment_blocks.cc).
// A unit is a 64 KiB block of a block-checksummed file (format 1.1), or a
// whole section of a file without block checksums (1.0). One bit per unit,
// set once the unit's checksum matched; never cleared (the file is
// immutable). Shared by every copy of a layout.
struct CheckedUnits {
  struct Unit {
    uint64_t begin = 0, end = 0;  // file offsets
    uint64_t checksum = 0;        // 1.0: the section's table checksum
  };
  bool blocks = false;           // 1.1: units are blocks; 1.0: sections
  uint64_t covered_begin = 0;    // 1.1: the first section's offset
  uint64_t covered_end = 0;      // 1.1: the block checksum section's offset
  std::vector<Unit> sections;    // 1.0: the known sections, in file order
  uint64_t unit_count = 0;
  std::unique_ptr<std::atomic<uint64_t>[]> verified;  // (unit_count + 63) / 64 words
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
  SectionSpan block_sums;                 // present with kFeatureBlockChecksums
  std::shared_ptr<CheckedUnits> checked;  // never null after ParseLayout
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

// Proves the file bytes [file_offset, file_offset + size) against their
// checksums before they are used: the 64 KiB blocks covering them (1.1), or
// every section they touch, whole (1.0). Each unit is hashed at most once
// per layout while it matches (a bitmap remembers it), so the cost is that of
// the blocks first touched. Thread-safe. A mismatch is Corruption naming the
// file and the unit's byte range. Bytes of the header area and of the block
// checksum section were proven at open and pass.
Status CheckRange(const SegmentLayout& l, uint64_t file_offset, uint64_t size);
// The same for a range given relative to the data section.
inline Status CheckData(const SegmentLayout& l, uint64_t data_offset, uint64_t size) {
  return CheckRange(l, l.data.file_offset + data_offset, size);
}
// Hashes a whole section against its table checksum (the schema at open).
Status CheckSection(const SegmentLayout& l, const SectionSpan& s);
// Open-time part (ParseLayout's last step): validates the block checksum
// section (or its absence) and sets up `l->checked`.
Status SetUpChecks(SegmentLayout* l);
// Benchmark seam: false makes CheckRange pass without checking, to measure
// what the checks cost (bench/integrity_bench.cc). Never off in a product.
void SetRangeChecksForBenchmark(bool on);
// Every unit's checksum, linear in the file (part of VerifySections).
Status VerifyAllUnits(const SegmentLayout& l);
// Units proven so far, and the bitmap's size in bytes (for tests, benches).
uint64_t CheckedUnitCount(const SegmentLayout& l);
size_t CheckedBitmapBytes(const SegmentLayout& l);

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
// Starts loading the item header of index entry `ordinal` into the cache.
// A hint only: it returns nothing read, and ignores an ordinal or an item
// offset out of range.
void PrefetchEntryItem(const SegmentLayout& l, uint64_t ordinal);
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
