// Segment: a read-only, memory-mapped file holding one collection of records
// (array, mapping, multimap or approximate multimap) and its schema.
//
// The layout is specified in docs/format.md ("Segments"). Opening validates
// the header, the section table and the schema in O(sections) and returns
// Corruption for a bad file; afterwards every lookup reads the mapping in
// place, bounds-checks each offset it loads, proves the bytes it touches
// against their block checksums (once per block: no corrupt byte is returned
// as data) and never allocates on success.
// Verify() checks every checksum and invariant (linear in the file size).
//
// Thread-safety: a Segment is immutable after open (but for its atomic bitmap
// of proven blocks); any number of threads may
// read it at once. Views, keys and record bytes it returns borrow its mapping
// (or the caller's memory for FromMemory) and stay valid while it lives.
//
//   MAPFS_ASSIGN_OR_RETURN(Segment seg, Segment::Open("people_by_name.mapfs"));
//   MAPFS_ASSIGN_OR_RETURN(std::optional<Segment::Entry> hit, seg.Find("Ada"));
//   if (hit) { MAPFS_ASSIGN_OR_RETURN(View rec, seg.ViewOf(hit->record)); ... }
#ifndef MAPFS_SEGMENT_H_
#define MAPFS_SEGMENT_H_

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mapfs/record.h"
#include "mapfs/status.h"
#include "mapfs/types.h"
#include "mapfs/value.h"

namespace mapfs {

// The numeric values are part of the file format.
enum class CollectionKind : uint8_t {
  kArray = 0,            // records by index, input order
  kMapping = 1,          // unique key -> record
  kMultiMap = 2,         // key -> all its records, input order
  kApproxMultiMap = 3,   // str key hash -> records; keys are not stored
};
enum class KeyKind : uint8_t {
  kNone = 0,     // arrays
  kStr = 1,      // key bytes are the UTF-8 string
  kUInt = 2,     // key bytes are the 8-byte little-endian value
  kGeneric = 3,  // key bytes are the value packed by RecordPacker::PackValue
};
std::string_view CollectionKindName(CollectionKind k);  // "array", "mapping", ...
std::string_view KeyKindName(KeyKind k);                // "none", "str", "uint", "generic"

class MappedFile;
namespace internal {
struct SegmentLayout;  // segment/segment_internal.h
}  // namespace internal

// What a segment's header and section table say (`mapfs inspect`), as read
// and validated at open.
struct SegmentInfo {
  struct Section {
    std::string_view name;  // "schema", "data", "record_offsets", "directory", ...
    uint64_t offset = 0;    // from the file start
    uint64_t size = 0;      // bytes, padding excluded
    uint64_t checksum = 0;  // the xxh3-64 the table records
  };
  uint16_t major_version = 0;
  uint16_t minor_version = 0;
  uint64_t incompat_features = 0;
  uint64_t compat_features = 0;
  uint64_t file_size = 0;
  uint64_t header_checksum = 0;
  uint64_t hash_seed = 0;
  uint32_t index_bits = 0;          // the directory has 2^index_bits buckets
  std::vector<Section> sections;    // the present ones, in section kind order
  // The section named `name`, or null when absent. A pointer into this
  // object: not offered on a temporary (`seg.Info().section(...)`).
  const Section* section(std::string_view name) const&;
  const Section* section(std::string_view name) const&& = delete;
};

class Segment {
 public:
  // One key of the index and the record it leads to (for multimaps: the
  // key's first record). `key` is empty for approximate multimaps.
  struct Entry {
    uint64_t ordinal = 0;  // position in index order, 0..key_count()-1
    std::string_view key;
    std::string_view record;
  };

  // The record ids of one multimap key, in input order: a view on the file.
  class RecordIds {
   public:
    RecordIds() = default;
    RecordIds(const uint8_t* data, uint32_t count) : data_(data), count_(count) {}
    uint32_t size() const { return count_; }
    bool empty() const { return count_ == 0; }
    // Ids are checked against record_count() by Record(), not here.
    uint32_t operator[](uint32_t i) const {
      uint32_t v;
      std::memcpy(&v, data_ + 4 * static_cast<size_t>(i), 4);
      return v;
    }

   private:
    const uint8_t* data_ = nullptr;
    uint32_t count_ = 0;
  };

  // Maps `path` read-only and validates it.
  static Result<Segment> Open(const std::string& path);
  // Validates `size` bytes at `data` (e.g. a client's mmap of @segment); the
  // memory is borrowed and must outlive the Segment. `name` is used in errors.
  static Result<Segment> FromMemory(const void* data, size_t size,
                                    std::string name = "<memory>");

