// Mount point checks, the FUSE session's lifetime and the daemon; see mount.h.
#include "mount.h"

#include <fuse_lowlevel.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "fuse_ops.h"
#include "log.h"
#include "tree.h"

namespace mapfs::fs {

namespace {

// RAII owner of a FUSE session: unmounts (if mounted) and destroys it.
class FuseSession {
 public:
  FuseSession(fuse_session* se) : se_(se) {}
  ~FuseSession() {
    if (se_ == nullptr) return;
    if (signals_) fuse_remove_signal_handlers(se_);
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
  Status HandleSignals() {
    if (fuse_set_signal_handlers(se_) != 0) {
      return Status::IOError("cannot install signal handlers", EIO);
    }
    signals_ = true;
    return Status::OK();
  }

 private:
  fuse_session* se_;
  bool mounted_ = false;
  bool signals_ = false;
};

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

Status RunMount(const std::string& source, const std::string& mountpoint,
                const MountOptions& options) {
  TreeOptions tree_options;
  tree_options.render_cache_bytes = options.render_cache_bytes;
  MAPFS_ASSIGN_OR_RETURN(std::unique_ptr<Tree> tree, Tree::Open(source, tree_options));
  MAPFS_RETURN_IF_ERROR(PrepareMountpoint(mountpoint));

  FuseContext ctx;
  ctx.tree = tree.get();
  ctx.options = options;
  // No-open mode would keep stale pages of live files across opens; such
  // mounts take opens so each one can drop them (docs/layout.md).
  if (tree->has_live_files()) ctx.options.no_open = false;
  ctx.uid = options.uid.value_or(::getuid());
  ctx.gid = options.gid.value_or(::getgid());

  std::string mount_opts = "ro,fsname=" + FsName(source) + ",subtype=mapfs";
  if (options.allow_other) mount_opts += ",allow_other";
  if (options.default_permissions) mount_opts += ",default_permissions";
  std::vector<std::string> argv_text = {"mapfs", "-o", mount_opts};
  if (options.debug) argv_text.push_back("-d");
  std::vector<char*> argv;
  for (std::string& a : argv_text) argv.push_back(a.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());

  FuseSession session(fuse_session_new(&args, &MapfsOps(), sizeof(fuse_lowlevel_ops), &ctx));
  fuse_opt_free_args(&args);
  if (session.get() == nullptr) return Status::InvalidArgument("cannot create the FUSE session");
  MAPFS_RETURN_IF_ERROR(session.HandleSignals());
  MAPFS_RETURN_IF_ERROR(session.Mount(mountpoint));
  if (!options.foreground) {
    // Forks; the parent exits 0 now that the mount is up. No threads exist yet.
    LogToSyslog();
    if (fuse_daemonize(0) != 0) return Status::IOError("cannot detach from the terminal", EIO);
  }
  int rc;
  if (options.threads <= 1) {
    rc = fuse_session_loop(session.get());
  } else {
    fuse_loop_config* cfg = fuse_loop_cfg_create();
    fuse_loop_cfg_set_max_threads(cfg, options.threads);
    fuse_loop_cfg_set_clone_fd(cfg, 0);
    rc = fuse_session_loop_mt(session.get(), cfg);
    fuse_loop_cfg_destroy(cfg);
  }
  // A signal or an unmount ends the loop normally; only real errors count.
  if (rc < 0 && rc != -ENODEV) {
    return Status::IOError(std::string("FUSE loop: ") + std::strerror(-rc), -rc);
  }
  return Status::OK();
}

}  // namespace mapfs::fs
