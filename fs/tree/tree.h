// Tree: what a mount shows (docs/layout.md) as a model of inode
// numbers, names, attributes and contents over one or more segments — with
// no FUSE in it, so it is tested directly.
//
// A tree is made of sources (TreeSource), each a segment file (shown as a
// collection directory), a directory of them (one subdirectory per
// `*.mapfs` file, named without the suffix, and `<stem>.npy` per
// shared-array file and per dataset directory), a dataset directory (one
// collection split into shards, docs/format.md "Datasets"), or a shared
// array (`shm://name`, `file://path`, or a path to a shared-array file),
// shown as one `.npy` file. Tree::Open(SOURCE)
// is the `mapfs mount SOURCE` form: a segment file or a dataset is the mount
// root itself, a directory's contents are the root. Tree::Open(sources) is the mounts.yaml
// form: the root holds one entry per named source.
//
// Versions: segments are immutable, but a source file may be replaced (a
// rebuild renamed over it). Refresh() opens the new file and, if it
// validates, serves it under new inode numbers. The old version keeps
// answering for files and directories open on it (OpenNode) and is released
// (unmapped) at the last ReleaseNode, or if none is open after a short
// grace (TreeOptions::release_grace, ReleaseRetired), whatever the kernel
// still caches; its other inode numbers then answer ESTALE, and the kernel
// walks the path again. Inode numbers carry the version's slot,
// so no cached page or attribute of one version is ever taken for the
// other's (version_slots.h).
//
// Thread-safety: every method may be called from any number of threads. A
// shared array's data is read live, as other processes write it; the other
// shared mutable state (slots, directory members, the InodeTable of deep
// nodes and the RenderCache) is internally locked. Memory does not grow with
// the number of records: nodes are computed from inode numbers on demand.
//
//   MAPFS_ASSIGN_OR_RETURN(auto tree, Tree::Open("people.mapfs"));
//   MAPFS_ASSIGN_OR_RETURN(NodeAttr rec, tree->Lookup(kRootIno, "0"));
//   MAPFS_ASSIGN_OR_RETURN(NodeAttr age, tree->Lookup(rec.ino, "age"));
#ifndef MAPFS_FS_TREE_H_
#define MAPFS_FS_TREE_H_

#include <chrono>
#include <ctime>
#include <functional>
#include <atomic>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "file_util.h"
#include "mapfs/segment.h"
#include "mapfs/status.h"
#include "node_id.h"
#include "refused_files.h"
#include "render_cache.h"
#include "source_version.h"
#include "version_slots.h"

namespace mapfs::fs {

constexpr uint64_t kRootIno = 1;

struct TreeOptions {
  // Budget of the cache of rendered @json documents.
  size_t render_cache_bytes = size_t{64} << 20;
  // How long a replaced version that no open file holds stays mapped, for
  // what the kernel cached just before the replacement (version_slots.h).
  // Default: kInvalidatedGrace, as its entries are invalidated (only path
  // walks in flight remain); kSingleFileGrace for a single-file mount whose
  // root's entries are volatile (an approximate multimap: the kernel may use
  // them for kVolatileEntrySeconds without asking).
  std::optional<std::chrono::milliseconds> release_grace;
};

constexpr std::chrono::milliseconds kSingleFileGrace{1250};
constexpr std::chrono::milliseconds kInvalidatedGrace{250};

// One named source of a multi-source tree (a mounts.yaml `sources` entry).
struct TreeSource {
  std::string name;  // the entry in the mount root (arrays get ".npy" appended)
  std::string path;  // a segment file, a directory of them, or an array URI
  std::string where; // prefix for errors about this source ("FILE:LINE:COL"), may be empty
};

// What the kernel must drop after a Refresh: the directory entry `name` of
// directory `parent` (its old inode and everything below it), and the
// parent's own attributes and cached listing.
struct Invalidation {
  uint64_t parent = 0;
  std::string name;
  // Enough to mark the entry expired (the kernel looks the name up at its
  // next use, finding the new node) rather than to drop it and everything
  // cached below it at once, which costs far more per name: for the many
  // names of a single-file mount's root.
  bool expire = false;
};

// Why Refresh looks at a name. kCreated: the name was just created (a
// link, a symlink, or a file that may still be written); a new regular file
// that does not open yet is left, unlogged, for the event of its last close.
enum class RefreshCause { kChanged, kCreated };

struct NodeAttr {
  uint64_t ino = 0;
  bool is_dir = false;
  uint64_t size = 0;  // exact file size; 0 for directories
  timespec mtime{};   // the source file's
  // The content may change while mounted (shared arrays): readers must not
  // be served page-cache contents from before their open.
  bool live = false;
  // The name may soon stand for another node without the kernel being told:
  // a child of the root of a single-file mount that its version cannot
  // invalidate by name at a replacement (RootNames: an approximate
  // multimap's, or one looked up as its version was replaced).
  // Such entries (and the root's misses) are cached for at most
  // kVolatileEntrySeconds.
  bool volatile_entry = false;
  // A listing entry given by name and type only (its ino and is_dir): a
  // readdirplus hands the kernel no entry for it, so it counts no lookup.
  // Set for files whose size costs a rendering (@json), found by a lookup
  // when they are used.
  bool no_entry = false;
  // The bytes are a source file's as they are (@segment): OpenBackingFile
  // gives that file, for the kernel to read directly.
  bool backing_file = false;
};

constexpr double kVolatileEntrySeconds = 1.0;

// The bytes of one read: up to two pieces (a .npy header, then data), each
// pointing into the segment mapping, the Tree, or the reply's own storage.
// Valid while the reply and the Tree live.
struct ReadReply {
  std::string_view pieces[2];
  int count = 0;
  std::string owned;
  std::shared_ptr<const std::string> shared;
  // The version the pieces point into, held until the reply is sent.
  std::shared_ptr<const void> hold;
  size_t size() const { return pieces[0].size() + (count > 1 ? pieces[1].size() : 0); }
};

class Tree {
 public:
  // One entry of a directory listing. For plain listings (`plus` false) only
  // ino and is_dir of `attr` are filled. Returns false when the caller's
  // buffer is full: the entry was not taken and listing stops.
  using DirFiller =
      std::function<bool(std::string_view name, const NodeAttr& attr, uint64_t next_offset)>;

