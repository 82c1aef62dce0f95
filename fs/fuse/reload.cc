// Watching sources for replacements; see reload.h.
#include "reload.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstring>

#include "log.h"

namespace mapfs::fs {

namespace {

// A rebuild renamed over a file, a file written in place, a file removed or
// renamed away, a name created by link() or symlink() (directory sources).
constexpr uint32_t kEvents =
    IN_MOVED_TO | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_DELETE | IN_CREATE;
constexpr int kPollMillis = 1000;
constexpr int kSweepMillis = 100;

std::pair<std::string, std::string> SplitPath(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

}  // namespace

Status ReloadWatcher::Start() {
  stop_.Reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop_.valid()) return Status::FromErrno("eventfd");
  inotify_.Reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!inotify_.valid()) {
    LogWarn("cannot watch sources for replacements (inotify: %s); checking them every second",
            std::strerror(errno));
  } else {
    for (const std::string& dir : tree_->WatchedDirectories()) {
      const int wd = ::inotify_add_watch(inotify_.get(), dir.c_str(), kEvents | IN_ONLYDIR);
      if (wd < 0) {
        LogWarn("cannot watch %s for replacements (%s); checking its sources every second",
                dir.c_str(), std::strerror(errno));
        continue;
      }
      dirs_[wd] = dir;
    }
  }
  thread_ = std::thread([this] { Run(); });
  return Status::OK();
}

void ReloadWatcher::Stop() {
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  if (::write(stop_.get(), &one, sizeof one) < 0) {
    LogError("cannot stop the reload watcher: %s", std::strerror(errno));
  }
  thread_.join();
}

void ReloadWatcher::Run() {
  using Clock = std::chrono::steady_clock;
  pollfd fds[2] = {{stop_.get(), POLLIN, 0}, {inotify_.get(), POLLIN, 0}};
  const nfds_t count = inotify_.valid() ? 2 : 1;
  auto next_check = Clock::now() + std::chrono::milliseconds(kPollMillis);
  bool retired_held = false;
  while (true) {
    // Replaced versions held for their grace are looked at more often, so
    // they go soon after it ends.
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
        next_check - Clock::now());
    const int timeout = static_cast<int>(std::clamp<int64_t>(
        wait.count(), 0, retired_held ? kSweepMillis : kPollMillis));
    const int n = ::poll(fds, count, timeout);
    if (n < 0 && errno != EINTR) {
      LogError("reload watcher: poll: %s", std::strerror(errno));
      return;
    }
    if (fds[0].revents & POLLIN) return;
    if (n > 0 && (fds[1].revents & POLLIN)) HandleEvents();
    if (Clock::now() >= next_check) {
      CheckNow();
      next_check = Clock::now() + std::chrono::milliseconds(kPollMillis);
    }
    ReportTruncations();
    FlushSuppressedLogs();
    retired_held = tree_->ReleaseRetired() > 0;
  }
}

void ReloadWatcher::ReportTruncations() {
  // Process-wide: with several mounts, whichever watcher sees it first reports.
  static std::atomic<uint64_t> reported{0};
  const uint64_t now = TruncatedPagesReplaced();
  uint64_t seen = reported.load();
  if (now > seen && reported.compare_exchange_strong(seen, now)) {
    LogError("a mounted file was truncated or rewritten in place (%llu page(s) lost); its "
             "version now answers EIO until a replacement is renamed over it; replace mounted "
             "files by rename", static_cast<unsigned long long>(now - seen));
  }
}

void ReloadWatcher::CheckNow() {
  for (const std::string& path : tree_->SourceFiles()) {
    auto [dir, name] = SplitPath(path);
    Apply(tree_->Refresh(dir, name));
  }
  if (inotify_.valid()) HandleEvents();
}

void ReloadWatcher::HandleEvents() {
  alignas(inotify_event) char buf[64 * 1024];
  while (true) {
    const ssize_t len = ::read(inotify_.get(), buf, sizeof buf);
    if (len <= 0) {
      if (len < 0 && errno != EAGAIN && errno != EINTR) {
        LogError("reload watcher: inotify: %s", std::strerror(errno));
      }
      return;
    }
    for (ssize_t at = 0; at < len;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + at);
      at += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      if (ev->mask & IN_Q_OVERFLOW) {
        // Events were lost: look at every source instead.
        for (const std::string& path : tree_->SourceFiles()) {
          auto [dir, name] = SplitPath(path);
          Apply(tree_->Refresh(dir, name));
        }
        continue;
      }
      auto it = dirs_.find(ev->wd);
      if (it == dirs_.end() || ev->len == 0) continue;
      // A created name may be a file still being written: Refresh waits for
      // its IN_CLOSE_WRITE unless it already opens.
      Apply(tree_->Refresh(it->second, ev->name,
                           (ev->mask & IN_CREATE) ? RefreshCause::kCreated
                                                  : RefreshCause::kChanged));
    }
  }
}

void ReloadWatcher::Apply(const std::vector<Invalidation>& changes) {
  if (changes.empty()) return;
  if (session_ != nullptr) {
    // The names first, then each parent's attributes and listing once (a
    // single-file mount's root may name every record).
    std::vector<uint64_t> parents;
    for (const Invalidation& c : changes) {
      if (std::find(parents.begin(), parents.end(), c.parent) == parents.end()) {
        parents.push_back(c.parent);
      }
      if (c.name.empty()) continue;
      // ENOENT: the kernel had not cached it. Nothing else can fail usefully.
      if (c.expire && expire_supported_) {
        const int rc = fuse_lowlevel_notify_expire_entry(session_, c.parent, c.name.data(),
                                                         c.name.size(), FUSE_LL_EXPIRE_ONLY);
        if (rc != -ENOSYS) continue;
        expire_supported_ = false;  // a kernel before FUSE 7.38: invalidate instead
      }
      fuse_lowlevel_notify_inval_entry(session_, c.parent, c.name.data(), c.name.size());
    }
    for (uint64_t parent : parents) fuse_lowlevel_notify_inval_inode(session_, parent, 0, 0);
  }
  // Only now may the replaced versions go (after their grace).
  tree_->Invalidated();
}

}  // namespace mapfs::fs
