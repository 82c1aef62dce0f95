// Private parts of Tree shared by tree.cc (resolution, lookup, reads) and
// tree_dir.cc (listings): the per-source state, the resolved node, and the
// child/name helpers of value directories.
#ifndef MAPFS_FS_TREE_INTERNAL_H_
#define MAPFS_FS_TREE_INTERNAL_H_

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mapfs/segment.h"
#include "mapfs/shared_array.h"
#include "content.h"
#include "tree.h"

namespace mapfs::fs {

// The files of a collection directory, in listing order, and their ids.
constexpr std::string_view kCollectionFiles[] = {"@info", "@schema", "@segment"};
constexpr CollectionFile kCollectionFileIds[] = {kInfoFile, kSchemaFile, kSegmentFile};

// Identifies the file a version was opened from, to tell a replacement
// (rename, rewrite) from an event that changed nothing.
struct FileStamp {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  timespec mtime{};
  bool operator==(const FileStamp& o) const {
    return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
           mtime.tv_nsec == o.mtime.tv_nsec;
  }
};

// One version of one source: immutable once opened, shared by the nodes
// being served from it.
struct Tree::Source {
  std::string name;  // the entry's name in its directory
  std::string path;
  Status status;     // why the segment failed to open
  std::unique_ptr<Segment> seg;
  std::string schema_yaml;
  std::string info_json;
  timespec mtime{};
  FileStamp stamp;
  uint64_t generation = 0;  // unique per version: keys of the render cache
  // A directory source: its members are the entries of its slot.
  bool is_directory = false;
  // A shared-array source is one file, `name` (already `<stem>.npy`): the
  // .npy header, then the data read live from `array`, a read-only
  // attachment (null when attaching failed; `status` says why).
  bool is_array = false;
  std::unique_ptr<SharedArray> array;
  std::string npy_header;
};

// A name in a directory of the tree (the mount root, a directory source)
// and the slot of the version it currently shows.
struct Tree::Entry {
  std::string name;
  std::string path;   // what it shows: a file, directory or array URI
  std::string where;  // error prefix from the mount configuration, or ""
  uint32_t slot = 0;
};

// A slot holds one version of a source (inode numbers carry the slot), and
// for directories their entries. Slot 0 is the mount root: its entries are
// the root's, or the single entry a single-file mount shows as the root.
struct Tree::Slot {
  std::shared_ptr<const Source> src;  // null: free (and for slot 0)
  std::vector<Entry> entries;         // directories
  std::string dir_path;               // directories backed by a directory on disk
  bool retired = false;               // replaced; freed once `lookups` is 0
  std::atomic<int64_t> lookups{0};    // kernel lookups of this slot's inode numbers
};

struct Tree::Node {
  enum class Kind {
    kMountRoot, kDirectory, kCollection, kSchema, kInfo, kSegment, kKeyDir, kValue, kJson,
    kArray
  };
  Kind kind = Kind::kMountRoot;
  NodeId id;
  const Source* src = nullptr;
  std::shared_ptr<const Source> hold;  // keeps `src` mapped while the node is used
  View value;                 // kValue; kJson of a value directory: that directory
  Segment::RecordIds ids;     // kKeyDir, and kJson of a key directory
  bool key_dir_json = false;  // kJson of a key directory
  uint64_t record_at = 0;     // file offset of the record, for error messages
  bool is_dir() const {
    return kind == Kind::kMountRoot || kind == Kind::kDirectory || kind == Kind::kCollection ||
           kind == Kind::kKeyDir ||
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

}  // namespace mapfs::fs

#endif  // MAPFS_FS_TREE_INTERNAL_H_