  // The `mapfs mount SOURCE` form. Fails if SOURCE is missing, or is a
  // single segment or array that does not open; a directory's members that
  // fail to open still appear, with everything inside them EIO.
  static Result<std::unique_ptr<Tree>> Open(const std::string& source, TreeOptions options = {});
  // The mounts.yaml form: the root lists `sources` in order. Every source
  // must open (directory members may fail as above); the error names the
  // source's `where`.
  static Result<std::unique_ptr<Tree>> Open(const std::vector<TreeSource>& sources,
                                            TreeOptions options = {});
  ~Tree();

  // Directories whose changes Refresh must hear of: those holding a source
  // file, and directory sources.
  std::vector<std::string> WatchedDirectories() const;
  // Every source file and directory member the tree shows (not shared
  // arrays in shared memory), for a periodic check.
  std::vector<std::string> SourceFiles() const;
  // Re-examines what `dir`/`name` (a file created, replaced, or removed)
  // means for the tree: a replaced source or member that validates is served
  // from now on, a new `*.mapfs` file in a directory source appears, a
  // removed one disappears. A replacement that fails to open or to verify its
  // checksums is refused (logged once: the same file, unchanged, is not
  // verified again) and the old version keeps serving. Returns what the
  // kernel must forget; empty when nothing changed. For a single-file mount
  // that is every child of the root the kernel was handed from the old
  // version, named as that version named it (to expire); the old version is
  // then held (whatever its open files) until Invalidated.
  std::vector<Invalidation> Refresh(const std::string& dir, const std::string& name,
                                    RefreshCause cause = RefreshCause::kChanged);
  // The kernel was told what Refresh returned: the versions it replaced
  // start their release grace (TreeOptions::release_grace).
  void Invalidated() { slots_.StartGraces(); }
  // Number of files whose checksums were verified before being served (for
  // tests and stats).
  uint64_t verified_files() const { return verified_; }
  // Releases the replaced versions whose grace is over and that no open
  // file holds (TreeOptions::release_grace); called about once a second.
  // Returns how many replaced versions are still held.
  size_t ReleaseRetired() { return slots_.Sweep(); }
  // Number of source versions held, current and retired (for tests).
  size_t open_versions() const;
  // Number of slot numbers in use: versions held, and released versions
  // whose inode numbers the kernel may still name (for tests).
  size_t reserved_slots() const { return slots_.reserved_slots(); }

