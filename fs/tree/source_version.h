// One version of one source of a tree (a segment file, a directory of them,
// or a shared array) and the names directories give to versions. Immutable
// once opened; shared by the nodes being served from it, so a replaced
// version stays mapped while it is in use (see "Versions" in tree.h).
#ifndef MAPFS_FS_SOURCE_VERSION_H_
#define MAPFS_FS_SOURCE_VERSION_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "mapfs/dataset.h"
#include "mapfs/segment.h"
#include "mapfs/shared_array.h"
#include "mapfs/status.h"
#include "record_checks.h"
#include "root_names.h"

namespace mapfs::fs {

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

inline FileStamp StampOf(const struct stat& st) {
  return FileStamp{st.st_dev, st.st_ino, st.st_size, st.st_mtim};
}

struct SourceVersion {
  std::string name;  // the entry's name in its directory
  std::string path;
  Status status;     // why the segment failed to open
  // Shared: a shard's segment is owned by its dataset (below).
  std::shared_ptr<const Segment> seg;
  // The records of `seg` that passed the record verifier (tree.cc,
  // CheckRecord); null until `seg` opens.
  std::unique_ptr<RecordChecks> checked;
  // The root of a single-file mount (a segment or a dataset): the children
  // the kernel was handed, invalidated when the version is replaced. Null
  // elsewhere, and where a child's name cannot be rebuilt from its node
  // (approximate multimaps): those children are volatile entries (NodeAttr).
  std::unique_ptr<RootNames> root_names;
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
  // A dataset directory (docs/format.md, "Datasets"), shown as one
  // collection; `path` is the directory, `stamp` its manifest's, `dataset`
  // null when it failed to open (`status`). Its shards are versions of their
  // own, the entries of its slot in shard order, installed as owned by it
  // (VersionSlots): they come and go with it. `schema_yaml` and `info_json`
  // are the dataset's; `manifest` is dataset.json as read.
  bool is_dataset = false;
  std::shared_ptr<const Dataset> dataset;
  std::string manifest;
  std::vector<uint64_t> first_key;  // each shard's first key ordinal, dataset-wide
  std::vector<std::shared_ptr<const SourceVersion>> shards;  // in shard order
  // A shard of a dataset, shown as `@shards/<i>/`: its own @ files only (its
  // records are reached through the dataset's collection); `i` is
  // shard_index.
  bool is_shard = false;
  uint32_t shard_index = 0;
};

// A name in a directory of the tree (the mount root, a directory source)
// and the slot of the version it currently shows.
struct DirEntry {
  std::string name;
  std::string path;   // what it shows: a file, directory or array URI
  std::string where;  // error prefix from the mount configuration, or ""
  uint32_t slot = 0;
};

}  // namespace mapfs::fs

#endif  // MAPFS_FS_SOURCE_VERSION_H_
