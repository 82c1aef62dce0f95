// Private parts of Tree shared by tree.cc (resolution, lookup, reads) and
// tree_dir.cc (listings): the per-source state, the resolved node, and the
// child/name helpers of value directories.
#ifndef MAPFS_FS_TREE_INTERNAL_H_
#define MAPFS_FS_TREE_INTERNAL_H_

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mapfs/segment.h"
#include "mapfs/shared_array.h"
#include "content.h"
#include "tree.h"

namespace mapfs::fs {

// The files of a collection directory, in listing order, and their ids.
// Collections (and datasets) with more members are listed without their
// attributes: see Tree::ReadDirCollection.
constexpr uint64_t kMaxAttrListing = uint64_t{1} << 18;
// How many keys ahead a listing warms the item it will read (hash order
// scatters items over the file, so each is otherwise a cache miss).
constexpr uint64_t kListingPrefetch = 64;
constexpr std::string_view kCollectionFiles[] = {"@info", "@schema", "@segment"};
constexpr CollectionFile kCollectionFileIds[] = {kInfoFile, kSchemaFile, kSegmentFile};

struct Tree::Node {
  enum class Kind {
    kMountRoot, kDirectory, kCollection, kSchema, kInfo, kSegment, kKeyDir, kValue, kJson,
    kArray,
    kManifest,  // a dataset's @dataset
    kShards,    // a dataset's @shards directory
  };
  Kind kind = Kind::kMountRoot;
  NodeId id;
  const Source* src = nullptr;
  std::shared_ptr<const Source> hold;  // keeps `src` mapped while the node is used
  View value;                 // kValue; kJson of a value directory: that directory
  Segment::RecordIds ids;     // kKeyDir, and kJson of a key directory
  // The storage of `ids` when they are not the file's (an approximate
  // multimap key's own records, filtered out of its hash group).
  std::shared_ptr<const std::vector<uint32_t>> own_ids;
  bool key_dir_json = false;  // kJson of a key directory
  uint64_t record_at = 0;     // file offset of the record, for error messages
  bool is_dir() const {
    return kind == Kind::kMountRoot || kind == Kind::kDirectory || kind == Kind::kCollection ||
           kind == Kind::kKeyDir || kind == Kind::kShards ||
           (kind == Kind::kValue && IsDirectoryValue(value));
  }
};

// Number of child positions of a value directory (fields, elements, entries).
size_t ChildCount(const View& dir);
// The child at `pos` of a value directory: a null view when absent (an
// absent field, a null element), NotFound past the end.
Result<View> ChildAt(const View& dir, uint64_t pos);
// The file name of the child at `pos` (non-null).
Result<std::string> ChildName(const View& dir, uint64_t pos);
// The position of the child called `name`, nullopt if there is none.
Result<std::optional<uint64_t>> FindChild(const View& dir, std::string_view name);

// The raw key bytes a collection name stands for (not for indexed names);
// nullopt if the name cannot be a key of `seg`'s key type.
std::optional<std::string> RawKeyOfName(const Segment& seg, std::string_view name);

// What notes the root children of a single-file mount showing `src` (a
// segment or a dataset); null when their names cannot be rebuilt from their
// nodes, or `src` did not open.
std::unique_ptr<RootNames> RootNamesFor(const Tree::Source& src);

// A dataset's files (docs/layout.md, "Datasets"): the ids of its collection
// anchor beside kCollectionFiles (its @segment id is unused).
enum DatasetFile : uint32_t { kManifestFile = 4, kShardsDir = 5 };

}  // namespace mapfs::fs

#endif  // MAPFS_FS_TREE_INTERNAL_H_