  Result<NodeAttr> GetAttr(uint64_t ino) const;
  // The child `name` of directory `parent`. A deep child's inode number is
  // remembered until Forget (one count per successful call): use it only to
  // answer a kernel lookup.
  Result<NodeAttr> Lookup(uint64_t parent, std::string_view name);
  // Lists directory `ino` from `offset` (0 = start; each entry gives the
  // offset after it). Resuming at any offset is O(1). With `plus`, each
  // entry but "." and ".." and those marked no_entry counts as a lookup, as
  // in readdirplus.
  Status ReadDir(uint64_t ino, uint64_t offset, bool plus, const DirFiller& fill);
  // Up to `size` bytes of file `ino` from `offset` (short at end of file).
  Status Read(uint64_t ino, uint64_t offset, size_t size, ReadReply* out);
  // The kernel dropped `n` lookups of `ino`. Frees the slot number of a
  // replaced version once the kernel holds none of its inode numbers.
  void Forget(uint64_t ino, uint64_t n);
  // An open of `ino` (a file or directory): its attributes, and in *handle
  // what to give ReleaseNode. Until then the version of `ino` stays mapped
  // and `ino` keeps reading it, even once replaced.
  Result<NodeAttr> OpenNode(uint64_t ino, uint64_t* handle);
  void ReleaseNode(uint64_t handle);
  // The source file whose bytes file `ino` shows as they are (a segment's
  // @segment), opened read-only and checked to be the very file `ino`'s
  // version was opened from (same device, inode, size and mtime), so the
  // kernel may read it directly (FUSE passthrough). NotSupported for every
  // other node; NotFound once the path names another file (a replacement).
  Result<UniqueFd> OpenBackingFile(uint64_t ino);

  // True if some file is live (NodeAttr::live): the mount must see opens.
  bool has_live_files() const { return live_; }
  // True if misses in directory `dir_ino` may stop being misses after a
  // Refresh without an Invalidation naming them: the root of a single-file
  // mount, whose misses are cached for at most kVolatileEntrySeconds.
  bool VolatileChildren(uint64_t dir_ino) const { return single_ && dir_ino == kRootIno; }
  // Number of deep nodes currently remembered (for tests and stats).
  size_t remembered_nodes() const { return table_.size(); }
  // The current segment of the source or member called `name` (a path of
  // names from the root: "" for a single-file mount's root, "people", or
  // "archive/2024"); null if there is none or it failed to open. Shared so
  // that a replacement does not unmap it under the caller.
  std::shared_ptr<const Segment> segment(std::string_view path) const;

  // Source versions and directory entries (source_version.h); the node
  // kind is defined in tree_internal.h, for the helpers of tree*.cc.
  using Source = SourceVersion;
  using Entry = DirEntry;
  struct Node;

 private:
  Tree();

  // Sources and versions (tree_sources.cc).
  Status AddSource(const TreeSource& spec);
  Status AddEntry(uint32_t dir_slot, std::shared_ptr<const Source> src, const std::string& path,
                  const std::string& where);
  Status ScanDirectory(uint32_t dir_slot, const std::string& dir);
  std::shared_ptr<const Source> OpenMember(const std::string& dir, const std::string& file) const;
  // A free slot now holding `src` (which may make the tree live); 0 if
  // every slot is taken.
  uint32_t Install(std::shared_ptr<const Source> src);
  uint64_t DirIno(uint32_t dir_slot) const;
  // Adds to `out` the files of the collection `shown` was showing (version
  // `old`), so that the kernel drops them at their last close.
  void ForgetCollectionFiles(const Entry& shown, const Source* old,
                             std::vector<Invalidation>* out) const;
  // The steps of Refresh: where a changed path shows in the tree, removing
  // a member whose file is gone, opening the new version of a path, and
  // serving it in place of the old one (or as a new member).
  struct Candidate;
  std::vector<Candidate> CandidatesFor(const std::string& dir, const std::string& path) const;
  void RemoveMember(const Candidate& c, const std::string& path, const Source* old,
                    std::vector<Invalidation>* out);
  std::shared_ptr<const Source> OpenReplacement(const Candidate& c, const std::string& dir,
                                                const std::string& name, const Source* old) const;
  void ServeReplacement(const Candidate& c, const std::string& path,
                        std::shared_ptr<const Source> fresh, const Source* old,
                        std::vector<Invalidation>* out);
  // Calls visit(slot, const Slot&) for the mount root and each directory
  // source; the caller holds slots_.mutex().
  template <typename F>
  void ForEachDirectoryLocked(F&& visit) const;

