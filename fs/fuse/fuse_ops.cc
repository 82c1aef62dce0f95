// FUSE low-level handlers: turn requests into Tree calls and replies.
// Modelled on libfuse's passthrough_hp and squashfuse's ll.c for read-only
// images: inode numbers are the Tree's pure function of the node and its
// source version, long timeouts and negative entries because a version never
// changes (a replacement comes with new inode numbers), readdir and
// readdirplus both served, writes refused.
#include "fuse_ops.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "log.h"

namespace mapfs::fs {

namespace {

FuseContext& Ctx(fuse_req_t req) { return *static_cast<FuseContext*>(fuse_req_userdata(req)); }

void Count(std::atomic<uint64_t>& counter) { counter.fetch_add(1, std::memory_order_relaxed); }

// Called by every request that can come first after INIT (the kernel sends
// nothing else before INIT is answered). Files opened later read ahead in
// the raised window: the kernel copies the window into a file at its open.
void AfterInit(FuseContext& ctx) {
  if (ctx.read_ahead_done.load(std::memory_order_acquire)) return;
  std::lock_guard<std::mutex> lock(ctx.read_ahead_mu);
  if (ctx.read_ahead_done.load(std::memory_order_relaxed)) return;
  if (!ctx.read_ahead_path.empty()) {
    Status st = RaiseReadAhead(ctx.read_ahead_path, kReadAheadKb);
    if (st.ok()) {
      LogDebug("read-ahead of the mount: at least %u KiB", kReadAheadKb);
    } else {
      LogDebug("read-ahead of the mount left as the kernel set it: %s", st.ToString().c_str());
    }
  }
  ctx.read_ahead_done.store(true, std::memory_order_release);
}

void ReplyError(fuse_req_t req, const Status& st) {
  if (st.IsCorruption()) LogError("%s", st.ToString().c_str());
  fuse_reply_err(req, ErrnoOf(st));
}

void FillStat(const FuseContext& ctx, const NodeAttr& a, struct stat* st) {
  std::memset(st, 0, sizeof(*st));
  const mode_t m = ctx.options.mode;
  st->st_ino = a.ino;
  // Directories are searchable by whoever may read them.
  st->st_mode = a.is_dir ? (S_IFDIR | m | ((m & 0444) >> 2)) : (S_IFREG | m);
  st->st_nlink = a.is_dir ? 2 : 1;
  st->st_uid = ctx.uid;
  st->st_gid = ctx.gid;
  st->st_size = static_cast<off_t>(a.size);
  st->st_blksize = 4096;
  st->st_blocks = static_cast<blkcnt_t>((a.size + 511) / 512);
  st->st_atim = st->st_mtim = st->st_ctim = a.mtime;
}

void FillEntry(const FuseContext& ctx, const NodeAttr& a, fuse_entry_param* e) {
  std::memset(e, 0, sizeof(*e));
  e->ino = a.ino;
  e->generation = 1;
  e->attr_timeout = ctx.options.cache_timeout;
  e->entry_timeout = a.volatile_entry ? std::min(ctx.options.cache_timeout, kVolatileEntrySeconds)
                                      : ctx.options.cache_timeout;
  FillStat(ctx, a, &e->attr);
}

void OpInit(void* userdata, fuse_conn_info* conn) {
  (void)userdata;
  // Every listing is a readdirplus: its entries carry their attributes, so
  // a walk looks up nothing it has listed. (With the kernel's "auto" choice
  // only a directory's first chunk would, and a walk of a big collection
  // would cost one LOOKUP per record directory.) Attributes are cheap here,
  // and entries whose attributes are not (@json) come without them.
  if (conn->capable & FUSE_CAP_READDIRPLUS) conn->want |= FUSE_CAP_READDIRPLUS;
  conn->want &= ~static_cast<unsigned>(FUSE_CAP_READDIRPLUS_AUTO);
  if (conn->capable & FUSE_CAP_PARALLEL_DIROPS) conn->want |= FUSE_CAP_PARALLEL_DIROPS;
  // Sizes and mtimes never change; live files drop their pages at open instead.
  conn->want &= ~static_cast<unsigned>(FUSE_CAP_AUTO_INVAL_DATA);
}

void OpLookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  FuseContext& ctx = Ctx(req);
  Count(ctx.requests.lookup);
  AfterInit(ctx);
  Result<NodeAttr> a = ctx.tree->Lookup(parent, name);
  fuse_entry_param e;
  if (a.ok()) {
    FillEntry(ctx, *a, &e);
    if (fuse_reply_entry(req, &e) != 0) ctx.tree->Forget(a->ino, 1);  // lookup not delivered
    return;
  }
  if (a.status().IsNotFound()) {
    // A negative entry, cached as long as positive ones: a replaced source
    // gets a new directory inode, so its old misses go with the old one.
    // A single-file mount's root keeps its inode and its misses are not
    // recorded, so they last a second: a name a replacement adds shows
    // within it.
    std::memset(&e, 0, sizeof(e));
    e.entry_timeout = ctx.tree->VolatileChildren(parent)
                          ? std::min(ctx.options.cache_timeout, kVolatileEntrySeconds)
                          : ctx.options.cache_timeout;
    fuse_reply_entry(req, &e);
    return;
  }
  ReplyError(req, a.status());
}

void OpForget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  Count(Ctx(req).requests.forget);
  Ctx(req).tree->Forget(ino, nlookup);
  fuse_reply_none(req);
}

void OpForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  Count(Ctx(req).requests.forget);
  for (size_t i = 0; i < count; ++i) Ctx(req).tree->Forget(forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}

void OpGetattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  (void)fi;
  FuseContext& ctx = Ctx(req);
  Count(ctx.requests.getattr);
  AfterInit(ctx);
  Result<NodeAttr> a = ctx.tree->GetAttr(ino);
  if (!a.ok()) return ReplyError(req, a.status());
  struct stat st;
  FillStat(ctx, *a, &st);
  fuse_reply_attr(req, &st, ctx.options.cache_timeout);
}

void ReadDir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, bool plus) {
  FuseContext& ctx = Ctx(req);
  Count(plus ? ctx.requests.readdirplus : ctx.requests.readdir);
  AfterInit(ctx);
  std::unique_ptr<char[]> buf(new char[size]);  // filled only as far as used
  size_t used = 0;
  std::string name;
  Status st = ctx.tree->ReadDir(
      ino, static_cast<uint64_t>(offset), plus,
      [&](std::string_view entry, const NodeAttr& a, uint64_t next) {
        name.assign(entry);
        size_t need;
        if (plus && a.no_entry) {
          // Only the name and type: node id 0 tells the kernel to make no
          // entry (it looks the name up if it is ever used).
          fuse_entry_param e;
          std::memset(&e, 0, sizeof(e));
          e.attr.st_ino = a.ino;
          e.attr.st_mode = a.is_dir ? S_IFDIR : S_IFREG;
          need = fuse_add_direntry_plus(req, buf.get() + used, size - used, name.c_str(), &e,
                                        static_cast<off_t>(next));
        } else if (plus) {
          fuse_entry_param e;
          FillEntry(ctx, a, &e);
          need = fuse_add_direntry_plus(req, buf.get() + used, size - used, name.c_str(), &e,
                                        static_cast<off_t>(next));
        } else {
          struct stat stbuf;
          std::memset(&stbuf, 0, sizeof(stbuf));
          stbuf.st_ino = a.ino;
          stbuf.st_mode = a.is_dir ? S_IFDIR : S_IFREG;
          need = fuse_add_direntry(req, buf.get() + used, size - used, name.c_str(), &stbuf,
                                   static_cast<off_t>(next));
        }
        if (need > size - used) return false;
        used += need;
        return true;
      });
  if (!st.ok() && used == 0) return ReplyError(req, st);
  if (!st.ok()) LogError("%s", st.ToString().c_str());
  fuse_reply_buf(req, buf.get(), used);
}

void OpReaddir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  (void)fi;
  ReadDir(req, ino, size, off, false);
}

void OpReaddirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  (void)fi;
  ReadDir(req, ino, size, off, true);
}

// Files are always opened, whatever the `open` option says: an open file
// holds its version (Tree::OpenNode), which a replacement releases at the
// last close; in no-open mode the kernel would not say when that is. With
// keep_cache the kernel keeps its page cache across opens as in no-open mode.
//
// A file handle is the slot handle of OpenNode, with kPassthroughOpen set
// when the open went through Passthrough::Acquire.
constexpr uint64_t kPassthroughOpen = uint64_t{1} << 62;

void OpOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  FuseContext& ctx = Ctx(req);
  Count(ctx.requests.open);
  AfterInit(ctx);
  if ((fi->flags & O_ACCMODE) != O_RDONLY) return (void)fuse_reply_err(req, EROFS);
  uint64_t handle = 0;
  Result<NodeAttr> a = ctx.tree->OpenNode(ino, &handle);
  if (!a.ok()) return ReplyError(req, a.status());
  if (a->is_dir) {
    ctx.tree->ReleaseNode(handle);
    return (void)fuse_reply_err(req, EISDIR);
  }
  fi->fh = handle;
  // Live files (shared arrays) open without keep_cache, so the kernel drops
  // its cached pages and a new reader sees current data. Not direct_io: that
  // would refuse the MAP_SHARED mappings np.load(mmap_mode="r") makes.
  fi->keep_cache = a->live ? 0 : 1;
  if (a->backing_file && ctx.passthrough.enabled()) {
    fi->fh |= kPassthroughOpen;
    const int backing_id =
        ctx.passthrough.Acquire(ino, [&] { return ctx.tree->OpenBackingFile(ino); });
    // The kernel refuses a passthrough open that asks for its own cache.
    if (backing_id > 0) fi->keep_cache = 0;
    Passthrough::MarkOpenReply(backing_id);
  }
  const int rc = fuse_reply_open(req, fi);
  Passthrough::MarkOpenReply(0);
  if (rc != 0) {  // the open was interrupted
    if (fi->fh & kPassthroughOpen) ctx.passthrough.Release(ino);
    ctx.tree->ReleaseNode(handle);
  }
}

void OpOpendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  FuseContext& ctx = Ctx(req);
  Count(ctx.requests.open);
  AfterInit(ctx);
  // No-open mode: one ENOSYS and the kernel stops sending opendirs, keeping
  // its cached listings.
  if (!ctx.options.open) return (void)fuse_reply_err(req, ENOSYS);
  uint64_t handle = 0;
  Result<NodeAttr> a = ctx.tree->OpenNode(ino, &handle);
  if (!a.ok()) return ReplyError(req, a.status());
  if (!a->is_dir) {
    ctx.tree->ReleaseNode(handle);
    return (void)fuse_reply_err(req, ENOTDIR);
  }
  fi->fh = handle;
  fi->keep_cache = 1;
  fi->cache_readdir = 1;
  if (fuse_reply_open(req, fi) != 0) ctx.tree->ReleaseNode(handle);
}

void OpRelease(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  FuseContext& ctx = Ctx(req);
  Count(ctx.requests.other);
  if (fi->fh & kPassthroughOpen) ctx.passthrough.Release(ino);
  ctx.tree->ReleaseNode(fi->fh & ~kPassthroughOpen);
  fuse_reply_err(req, 0);
}

void OpRead(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  (void)fi;
  Count(Ctx(req).requests.read);
  ReadReply reply;
  Status st = Ctx(req).tree->Read(ino, static_cast<uint64_t>(off), size, &reply);
  if (!st.ok()) return ReplyError(req, st);
  if (reply.count <= 1) {
    fuse_reply_buf(req, reply.pieces[0].data(), reply.pieces[0].size());
    return;
  }
  iovec iov[2];
  for (int i = 0; i < 2; ++i) {
    iov[i].iov_base = const_cast<char*>(reply.pieces[i].data());
    iov[i].iov_len = reply.pieces[i].size();
  }
  fuse_reply_iov(req, iov, 2);
}

void OpStatfs(fuse_req_t req, fuse_ino_t) {
  Count(Ctx(req).requests.other);
  AfterInit(Ctx(req));
  struct statvfs st;
  std::memset(&st, 0, sizeof(st));
  st.f_bsize = 4096;
  st.f_frsize = 4096;
  st.f_namemax = 255;
  st.f_flag = ST_RDONLY;
  fuse_reply_statfs(req, &st);
}

// Every request that would change the tree.
void ReplyReadOnly(fuse_req_t req) {
  Count(Ctx(req).requests.other);
  fuse_reply_err(req, EROFS);
}

// Unescapes a mount point of /proc/self/mountinfo: space, tab, newline and
// backslash are written as \ooo octal there.
std::string UnescapeMountField(std::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      int v = 0;
      bool octal = true;
      for (size_t k = 1; k <= 3; ++k) {
        const char c = field[i + k];
        if (c < '0' || c > '7') octal = false;
        v = v * 8 + (c - '0');
      }
      if (octal) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

}  // namespace

Status RaiseReadAhead(const std::string& path, unsigned kb) {
  std::ifstream in(path);
  unsigned current = 0;
  if (!(in >> current)) return Status::IOError("cannot read " + path, ENOENT);
  if (current >= kb) return Status::OK();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(path);
  const std::string text = std::to_string(kb);
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    return Status::IOError(path + ": " + std::strerror(err), err);
  }
  return Status::OK();
}

Result<std::string> ReadAheadPathOf(const std::string& mountpoint) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  std::string dev;
  // Mounts stack: the last line for a mount point is the one on top.
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, major_minor, root, point;
    if (!(fields >> id >> parent >> major_minor >> root >> point)) continue;
    const size_t dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 4, "fuse") != 0) continue;
    if (UnescapeMountField(point) == mountpoint) dev = major_minor;
  }
  if (dev.empty()) return Status::NotFound("no FUSE mount at " + mountpoint);
  return "/sys/class/bdi/" + dev + "/read_ahead_kb";
}

