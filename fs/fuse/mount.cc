// Mount point checks, the FUSE session's lifetime and the daemon; see mount.h.
#include "mount.h"

#include <fuse_lowlevel.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "code_residency.h"
#include "fuse_ops.h"
#include "log.h"
#include "file_util.h"
#include "reload.h"
#include "tree.h"

namespace mapfs::fs {

namespace {

// RAII owner of a FUSE session: unmounts (if mounted) and destroys it.
class FuseSession {
 public:
  explicit FuseSession(fuse_session* se) : se_(se) {}
  ~FuseSession() {
    if (se_ == nullptr) return;
    if (mounted_) fuse_session_unmount(se_);
    fuse_session_destroy(se_);
  }
  FuseSession(const FuseSession&) = delete;
  FuseSession& operator=(const FuseSession&) = delete;

  fuse_session* get() const { return se_; }
  Status Mount(const std::string& mountpoint) {
    if (fuse_session_mount(se_, mountpoint.c_str()) != 0) {
      return Status::IOError("cannot mount on " + mountpoint + " (see the message above)", EIO);
    }
    mounted_ = true;
    return Status::OK();
  }

 private:
  fuse_session* se_;
  bool mounted_ = false;
};

// Everything one mount needs while it is served; destroyed in reverse.
struct ServedMount {
  MountRequest request;
  FuseContext ctx;
  std::unique_ptr<FuseSession> session;
  std::unique_ptr<ReloadWatcher> watcher;
  std::thread loop;
  int loop_rc = 0;
};

// Interrupts a loop thread's blocking read or wait, so it sees the exit flag.
void WakeHandler(int) {}
constexpr int kWakeSignal = SIGUSR1;

Status RunLoop(fuse_session* se, unsigned threads) {
  int rc;
  if (threads <= 1) {
    rc = fuse_session_loop(se);
  } else {
    fuse_loop_config* cfg = fuse_loop_cfg_create();
    fuse_loop_cfg_set_max_threads(cfg, threads);
    fuse_loop_cfg_set_clone_fd(cfg, 0);
    rc = fuse_session_loop_mt(se, cfg);
    fuse_loop_cfg_destroy(cfg);
  }
  // A signal or an unmount ends the loop normally; only real errors count.
  if (rc < 0 && rc != -ENODEV && rc != -EINTR) {
    return Status::IOError(std::string("FUSE loop: ") + std::strerror(-rc), -rc);
  }
  return Status::OK();
}

// Runs `fusermount3 -u -z mountpoint`; true on success.
bool LazyUnmountWithHelper(const std::string& mountpoint) {
  const pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    ::execlp("fusermount3", "fusermount3", "-u", "-z", mountpoint.c_str(), nullptr);
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// mount(8) options can hold no commas in a value, and fsname is only a label.
std::string FsName(const std::string& source) {
  std::string out = "mapfs:";
  for (char c : source) out.push_back(c == ',' || c == '\\' ? '_' : c);
  return out;
}

// A FUSE daemon that died without unmounting leaves a mount that serves
// nothing. Detach it (it cannot hold anyone's data); false if that failed.
bool DetachStaleMount(const std::string& mountpoint) {
  return (::geteuid() == 0 && ::umount2(mountpoint.c_str(), MNT_DETACH) == 0) ||
         LazyUnmountWithHelper(mountpoint);
}

Status StaleMountError(const std::string& mountpoint) {
  return Status::IOError("mount point " + mountpoint +
                             " is a stale FUSE mount (transport endpoint is not connected); "
                             "run `fusermount3 -u " + mountpoint + "` and retry",
                         ENOTCONN);
}

}  // namespace

Status PrepareMountpoint(const std::string& mountpoint) {
  struct stat st;
  bool stale = false;
  if (::stat(mountpoint.c_str(), &st) != 0) {
    if (errno != ENOTCONN) return Status::FromErrno("mount point " + mountpoint);
    stale = true;
  } else {
    struct stat parent;
    const std::string up = mountpoint + "/..";
    if (::stat(up.c_str(), &parent) == 0 &&
        (parent.st_dev != st.st_dev || parent.st_ino == st.st_ino)) {
      // The kernel may answer stat from its cache for a dead daemon's mount;
      // statfs always asks the filesystem.
      struct statfs sfs;
      if (::statfs(mountpoint.c_str(), &sfs) == 0 || errno != ENOTCONN) {
        return Status::AlreadyExists("mount point " + mountpoint +
                                     " is already a mount point; unmount it first");
      }
      stale = true;
    }
  }
  if (stale) {
    if (!DetachStaleMount(mountpoint) || ::stat(mountpoint.c_str(), &st) != 0) {
      return StaleMountError(mountpoint);
    }
    std::fprintf(stderr, "mapfs: note: detached a stale mount at %s\n", mountpoint.c_str());
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status::IOError("mount point " + mountpoint + " is not a directory", ENOTDIR);
  }
  return Status::OK();
}

namespace {

// Termination signals are read from a signalfd by the serving thread only;
// loop threads are woken with kWakeSignal, which interrupts without
// restarting. Returns the set the signalfd must read.
sigset_t BlockStopSignals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stop_signals, sig);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  struct sigaction wake {};
  wake.sa_handler = WakeHandler;
  sigemptyset(&wake.sa_mask);
  ::sigaction(kWakeSignal, &wake, nullptr);
  return stop_signals;
}

// The -o list libfuse mounts with: always read-only, and noexec unless asked.
std::string FuseMountOptions(const MountRequest& req) {
  std::string mount_opts = "ro,fsname=" + FsName(req.label) + ",subtype=mapfs";
  if (req.options.allow_other) mount_opts += ",allow_other";
  if (req.options.default_permissions) mount_opts += ",default_permissions";
  // Served bytes are data: nothing on a mount runs unless asked (MS_NOEXEC).
  if (!req.options.exec) mount_opts += ",noexec";
  return mount_opts;
}

// Creates the session of `r` and mounts it; unmounted again when the result goes.
Result<std::unique_ptr<ServedMount>> MountOne(MountRequest r) {
  auto m = std::make_unique<ServedMount>();
  m->request = std::move(r);
  MountRequest& req = m->request;
  m->ctx.tree = req.tree.get();
  m->ctx.options = req.options;
  // No-open mode would keep stale pages of live files across opens; such
  // mounts take opens so each one can drop them (docs/layout.md).
  if (req.tree->has_live_files()) m->ctx.options.open = true;
  m->ctx.uid = req.options.uid.value_or(::getuid());
  m->ctx.gid = req.options.gid.value_or(::getgid());
  std::vector<std::string> argv_text = {"mapfs", "-o", FuseMountOptions(req)};
  if (req.options.debug) argv_text.push_back("-d");
  std::vector<char*> argv;
  for (std::string& a : argv_text) argv.push_back(a.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  fuse_session* se = fuse_session_new(&args, &MapfsOps(), sizeof(fuse_lowlevel_ops), &m->ctx);
  fuse_opt_free_args(&args);
  if (se == nullptr) return Status::InvalidArgument("cannot create the FUSE session");
  m->session = std::make_unique<FuseSession>(se);
  // Resolved before mounting: once mounted, a stat of the mount point would
  // wait for a loop that is not running yet.
  std::unique_ptr<char, decltype(&std::free)> real(::realpath(req.mountpoint.c_str(), nullptr),
                                                   &std::free);
  MAPFS_RETURN_IF_ERROR(m->session->Mount(req.mountpoint));
  const int device_fd = fuse_session_fd(se);
  if (fuse_session_custom_io(se, &MapfsIo(), device_fd) != 0) {
    return Status::IOError("cannot set the FUSE session's I/O", EIO);
  }
  m->ctx.passthrough.set_device_fd(device_fd);
  if (!req.options.passthrough) m->ctx.passthrough.Decline();
  if (real != nullptr) {
    Result<std::string> path = ReadAheadPathOf(real.get());
    if (path.ok()) m->ctx.read_ahead_path = *path;
  }
  return m;
}

// Starts the watcher and the loop thread of every mount. The last loop to
// end writes `done_fd`.
void StartServing(std::vector<std::unique_ptr<ServedMount>>& mounts,
                  std::atomic<size_t>& running, const UniqueFd& done_fd) {
  for (auto& m : mounts) {
    m->watcher = std::make_unique<ReloadWatcher>(m->request.tree.get(), m->session->get());
    Status st = m->watcher->Start();
    if (!st.ok()) LogWarn("%s: no reload: %s", m->request.label.c_str(), st.ToString().c_str());
    ServedMount* raw = m.get();
    m->loop = std::thread([raw, &running, &done_fd] {
      Status st = RunLoop(raw->session->get(), raw->request.options.threads);
      if (!st.ok()) {
        LogError("%s: %s", raw->request.mountpoint.c_str(), st.ToString().c_str());
      } else {
        LogInfo("%s: no longer served", raw->request.mountpoint.c_str());
      }
      LogInfo("%s: requests served: %s", raw->request.mountpoint.c_str(),
              raw->ctx.requests.ToString().c_str());
      raw->loop_rc = st.ok() ? 0 : 1;
      if (--running == 0) {
        const uint64_t one = 1;
        (void)!::write(done_fd.get(), &one, sizeof one);
      }
    });
  }
  for (auto& m : mounts) {
    LogInfo("serving %s on %s", m->request.label.c_str(), m->request.mountpoint.c_str());
  }
}

// Waits until every loop has ended, or a stop signal arrives; then ends
// every loop and waits for them.
void WaitForEnd(std::vector<std::unique_ptr<ServedMount>>& mounts,
                const std::atomic<size_t>& running, const UniqueFd& stop_fd,
                const UniqueFd& done_fd) {
  pollfd fds[2] = {{stop_fd.get(), POLLIN, 0}, {done_fd.get(), POLLIN, 0}};
  while (::poll(fds, 2, -1) < 0 && errno == EINTR) {
  }
  if (!(fds[0].revents & POLLIN)) return;
  signalfd_siginfo info;
  if (::read(stop_fd.get(), &info, sizeof info) == sizeof info) {
    LogInfo("%s: unmounting", strsignal(static_cast<int>(info.ssi_signo)));
  }
  for (auto& m : mounts) fuse_session_exit(m->session->get());
  // A wake-up may land just before a loop blocks; repeat until all are out.
  while (running > 0) {
    for (auto& m : mounts) {
      if (m->loop.joinable()) pthread_kill(m->loop.native_handle(), kWakeSignal);
    }
    pollfd done = {done_fd.get(), POLLIN, 0};
    ::poll(&done, 1, 50);
  }
}

// Maps the daemon's code (code_residency.h), saying so at debug level.
void KeepCode() {
  if (Result<size_t> code = KeepCodeResident(); code.ok()) {
    LogDebug("code kept mapped: %zu KiB", *code >> 10);
  } else {
    LogDebug("code left paged: %s", code.status().ToString().c_str());
  }
}

}  // namespace

Status RunMounts(std::vector<MountRequest> requests) {
  if (requests.empty()) return Status::InvalidArgument("nothing to mount");
  const bool foreground = requests[0].foreground;
  for (const MountRequest& r : requests) MAPFS_RETURN_IF_ERROR(PrepareMountpoint(r.mountpoint));
  // A source truncated in place must cost EIO on its reads, not the daemon.
  if (Status st = InstallTruncationGuard(); !st.ok()) LogWarn("%s", st.ToString().c_str());
  const sigset_t stop_signals = BlockStopSignals();

  // Before any mount shows, so that no request waits on the disk for the
  // code that serves it.
  KeepCode();
  std::vector<std::unique_ptr<ServedMount>> mounts;
  for (MountRequest& r : requests) {
    // On failure, the mounts made so far are undone as `mounts` goes.
    MAPFS_ASSIGN_OR_RETURN(std::unique_ptr<ServedMount> m, MountOne(std::move(r)));
    mounts.push_back(std::move(m));
  }
  if (!foreground) {
    // Forks; the parent exits 0 now that every mount is up. No threads exist yet.
    LogToSyslog();
    if (fuse_daemonize(0) != 0) return Status::IOError("cannot detach from the terminal", EIO);
    // A child gets no page tables of its parent's file mappings: map the
    // code again (its pages are cached by now).
    KeepCode();
  }
  UniqueFd stop_fd(::signalfd(-1, &stop_signals, SFD_CLOEXEC));
  UniqueFd done_fd(::eventfd(0, EFD_CLOEXEC));
  if (!stop_fd.valid() || !done_fd.valid()) return Status::FromErrno("signalfd");
  std::atomic<size_t> running{mounts.size()};
  StartServing(mounts, running, done_fd);
  WaitForEnd(mounts, running, stop_fd, done_fd);
  int failed = 0;
  for (auto& m : mounts) {
    m->loop.join();
    m->watcher->Stop();
    failed += m->loop_rc;
  }
  // Sessions unmount as `mounts` goes, before the trees they serve.
  mounts.clear();
  if (failed > 0) return Status::IOError("a FUSE loop failed (see above)", EIO);
  return Status::OK();
}

Status RunMount(const std::string& source, const std::string& mountpoint,
                const MountOptions& options, bool foreground) {
  TreeOptions tree_options;
  tree_options.render_cache_bytes = size_t{options.render_cache_mb} << 20;
  std::vector<MountRequest> requests(1);
  MAPFS_ASSIGN_OR_RETURN(requests[0].tree, Tree::Open(source, tree_options));
  requests[0].label = source;
  requests[0].mountpoint = mountpoint;
  requests[0].options = options;
  requests[0].foreground = foreground;
  return RunMounts(std::move(requests));
}

}  // namespace mapfs::fs