  Result<Node> Resolve(uint64_t ino) const;
  Result<Node> ResolveId(const NodeId& id) const;
  // The steps of ResolveId. PinVersion holds the version `n->id.slot`
  // names (the current one for a single-file mount's root); the others fill
  // in a node of a directory source, a shared array or a collection's own
  // files; the record an entry or record id names (nullopt when `n` is
  // complete without one: a multimap key directory or its @json); and the
  // value the steps lead to inside that record.
  Status PinVersion(Node* n) const;
  Status ResolveSourceFile(Node* n) const;
  Result<std::optional<std::string_view>> ResolveRecord(Node* n) const;
  // A key directory (depth 0) or its @json (depth 1) once n->ids is set.
  Result<std::optional<std::string_view>> ResolveKeyDir(Node* n) const;
  Result<std::optional<std::string_view>> ResolveApproxKey(Node* n) const;
  Status ResolveValue(Node* n, std::string_view record) const;
  // Nothing below a record (listing, field files, @json) is served before
  // the record passed the record verifier once in its version: a record
  // that is not a tree (refs forming cycles) answers EIO instead of an
  // endless tree. `record` is the view of `n`'s record.
  Status CheckRecord(const Node& n, const View& record) const;
  Result<NodeAttr> AttrOf(const Node& node) const;
  Result<NodeAttr> ChildAttr(const Node& parent, const NodeId& child_id, const View* child,
                             bool count_lookup);
  // The attributes of record `child_id` (a lookup) whose bytes are `record`.
  Result<NodeAttr> RecordAttr(const Node& parent, const NodeId& child_id,
                              std::string_view record);
  uint64_t InoOf(const NodeId& id, bool count_lookup);
  // Lookup in the mount root or a directory source, and in a collection.
  Result<NodeAttr> LookupEntry(const Node& parent, std::string_view name);
  Result<NodeAttr> LookupInCollection(const Node& parent, std::string_view name);
  // A child of a single-file mount's root handed to the kernel (a lookup, a
  // readdirplus entry): noted in its version's RootNames, or made a
  // volatile entry when it cannot be (tree_root_names.cc).
  void NoteRootEntry(NodeAttr* a) const;
  // At a replacement of a single-file mount's version `old` (retired
  // already): the root's children the kernel was handed from it, by the
  // names `old` gives them.
  void ForgetRootNames(const Source& old, std::vector<Invalidation>* out) const;
  Result<std::shared_ptr<const std::string>> JsonOf(const Node& node) const;
  // The file name of index entry `ordinal` of a keyed collection.
  Result<std::string> EntryName(const Source& src, uint64_t ordinal, std::string_view key) const;
  // The index entry named `name`, read once (the lookup uses its record).
  Result<std::optional<Segment::Entry>> FindEntry(const Source& src,
                                                  std::string_view name) const;
  // Approximate multimaps: the first record of the key called `name`.
  Result<std::optional<uint64_t>> FindApproxKey(const Source& src, std::string_view name) const;
  Status ReadDirEntries(const Node& node, uint64_t pos, bool plus, const DirFiller& fill);
  Status ReadDirCollection(const Node& node, uint64_t pos, bool plus, const DirFiller& fill);
  Status ReadDirValue(const Node& node, uint64_t pos, bool plus, const DirFiller& fill);
  // Datasets (tree_dataset.cc): the files of a dataset's slot, lookups and
  // listings of its collection (routed to its shards) and of @shards, and
  // the slot of its shard `i` (0 if none).
  Status ResolveDatasetFile(Node* n) const;
  Result<NodeAttr> LookupInDataset(const Node& parent, std::string_view name);
  Result<NodeAttr> LookupShard(const Node& parent, std::string_view name);
  Status ReadDirDataset(const Node& node, uint64_t pos, bool plus, const DirFiller& fill);
  Status ReadDirShards(const Node& node, uint64_t pos, bool plus, const DirFiller& fill);
  uint32_t ShardSlot(uint32_t dataset_slot, size_t i) const;
  std::vector<uint32_t> ShardSlots(uint32_t dataset_slot) const;
  Status Corrupt(const Source& src, const Status& st) const;
  Status Damaged(const Source& src) const;
  Status CorruptNode(const Node& node, const Status& st) const;

  bool single_ = true;  // the root is the collection of the one entry of slot 0
  std::optional<std::chrono::milliseconds> release_grace_;  // TreeOptions'
  std::atomic<bool> live_{false};
  timespec root_mtime_{};
  std::unique_ptr<RenderCache> cache_;
  InodeTable table_;
  // The versions served and every directory's entries; 0 is the mount root.
  VersionSlots slots_;
  bool opened_ = false;             // Open is done: new files are replacements
  RefusedFiles refused_;            // replacements refused, not to verify again
  mutable std::atomic<uint64_t> verified_{0};  // files verified (verified_files)
};

}  // namespace mapfs::fs

#endif  // MAPFS_FS_TREE_H_
