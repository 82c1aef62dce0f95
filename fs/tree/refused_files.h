// RefusedFiles: the source files whose replacement was refused, so that a bad
// file left in place is verified and logged once, not at every check (the
// reload watcher looks at every source once a second, and verifying reads
// the whole file). A file is looked at again as soon as its device, inode,
// size, mtime or ctime changes: any write, truncation, rename over it,
// chmod or new link does that.
//
// Thread-safe. Holds at most `capacity` paths (the oldest is dropped first),
// so a directory filled with bad files costs bounded memory; a dropped path
// is merely verified once more.
//
//   RefusedFiles refused;
//   if (refused.Known(path, st)) return;  // same bytes as last time: refused
//   ... verify; on failure: refused.Remember(path, st);
#ifndef MAPFS_FS_REFUSED_FILES_H_
#define MAPFS_FS_REFUSED_FILES_H_

#include <sys/stat.h>

#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

#include "source_version.h"

namespace mapfs::fs {

class RefusedFiles {
 public:
  explicit RefusedFiles(size_t capacity = 4096) : capacity_(capacity) {}

  // True if `path` was refused when it was the file `st` describes.
  bool Known(const std::string& path, const struct stat& st) const;
  // Remembers that `path`, as `st` describes it, was refused.
  void Remember(const std::string& path, const struct stat& st);
  // Forgets `path` (accepted, or gone).
  void Forget(const std::string& path);
  size_t size() const;

 private:
  struct Stamp {
    FileStamp file;
    timespec ctime{};
    bool operator==(const Stamp& o) const {
      return file == o.file && ctime.tv_sec == o.ctime.tv_sec && ctime.tv_nsec == o.ctime.tv_nsec;
    }
  };
  static Stamp StampOf(const struct stat& st);

  const size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Stamp> stamps_;
  std::deque<std::string> order_;  // paths in the order remembered, oldest first
};

}  // namespace mapfs::fs

#endif  // MAPFS_FS_REFUSED_FILES_H_