  Segment(Segment&&) noexcept;
  Segment& operator=(Segment&&) noexcept;
  ~Segment();

  const std::string& name() const;
  CollectionKind kind() const;
  KeyKind key_kind() const;
  uint64_t record_count() const;
  // Index entries: unique keys (mappings, multimaps) or hash groups (approx).
  uint64_t key_count() const;
  uint64_t file_size() const;
  uint16_t major_version() const;
  uint16_t minor_version() const;
  uint64_t header_checksum() const;
  const Schema& schema() const { return *schema_; }
  int root_struct_index() const;
  // The key's field in the root struct, or -1 (arrays, keys given by AddPacked).
  int key_field_index() const;
  // The whole file (what @segment serves).
  std::string_view bytes() const;
  // The header fields and section table.
  SegmentInfo Info() const;

  // Record `i` (input order), as packed bytes or as a View.
  Result<std::string_view> RecordBytes(uint64_t i) const;
  Result<View> Record(uint64_t i) const;
  // A View of record bytes returned by this segment (Entry::record).
  Result<View> ViewOf(std::string_view record) const;

  // Mappings and multimaps. Find(string_view) takes the raw key bytes: the
  // string for str keys, 8 LE bytes for uint keys, packed bytes for generic
  // keys. For multimaps the Entry leads to the key's first record.
  Result<std::optional<Entry>> Find(std::string_view key) const;
  Result<std::optional<Entry>> Find(uint64_t key) const;
  // Packs `key` with the key field's type first (this allocates).
  Result<std::optional<Entry>> Find(const Value& key) const;
  Result<bool> Contains(std::string_view key) const;
  // Keys in index order (hash order), for listing; not for approx multimaps'
  // keys, which are empty.
  Result<Entry> EntryAt(uint64_t ordinal) const;
  // A hint for walks in index order: starts loading the item of the key at
  // `ordinal`, which hash order scatters over the file, so that EntryAt
  // finds it in the cache. Any ordinal is allowed; nothing is read for use.
  void PrefetchEntry(uint64_t ordinal) const;
  // A generic key's bytes as a View of the key field's type.
  Result<View> KeyView(std::string_view key) const;

  // Multimaps: all records of a key (empty when absent), and the records of
  // the key at `ordinal`.
  Result<RecordIds> FindAll(std::string_view key) const;
  Result<RecordIds> FindAll(uint64_t key) const;
  Result<RecordIds> RecordsAt(uint64_t ordinal) const;
  // Mappings: the record id of the key at `ordinal` (O(log records)).
  Result<uint64_t> MappingRecordAt(uint64_t ordinal) const;
  // Approximate multimaps: records whose key hash matches `key`'s; may hold
  // records of other keys, never misses one of `key`'s.
  Result<RecordIds> Candidates(std::string_view key) const;

  // Proves the file bytes [file_offset, file_offset + size) against their
  // checksums (docs/format.md, "Block checksums"): the 64 KiB blocks covering
  // them, each hashed once per Segment and then remembered in a bitmap (one
  // bit per block), or for a 1.0 file each section touched, whole. Every
  // lookup and record access above already does this for the bytes it
  // returns; call it before reading other bytes of the mapping in place.
  // Thread-safe; Corruption naming the file and the block's byte range.
  Status CheckRange(uint64_t file_offset, uint64_t size) const;

  // True if the mapped file shrank under this segment (another process
  // truncated or rewrote it in place) and the truncation guard
  // (InstallTruncationGuard) replaced pages of it: reads may be wrong.
  bool damaged() const;

  // Every checksum and invariant, including each record's encoding.
  Status Verify() const;
  // The section checksums and zero padding only: one pass over the file at
  // hash speed, for checking a replacement before serving it.
  Status VerifyChecksums() const;

 private:
  Segment();
  static Result<Segment> FromLayout(internal::SegmentLayout layout);
  Result<std::optional<Entry>> FindRaw(std::string_view key) const;
  Status VerifyKeyField(uint64_t i, std::string_view key, std::string_view record,
                        const View& view) const;

  std::unique_ptr<MappedFile> file_;  // null for FromMemory
  std::unique_ptr<Schema> schema_;    // stable address: Views point at it
  const Type* key_type_ = nullptr;    // in *schema_; null without a key field
  std::unique_ptr<internal::SegmentLayout> layout_;  // never null
  // The data section, for views that follow value references; null when the
  // file has none (kFeatureValueReferences unset). Stable address.
  std::unique_ptr<SegmentData> segment_data_;
};

}  // namespace mapfs

#endif  // MAPFS_SEGMENT_H_
