// Shared arrays as mount sources; see array_source.h.
#include "array_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstring>

#include "file_util.h"

namespace mapfs::fs {

namespace {

// The first bytes of every shared array (docs/arrays.md, "Shared array
// header"); core keeps its copy private, so the filesystem names it here.
constexpr char kArrayMagic[8] = {'M', 'A', 'P', 'F', 'S', 'A', 'R', 'R'};

// Where the object of `uri` lives in the file namespace (for its mtime).
std::string ObjectPath(const SharedArrayUri& uri) {
  return uri.scheme == SharedArrayUri::Scheme::kShm ? "/dev/shm/" + uri.target : uri.target;
}

}  // namespace

bool IsArrayUri(std::string_view source) {
  return source.starts_with("shm://") || source.starts_with("file://");
}

bool HasArrayMagic(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  // O_NONBLOCK: a file swapped for a FIFO after the stat must not hang Open.
  Result<UniqueFd> fd = UniqueFd::Open(path, O_RDONLY | O_NONBLOCK);
  if (!fd.ok()) return false;
  char magic[sizeof kArrayMagic];
  return ::pread(fd->get(), magic, sizeof magic, 0) == static_cast<ssize_t>(sizeof magic) &&
         std::memcmp(magic, kArrayMagic, sizeof magic) == 0;
}

std::string ArrayFileName(const SharedArrayUri& uri) {
  std::string_view name = uri.target;
  if (uri.scheme == SharedArrayUri::Scheme::kFile) {
    const size_t slash = name.rfind('/');
    if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
    // ".hidden" has no extension to drop; "frames.arr" is "frames".
    const size_t dot = name.rfind('.');
    if (dot != std::string_view::npos && dot > 0) name = name.substr(0, dot);
  }
  return std::string(name) + ".npy";
}

std::unique_ptr<Tree::Source> OpenArraySource(const SharedArrayUri& uri) {
  auto src = std::make_unique<Tree::Source>();
  src->is_array = true;
  src->name = ArrayFileName(uri);
  src->path = uri.canonical;
  struct stat st;
  if (::stat(ObjectPath(uri).c_str(), &st) == 0) src->mtime = st.st_mtim;
  if (src->name.size() > NAME_MAX) {
    src->status = Status::InvalidArgument(uri.canonical + ": the file name " + src->name +
                                          " is longer than 255 bytes");
    return src;
  }
  Result<SharedArray> array = SharedArray::Attach(uri.canonical, /*read_only=*/true);
  if (!array.ok()) {
    src->status = array.status();
    return src;
  }
  src->array = std::make_unique<SharedArray>(std::move(array).value());
  src->npy_header = src->array->NpyHeader();
  return src;
}

}  // namespace mapfs::fs
