// Tree: what a mount shows (design §4, docs/layout.md) as a model of inode
// numbers, names, attributes and contents over one or more segments — with
// no FUSE in it, so it is tested directly.
//
// SOURCE is a segment file (its collection is the root) or a directory of
// them (one subdirectory per `*.mapfs` file, named without the suffix). A
// source that fails to open still appears; everything inside it is EIO.
// SOURCE may also be a shared array (`shm://name`, `file://path`, or a path
// to a shared-array file): the root then holds one file `<name>.npy`; inside
// a directory, shared-array files appear as `<stem>.npy` files.
//
// Thread-safety: every method may be called from any number of threads. The
// segments are immutable (a shared array's data is not: it is read live, as
// other processes write it); the only shared mutable state is the InodeTable
// of deep nodes and the RenderCache, both internally locked. Memory does not
// grow with the number of records: nodes are computed from inode numbers on
// demand.
//
//   MAPFS_ASSIGN_OR_RETURN(auto tree, Tree::Open("people.mapfs"));
//   MAPFS_ASSIGN_OR_RETURN(NodeAttr rec, tree->Lookup(kRootIno, "0"));
//   MAPFS_ASSIGN_OR_RETURN(NodeAttr age, tree->Lookup(rec.ino, "age"));
#ifndef MAPFS_FS_TREE_H_
#define MAPFS_FS_TREE_H_

#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mapfs/segment.h"
#include "mapfs/status.h"
#include "node_id.h"
#include "render_cache.h"

namespace mapfs::fs {

constexpr uint64_t kRootIno = 1;

struct TreeOptions {
  // Budget of the cache of rendered @json documents.
  size_t render_cache_bytes = size_t{64} << 20;
};

struct NodeAttr {
  uint64_t ino = 0;
  bool is_dir = false;
  uint64_t size = 0;  // exact file size; 0 for directories
  timespec mtime{};   // the source file's
  // The content may change while mounted (shared arrays): readers must not
  // be served page-cache contents from before their open.
  bool live = false;
};

// The bytes of one read: up to two pieces (a .npy header, then data), each
// pointing into the segment mapping, the Tree, or the reply's own storage.
// Valid while the reply and the Tree live.
struct ReadReply {
  std::string_view pieces[2];
  int count = 0;
  std::string owned;
  std::shared_ptr<const std::string> shared;
  size_t size() const { return pieces[0].size() + (count > 1 ? pieces[1].size() : 0); }
};

class Tree {
 public:
  // One entry of a directory listing. For plain listings (`plus` false) only
  // ino and is_dir of `attr` are filled. Returns false when the caller's
  // buffer is full: the entry was not taken and listing stops.
  using DirFiller =
      std::function<bool(std::string_view name, const NodeAttr& attr, uint64_t next_offset)>;

  static Result<std::unique_ptr<Tree>> Open(const std::string& source, TreeOptions options = {});
  ~Tree();

  Result<NodeAttr> GetAttr(uint64_t ino) const;
  // The child `name` of directory `parent`. A deep child's inode number is
  // remembered until Forget (one count per successful call): use it only to
  // answer a kernel lookup.
  Result<NodeAttr> Lookup(uint64_t parent, std::string_view name);
  // Lists directory `ino` from `offset` (0 = start; each entry gives the
  // offset after it). Resuming at any offset is O(1). With `plus`, each
  // entry but "." and ".." counts as a lookup, as in readdirplus.
  Status ReadDir(uint64_t ino, uint64_t offset, bool plus, const DirFiller& fill);
  // Up to `size` bytes of file `ino` from `offset` (short at end of file).
  Status Read(uint64_t ino, uint64_t offset, size_t size, ReadReply* out);
  // The kernel dropped `n` lookups of `ino` (a no-op for compact numbers).
  void Forget(uint64_t ino, uint64_t n);

  // True if some file is live (NodeAttr::live): the mount must see opens.
  bool has_live_files() const { return live_; }
  // Number of deep nodes currently remembered (for tests and stats).
  size_t remembered_nodes() const { return table_.size(); }
  // The segment in slot `i` (null if it failed to open); 0 is the only slot
  // of a single-file source, directory sources use 1..N.
  const Segment* segment(uint32_t slot) const;

  // Defined in tree_internal.h; named here for the helpers of tree*.cc.
  struct Source;
  struct Node;

 private:
  Tree() = default;

  Result<Node> Resolve(uint64_t ino) const;
  Result<Node> ResolveId(const NodeId& id) const;
  Result<NodeAttr> AttrOf(const Node& node) const;
  Result<NodeAttr> ChildAttr(const Node& parent, const NodeId& child_id, const View* child,
                             bool count_lookup);
  uint64_t InoOf(const NodeId& id, bool count_lookup);
  Result<std::shared_ptr<const std::string>> JsonOf(const Node& node) const;
  // The file name of index entry `ordinal` of a keyed collection.
  Result<std::string> EntryName(const Source& src, uint64_t ordinal, std::string_view key) const;
  Result<std::optional<uint64_t>> FindEntry(const Source& src, std::string_view name) const;
  Status ReadDirCollection(const Node& node, uint64_t pos, bool plus, const DirFiller& fill);
  Status ReadDirValue(const Node& node, uint64_t pos, bool plus, const DirFiller& fill);
  Status Corrupt(const Source& src, const Status& st) const;
  Status CorruptNode(const Node& node, const Status& st) const;

  bool single_ = true;
  bool live_ = false;
  std::vector<std::unique_ptr<Source>> sources_;  // by slot
  timespec root_mtime_{};
  std::unique_ptr<RenderCache> cache_;
  InodeTable table_;
};

}  // namespace mapfs::fs

#endif  // MAPFS_FS_TREE_H_
