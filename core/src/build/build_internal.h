// Internals of the segment writer: spill files, the buffered section
// stream and the schema-free SegmentWriter that SegmentBuilder wraps
// (segment_writer.cc, segment_index.cc, segment_spill.cc).
#ifndef MAPFS_CORE_BUILD_INTERNAL_H_
#define MAPFS_CORE_BUILD_INTERNAL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "file_util.h"
#include "mapfs/segment_builder.h"
#include "mapfs/status.h"
#include "segment_internal.h"

namespace mapfs {
namespace internal {

// A sequential temp file for spilled data: buffered appends, then buffered
// reads from the start. Unnamed (O_TMPFILE) where the filesystem allows.
class SpillFile {
 public:
  static Result<std::unique_ptr<SpillFile>> Create(const std::string& dir);
  Status Append(const void* data, size_t size);
  Status Flush();
  uint64_t size() const { return size_; }
  // Reads `size` bytes at `offset` (after Flush).
  Status ReadAt(uint64_t offset, void* out, size_t size) const;

 private:
  SpillFile() = default;
  UniqueFd fd_;
  std::string name_;  // "temp file in DIR": it has no name of its own
  std::string buffer_;
  uint64_t size_ = 0;      // logical size, buffered bytes included
  uint64_t flushed_ = 0;
};

// Reads a SpillFile sequentially through a buffer.
class SpillReader {
 public:
  SpillReader(const SpillFile* file, uint64_t begin, uint64_t end, size_t buffer_size);
  // Next `size` bytes into `out`; false at the end.
  Result<bool> Read(void* out, size_t size);

 private:
  const SpillFile* file_;
  uint64_t pos_, end_;
  std::string buffer_;
  size_t buf_pos_ = 0, buf_len_ = 0;
};

// Writes one section sequentially at a file position through a buffer,
// hashing it on the way (the section checksum).
class SectionStream {
 public:
  SectionStream(AtomicFileWriter* out, uint64_t begin);
  ~SectionStream();
  SectionStream(const SectionStream&) = delete;
  SectionStream& operator=(const SectionStream&) = delete;

  Status Append(const void* data, size_t size);
  // Copies bytes [0, size) of `file` in.
  Status AppendSpill(const SpillFile& file);
  // Reads back `size` bytes at `offset` within the section.
  Status ReadBack(uint64_t offset, void* out, size_t size);
  Status Flush();
  uint64_t begin() const { return begin_; }
  uint64_t size() const { return size_; }
  uint64_t Checksum() const;

 private:
  AtomicFileWriter* out_;
  uint64_t begin_;
  uint64_t size_ = 0;
  uint64_t flushed_ = 0;
  std::string buffer_;
  void* hash_state_;  // XXH3_state_t*
};

// pread(2) of exactly `size` bytes; IOError naming `what` otherwise.
Status PreadFully(int fd, uint64_t offset, void* out, size_t size, std::string_view what);

// The index sections of a SegmentWriter while BuildIndex writes them.
struct IndexOutput;

}  // namespace internal

// One key's place in the index while building: 24 bytes in memory and spills.
struct IndexTuple {
  uint64_t hash;
  uint64_t item_offset;  // in the data section
  uint32_t record_id;
  uint32_t key_size;
};
static_assert(sizeof(IndexTuple) == 24);

// Writes a segment from packed items; schema-free (the schema arrives as its
// canonical JSON). SegmentBuilder wraps it.
class SegmentWriter {
 public:
  struct Params {
    std::string path;
    std::string schema_json;
    int32_t root_struct_index = 0;
    int32_t key_field_index = -1;
    CollectionKind kind = CollectionKind::kArray;
    KeyKind key_kind = KeyKind::kNone;
    size_t memory_budget = size_t{256} << 20;
    std::string temp_dir;
    bool dedup = true;
    // Names a record in errors ("people.jsonl:7"); default "<path>: record N".
    std::function<std::string(uint64_t record_id)> record_name;
    // Put before "duplicate key ..." (e.g. "field \"name\": ").
    std::string key_label;
    // Renders generic key bytes for errors; default hex.
    std::function<std::string(std::string_view key)> describe_key;
  };
  static Result<std::unique_ptr<SegmentWriter>> Create(Params params);
  ~SegmentWriter();

  Status Add(std::string_view key, std::string_view record);
  Status Finish();
  uint64_t record_count() const { return record_count_; }
  // The data section offset of the item the last Add stored (or shared).
  uint64_t last_item_offset() const { return last_item_offset_; }
  // Some record holds value references: the header gets kFeatureValueReferences.
  void set_value_references() { value_references_ = true; }

 private:
  SegmentWriter() = default;
  Status WriteItem(std::string_view key, std::string_view record, uint64_t* item_offset);
  bool keyed() const { return p_.kind != CollectionKind::kArray; }
  bool multi() const {
    return p_.kind == CollectionKind::kMultiMap || p_.kind == CollectionKind::kApproxMultiMap;
  }
  Status SpillRun();
  // segment_index.cc: sorts/merges the tuples into directory, entries, ranges
  // and postings sections starting at file offset `pos`.
  Status BuildIndex(uint64_t* pos);
  // Its steps: sort (or finish spilling) the tuples; lay out the sections;
  // turn each group of equal hashes into entries and ranges; close the
  // sections and advance `pos` past them.
  Status SortTuples();
  Result<std::unique_ptr<internal::IndexOutput>> OpenIndex(uint64_t pos);
  Status FlushGroup(std::vector<IndexTuple>* group, internal::IndexOutput* out);
  Status FlushApproxGroup(const std::vector<IndexTuple>& group, internal::IndexOutput* out);
  Status FlushKeyGroup(const std::vector<IndexTuple>& group, internal::IndexOutput* out);
  Status FinishIndex(internal::IndexOutput* out, uint64_t* pos);
  Status ReadKey(const IndexTuple& t, std::string* key);
  std::string DescribeKey(std::string_view key) const;
  std::string RecordName(uint64_t record_id) const;
  void AddSection(segment_format::SectionKind kind, const internal::SectionStream& s);
  Status PadTo(uint64_t pos);
  Status WriteBlockChecksums(uint64_t* pos);

  Params p_;
  std::optional<AtomicFileWriter> out_;
  std::unique_ptr<internal::SectionStream> data_;
  std::unique_ptr<internal::SpillFile> offsets_;  // uint64 per record
  std::vector<IndexTuple> tuples_;
  size_t max_tuples_ = 0;
  std::unique_ptr<internal::SpillFile> runs_;
  std::vector<std::pair<uint64_t, uint64_t>> run_bounds_;  // [begin, end) bytes in runs_
  // 16 bytes, so the table (kDedupSlots) stays in L2: probing it is on the
  // path of every record.
  struct DedupSlot {
    uint32_t hash = 0;  // high half of the item's xxh3
    uint32_t size = 0;  // item bytes; 0 = empty slot
    uint64_t item_offset = 0;
  };
  std::vector<DedupSlot> dedup_;
  std::string scratch_;
  uint64_t record_count_ = 0;
  uint64_t last_item_offset_ = 0;
  bool value_references_ = false;
  uint64_t key_count_ = 0;
  uint32_t index_bits_ = 0;
  std::vector<segment_format::SectionEntry> sections_;
  bool finished_ = false;
};

}  // namespace mapfs

#endif  // MAPFS_CORE_BUILD_INTERNAL_H_
