// Hot reload of a mounted tree: watches the directories of its sources with
// inotify (and, as a safety net for what inotify cannot see — a symlinked
// directory switched to a new target, network filesystems — stats every
// source file once a second), calls Tree::Refresh, and tells the kernel to
// drop what changed (fuse_lowlevel_notify_inval_*), so a rebuilt file renamed
// over a source is served within about a second. Once a second it also
// releases the replaced versions no open file holds (Tree::ReleaseRetired).
#ifndef MAPFS_FS_RELOAD_H_
#define MAPFS_FS_RELOAD_H_

#include <fuse_lowlevel.h>

#include <string>
#include <thread>
#include <unordered_map>

#include "file_util.h"
#include "mapfs/status.h"
#include "tree.h"

namespace mapfs::fs {

class ReloadWatcher {
 public:
  // Watches `tree`, invalidating through `session` (null: no kernel to tell,
  // for tests). Both must outlive the watcher.
  ReloadWatcher(Tree* tree, fuse_session* session) : tree_(tree), session_(session) {}
  ~ReloadWatcher() { Stop(); }
  ReloadWatcher(const ReloadWatcher&) = delete;
  ReloadWatcher& operator=(const ReloadWatcher&) = delete;

  // Starts the watching thread. An inotify failure (say, the per-user watch
  // limit) is logged and leaves only the once-a-second check.
  Status Start();
  // Stops and joins the thread; idempotent.
  void Stop();
  // One round of checks without the thread: every source file, then the
  // pending inotify events (for tests).
  void CheckNow();

 private:
  void Run();
  void HandleEvents();
  // Logs pages the truncation guard replaced since the last report.
  void ReportTruncations();
  void Apply(const std::vector<Invalidation>& changes);

  Tree* tree_;
  fuse_session* session_;
  UniqueFd inotify_;
  UniqueFd stop_;  // an eventfd: written by Stop
  std::unordered_map<int, std::string> dirs_;  // watch descriptor -> directory
  bool expire_supported_ = true;  // the kernel takes FUSE_LL_EXPIRE_ONLY
  std::thread thread_;
};

}  // namespace mapfs::fs

#endif  // MAPFS_FS_RELOAD_H_