std::string RequestCounts::ToString() const {
  const std::pair<const char*, const std::atomic<uint64_t>*> kinds[] = {
      {"lookup", &lookup}, {"getattr", &getattr}, {"readdir", &readdir},
      {"readdirplus", &readdirplus}, {"open", &open}, {"read", &read},
      {"forget", &forget}, {"other", &other}};
  std::string out;
  uint64_t total = 0;
  for (const auto& [name, counter] : kinds) {
    const uint64_t n = counter->load(std::memory_order_relaxed);
    total += n;
    out += name;
    out += ' ';
    out += std::to_string(n);
    out += ", ";
  }
  return out + "total " + std::to_string(total);
}

int ErrnoOf(const Status& st) {
  switch (st.code()) {
    case StatusCode::kOk: return 0;
    case StatusCode::kNotFound:
    case StatusCode::kOutOfRange: return ENOENT;
    case StatusCode::kCorruption: return EIO;
    case StatusCode::kIOError: return st.posix_errno() ? st.posix_errno() : EIO;
    case StatusCode::kInvalidArgument: return EINVAL;
    case StatusCode::kNotSupported: return ENOTSUP;
    default: return EIO;
  }
}

const fuse_custom_io& MapfsIo() {
  static const fuse_custom_io io = [] {
    fuse_custom_io o;
    std::memset(&o, 0, sizeof(o));
    o.read = [](int fd, void* buf, size_t len, void* userdata) -> ssize_t {
      const ssize_t n = ::read(fd, buf, len);
      if (n > 0) {
        static_cast<FuseContext*>(userdata)->passthrough.OnRequest(buf, static_cast<size_t>(n));
      }
      return n;
    };
    o.writev = [](int fd, iovec* iov, int count, void* userdata) -> ssize_t {
      static_cast<FuseContext*>(userdata)->passthrough.OnReply(iov, count);
      return ::writev(fd, iov, count);
    };
    return o;
  }();
  return io;
}

const fuse_lowlevel_ops& MapfsOps() {
  static const fuse_lowlevel_ops ops = [] {
    fuse_lowlevel_ops o;
    std::memset(&o, 0, sizeof(o));
    o.init = OpInit;
    o.lookup = OpLookup;
    o.forget = OpForget;
    o.forget_multi = OpForgetMulti;
    o.getattr = OpGetattr;
    o.readdir = OpReaddir;
    o.readdirplus = OpReaddirplus;
    o.open = OpOpen;
    o.opendir = OpOpendir;
    o.release = OpRelease;
    o.releasedir = OpRelease;
    o.read = OpRead;
    o.statfs = OpStatfs;
    // Left null, so libfuse answers ENOSYS and the kernel stops asking:
    // getxattr, listxattr, access, flush, fsync.
    o.setattr = [](fuse_req_t req, fuse_ino_t, struct stat*, int, fuse_file_info*) {
      ReplyReadOnly(req);
    };
    o.mknod = [](fuse_req_t req, fuse_ino_t, const char*, mode_t, dev_t) { ReplyReadOnly(req); };
    o.mkdir = [](fuse_req_t req, fuse_ino_t, const char*, mode_t) { ReplyReadOnly(req); };
    o.unlink = [](fuse_req_t req, fuse_ino_t, const char*) { ReplyReadOnly(req); };
    o.rmdir = [](fuse_req_t req, fuse_ino_t, const char*) { ReplyReadOnly(req); };
    o.symlink = [](fuse_req_t req, const char*, fuse_ino_t, const char*) { ReplyReadOnly(req); };
    o.rename = [](fuse_req_t req, fuse_ino_t, const char*, fuse_ino_t, const char*,
                  unsigned int) { ReplyReadOnly(req); };
    o.link = [](fuse_req_t req, fuse_ino_t, fuse_ino_t, const char*) { ReplyReadOnly(req); };
    o.write = [](fuse_req_t req, fuse_ino_t, const char*, size_t, off_t, fuse_file_info*) {
      ReplyReadOnly(req);
    };
    o.create = [](fuse_req_t req, fuse_ino_t, const char*, mode_t, fuse_file_info*) {
      ReplyReadOnly(req);
    };
    o.setxattr = [](fuse_req_t req, fuse_ino_t, const char*, const char*, size_t, int) {
      ReplyReadOnly(req);
    };
    o.removexattr = [](fuse_req_t req, fuse_ino_t, const char*) { ReplyReadOnly(req); };
    o.fallocate = [](fuse_req_t req, fuse_ino_t, int, off_t, off_t, fuse_file_info*) {
      ReplyReadOnly(req);
    };
    return o;
  }();
  return ops;
}

}  // namespace mapfs::fs
