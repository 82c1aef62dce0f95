// Dataset: one collection split into N shard segments in a directory, named
// by its manifest `dataset.json` (docs/format.md, "Datasets"), read with the
// Segment reader API.
//
// Open() parses the manifest, opens every shard it names and checks each one
// against it (size, header checksum, counts, kind, key kind, schema); a
// lookup routes its key to one shard (RouteKey) and reads only that shard.
// Record indexes are dataset-wide: shard i holds [first_record(i),
// first_record(i) + shard(i).record_count()).
//
// Thread-safety: immutable after open, as Segment.
//
//   MAPFS_ASSIGN_OR_RETURN(Dataset ds, Dataset::Open("people"));
//   MAPFS_ASSIGN_OR_RETURN(std::optional<Dataset::Entry> hit, ds.Find("Ada"));
//   if (hit) { MAPFS_ASSIGN_OR_RETURN(View rec, ds.ViewOf(*hit)); ... }
#ifndef MAPFS_DATASET_H_
#define MAPFS_DATASET_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mapfs/record.h"
#include "mapfs/segment.h"
#include "mapfs/status.h"

namespace mapfs {

// The manifest's file name in a dataset directory.
inline constexpr std::string_view kManifestName = "dataset.json";
// The seed of the routing hash ("mapfs_r1"); the in-shard index uses another.
inline constexpr uint64_t kRouteSeed = 0x6d617066735f7231ULL;

// The shard of raw key bytes (as Segment::Find takes them) among
// `shard_count` > 0: XXH3_64bits_withSeed(key, kRouteSeed) mod shard_count.
uint64_t RouteKey(std::string_view raw_key, uint64_t shard_count);

// The raw key bytes of a record Value's key field, as a segment stores them:
// UTF-8 for str, 8 LE bytes for uint, packed with `key_type` for generic.
// `packer` is scratch for generic keys; the result may point into it.
Result<std::string_view> RawKeyOf(const Value& key, const Type& key_type, KeyKind kind,
                                  RecordPacker* packer, std::string* scratch);

struct ShardInfo {
  std::string file;  // a name in the dataset directory
  uint64_t size = 0;
  uint64_t header_checksum = 0;
  uint64_t record_count = 0;
  uint64_t key_count = 0;
  uint64_t first_record = 0;
};

// dataset.json, parsed and checked (docs/format.md, "The manifest").
struct Manifest {
  CollectionKind kind = CollectionKind::kArray;
  KeyKind key_kind = KeyKind::kNone;
  std::string root_type;
  std::optional<std::string> key_field;
  std::string schema_json;  // Schema::ToCanonicalJson of the shards' schema
  uint64_t record_count = 0;
  uint64_t key_count = 0;
  std::vector<ShardInfo> shards;

  // Strict: unknown, missing or mistyped fields, bad shard names, counts
  // that do not add up are Corruption naming `name` and the field.
  static Result<Manifest> Parse(std::string_view json, const std::string& name = "dataset.json");
  // The canonical JSON (sorted keys, no whitespace).
  std::string Serialize() const;
  // The manifest of shard files already in `dir`, in this order; opens
  // each and checks that they agree (kind, key kind, schema, root, key).
  static Result<Manifest> FromShards(const std::string& dir, const std::vector<std::string>& files);
};

// Writes `dir`/dataset.json for `files` (FromShards) atomically: the
// dataset appears, or its new version replaces the old, at the rename.
Status PublishDataset(const std::string& dir, const std::vector<std::string>& files);

// A fresh build id (16 hex digits) and the file name of shard `i` of `n`.
std::string NewBuildId();
std::string ShardFileName(std::string_view build_id, uint64_t i, uint64_t n);

// True if `path` is a directory holding a dataset.json.
bool IsDatasetDir(const std::string& path);

class Dataset {
 public:
  // A key's record (for multimaps its first record) in shard `shard`.
  struct Entry {
    size_t shard = 0;
    Segment::Entry entry;
  };
  // A multimap key's records: shard-local ids of shard `shard`.
  struct Records {
    size_t shard = 0;
    Segment::RecordIds ids;
  };

  static Result<Dataset> Open(const std::string& dir);

  Dataset(Dataset&&) noexcept = default;
  Dataset& operator=(Dataset&&) noexcept = default;

  const std::string& dir() const { return dir_; }
  const Manifest& manifest() const { return manifest_; }
  CollectionKind kind() const { return manifest_.kind; }
  KeyKind key_kind() const { return manifest_.key_kind; }
  uint64_t record_count() const { return manifest_.record_count; }
  uint64_t key_count() const { return manifest_.key_count; }
  const Schema& schema() const { return shards_[0].schema(); }
  int root_struct_index() const { return shards_[0].root_struct_index(); }
  int key_field_index() const { return shards_[0].key_field_index(); }

  size_t shard_count() const { return shards_.size(); }
  const Segment& shard(size_t i) const { return shards_[i]; }
  uint64_t first_record(size_t i) const { return manifest_.shards[i].first_record; }
  // The shard holding dataset record `i` (< record_count()).
  size_t ShardOfRecord(uint64_t i) const;
  // The shard a key routes to.
  size_t ShardOfKey(std::string_view raw_key) const {
    return static_cast<size_t>(RouteKey(raw_key, shards_.size()));
  }

  // Dataset record `i`, as packed bytes or as a View (of its shard).
  Result<std::string_view> RecordBytes(uint64_t i) const;
  Result<View> Record(uint64_t i) const;
  Result<View> ViewOf(const Entry& e) const { return shards_[e.shard].ViewOf(e.entry.record); }

  // Keyed kinds, by raw key bytes (see Segment::Find): one shard is read.
  Result<std::optional<Entry>> Find(std::string_view key) const;
  Result<Records> FindAll(std::string_view key) const;
  Result<Records> Candidates(std::string_view key) const;

  // Every shard's Verify, then that each key is in the shard it routes to.
  Status Verify() const;

 private:
  Dataset() = default;
  std::string dir_;
  Manifest manifest_;
  std::vector<Segment> shards_;
};

}  // namespace mapfs

#endif  // MAPFS_DATASET_H_
