// Tree: opening sources, the slots that hold their versions, and replacing
// a version when its file is rebuilt (see "Versions" in tree.h).
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <mutex>
#include <set>

#include "array_source.h"
#include "content.h"
#include "log.h"
#include "tree.h"
#include "tree_internal.h"

namespace mapfs::fs {

namespace {

constexpr std::string_view kSuffix = ".mapfs";

std::atomic<uint64_t> g_next_generation{1};

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  return dir.ends_with('/') ? dir + name : dir + "/" + name;
}

// Opens one version of a segment file. With `verified` (a counter of the
// files verified), the section checksums are checked too: a replacement is
// read whole before it is served.
std::shared_ptr<Tree::Source> OpenSegmentSource(std::string name, std::string path,
                                                std::atomic<uint64_t>* verified) {
  const bool verify = verified != nullptr;
  auto src = std::make_shared<Tree::Source>();
  src->name = std::move(name);
  src->path = std::move(path);
  src->generation = g_next_generation++;
  struct stat st;
  if (::stat(src->path.c_str(), &st) == 0) {
    src->mtime = st.st_mtim;
    src->stamp = StampOf(st);
  }
  Result<Segment> seg = Segment::Open(src->path);
  if (verify && seg.ok()) ++*verified;
  Status st_open = seg.ok() && verify ? seg->VerifyChecksums() : seg.status();
  if (!st_open.ok()) {
    src->status = st_open;
    return src;
  }
  src->seg = std::make_shared<const Segment>(std::move(seg).value());
  src->checked = std::make_unique<RecordChecks>(src->seg->record_count());
  src->schema_yaml = src->seg->schema().ToYaml();
  src->info_json = InfoJson(*src->seg);
  return src;
}

// Opens one version of the dataset in directory `path` (its manifest and
// every shard, checked against each other: Dataset::Open). With `verified`,
// every shard's section checksums are checked too, as for a replaced file.
// A dataset that fails in any shard is not served at all: the error names
// the shard.
std::shared_ptr<Tree::Source> OpenDatasetSource(std::string name, std::string path,
                                                std::atomic<uint64_t>* verified) {
  auto src = std::make_shared<Tree::Source>();
  src->name = std::move(name);
  src->path = std::move(path);
  src->is_dataset = true;
  src->generation = g_next_generation++;
  const std::string manifest_path = JoinPath(src->path, std::string(kManifestName));
  struct stat st;
  if (::stat(manifest_path.c_str(), &st) == 0) {
    src->mtime = st.st_mtim;
    src->stamp = StampOf(st);
  }
  Result<Dataset> opened = Dataset::Open(src->path);
  if (!opened.ok()) {
    src->status = opened.status();
    return src;
  }
  auto ds = std::make_shared<const Dataset>(std::move(opened).value());
  for (size_t i = 0; verified != nullptr && i < ds->shard_count(); ++i) {
    ++*verified;
    Status checked = ds->shard(i).VerifyChecksums();
    if (!checked.ok()) {
      src->status = checked;
      return src;
    }
  }
  src->manifest = ds->manifest().Serialize();
  src->schema_yaml = ds->schema().ToYaml();
  src->info_json = DatasetInfoJson(*ds, src->manifest);
  uint64_t keys = 0;
  for (size_t i = 0; i < ds->shard_count(); ++i) {
    src->first_key.push_back(keys);
    keys += ds->shard(i).key_count();
    auto shard = std::make_shared<Tree::Source>();
    shard->name = std::to_string(i);
    shard->path = JoinPath(src->path, ds->manifest().shards[i].file);
    shard->is_shard = true;
    shard->shard_index = static_cast<uint32_t>(i);
    shard->generation = g_next_generation++;
    shard->mtime = src->mtime;
    if (::stat(shard->path.c_str(), &st) == 0) shard->stamp = StampOf(st);
    // The segment lives as long as the dataset it belongs to.
    shard->seg = std::shared_ptr<const Segment>(ds, &ds->shard(i));
    shard->checked = std::make_unique<RecordChecks>(shard->seg->record_count());
    shard->schema_yaml = shard->seg->schema().ToYaml();
    shard->info_json = InfoJson(*shard->seg);
    src->shards.push_back(std::move(shard));
  }
  src->dataset = std::move(ds);
  return src;
}

// stat() of what stands for a source at `path`: a dataset directory's
// manifest, since publishing a version renames only that.
int StatSource(const std::string& path, struct stat* st) {
  if (::stat(path.c_str(), st) != 0) return -1;
  if (!S_ISDIR(st->st_mode)) return 0;
  return ::stat(JoinPath(path, std::string(kManifestName)).c_str(), st);
}

std::shared_ptr<Tree::Source> OpenArray(const SharedArrayUri& uri) {
  std::shared_ptr<Tree::Source> src = OpenArraySource(uri);
  src->generation = g_next_generation++;
  struct stat st;
  if (uri.scheme == SharedArrayUri::Scheme::kFile && ::stat(uri.target.c_str(), &st) == 0) {
    src->stamp = StampOf(st);
  }
  return src;
}

Status WithWhere(const std::string& where, const Status& st) {
  return where.empty() ? st : st.WithContext(where);
}

// A regular file with one name: just created by open(O_CREAT) and perhaps
// still being written (a link or a symlink names a file already written).
bool MayStillBeWritten(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1;
}

}  // namespace

Tree::Tree() = default;
Tree::~Tree() = default;

std::shared_ptr<const Tree::Source> Tree::OpenMember(const std::string& dir,
                                                     const std::string& file) const {
  // Hidden files are left out: editors and copy tools write them.
  if (file.empty() || file[0] == '.') return nullptr;
  const std::string path = JoinPath(dir, file);
  if (IsDatasetDir(path)) return OpenDatasetSource(file, path, opened_ ? &verified_ : nullptr);
  if (file.size() > kSuffix.size() && file.ends_with(kSuffix)) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return nullptr;
    return OpenSegmentSource(file.substr(0, file.size() - kSuffix.size()), path,
                             opened_ ? &verified_ : nullptr);
  }
  if (HasArrayMagic(path)) {
    Result<SharedArrayUri> uri = SharedArrayUri::Parse("file://" + path);
    if (uri.ok()) return OpenArray(*uri);
  }
  return nullptr;
}

uint32_t Tree::Install(std::shared_ptr<const Source> src) {
  const bool array = src->is_array;
  const std::vector<std::shared_ptr<const Source>> shards = src->shards;
  const uint32_t slot = slots_.Install(std::move(src));
  if (slot != 0 && array) live_ = true;
  if (slot == 0 || shards.empty()) return slot;
  // A dataset: each shard a slot of its own, owned by the dataset's (its
  // records' inode numbers carry the shard's slot), listed as its entries.
  std::vector<Entry> entries;
  for (const std::shared_ptr<const Source>& shard : shards) {
    const uint32_t s = slots_.Install(shard, slot);
    if (s == 0) {
      std::unique_lock lock(slots_.mutex());
      slots_.RetireLocked(slot);  // frees the shards installed so far
      return 0;
    }
    entries.push_back(Entry{shard->name, shard->path, "", s});
  }
  std::unique_lock lock(slots_.mutex());
  slots_[slot].entries = std::move(entries);
  return slot;
}

uint64_t Tree::DirIno(uint32_t dir_slot) const {
  if (dir_slot == 0) return kRootIno;
  NodeId id;
  id.slot = dir_slot;
  return EncodeCompact(id);
}

void Tree::Forget(uint64_t ino, uint64_t n) {
  std::optional<NodeId> id = IsCompactIno(ino) ? DecodeCompact(ino) : table_.Find(ino);
  if (!IsCompactIno(ino)) table_.Forget(ino, n);
  if (id) slots_.Count(id->slot, -static_cast<int64_t>(n));
}

size_t Tree::open_versions() const { return slots_.open_versions(); }

Status Tree::AddEntry(uint32_t dir_slot, std::shared_ptr<const Source> src,
                      const std::string& path, const std::string& where) {
  const std::string name = src->name;
  const uint32_t slot = Install(std::move(src));
  if (slot == 0) {
    return Status::InvalidArgument(path + ": more than " + std::to_string(kMaxSlots - 1) +
                                   " segments and arrays in one mount");
  }
  std::unique_lock lock(slots_.mutex());
  slots_[dir_slot].entries.push_back(Entry{name, path, where, slot});
  return Status::OK();
}

Status Tree::ScanDirectory(uint32_t dir_slot, const std::string& dir) {
  std::vector<std::string> names;
  {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return Status::FromErrno(dir);
    while (dirent* e = ::readdir(d)) names.emplace_back(e->d_name);
    ::closedir(d);
  }
  std::sort(names.begin(), names.end());
  std::set<std::string, std::less<>> shown;
  for (const std::string& file : names) {
    std::shared_ptr<const Source> src = OpenMember(dir, file);
    // One node per name: a later file whose name is taken ("x.mapfs" and an
    // array "x.npy.mapfs", two arrays "x.a" and "x.b") is left out.
    if (!src || !shown.insert(src->name).second) continue;
    MAPFS_RETURN_IF_ERROR(AddEntry(dir_slot, std::move(src), JoinPath(dir, file), ""));
  }
  std::unique_lock lock(slots_.mutex());
  slots_[dir_slot].dir_path = dir;
  return Status::OK();
}

Result<std::unique_ptr<Tree>> Tree::Open(const std::string& source_arg, TreeOptions options) {
  // Absolute, so the directory watched for replacements and the paths
  // compared stay right after the daemon changes directory to /.
  std::string source = source_arg;
  if (!IsArrayUri(source) && !source.starts_with('/')) {
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof cwd) != nullptr) source = JoinPath(cwd, source);
  }
  std::unique_ptr<Tree> tree(new Tree());
  tree->cache_ = std::make_unique<RenderCache>(options.render_cache_bytes);
  std::optional<std::string> array_uri;
  std::chrono::milliseconds single_grace = kInvalidatedGrace;
  struct stat st;
  if (IsArrayUri(source)) {
    array_uri = source;
  } else {
    if (::stat(source.c_str(), &st) != 0) return Status::FromErrno(source);
    if (!S_ISDIR(st.st_mode) && HasArrayMagic(source)) array_uri = "file://" + source;
  }
  if (array_uri) {
    // One array is a mount root holding one file.
    MAPFS_ASSIGN_OR_RETURN(SharedArrayUri uri, SharedArrayUri::Parse(*array_uri));
    tree->single_ = false;
    std::shared_ptr<const Source> src = OpenArray(uri);
    if (!src->status.ok()) return src->status;  // the whole mount: refuse it now
    tree->root_mtime_ = src->mtime;
    MAPFS_RETURN_IF_ERROR(tree->AddEntry(0, std::move(src), uri.canonical, ""));
  } else if (!S_ISDIR(st.st_mode) || IsDatasetDir(source)) {
    tree->single_ = true;
    tree->root_mtime_ = st.st_mtim;
    std::shared_ptr<Source> src = S_ISDIR(st.st_mode) ? OpenDatasetSource("", source, nullptr)
                                                      : OpenSegmentSource("", source, nullptr);
    // A single file is the whole mount: refuse it now rather than serve EIO.
    if (!src->status.ok()) return src->status;
    src->root_names = RootNamesFor(*src);
    // Its root's entries are volatile if they cannot be invalidated by name.
    single_grace = src->root_names ? kInvalidatedGrace : kSingleFileGrace;
    MAPFS_RETURN_IF_ERROR(tree->AddEntry(0, std::move(src), source, ""));
  } else {
    tree->single_ = false;
    tree->root_mtime_ = st.st_mtim;
    MAPFS_RETURN_IF_ERROR(tree->ScanDirectory(0, source));
  }
  tree->release_grace_ = options.release_grace;
  tree->slots_.set_release_grace(options.release_grace.value_or(single_grace));
  tree->opened_ = true;
  return tree;
}

Result<std::unique_ptr<Tree>> Tree::Open(const std::vector<TreeSource>& sources,
                                         TreeOptions options) {
  std::unique_ptr<Tree> tree(new Tree());
  tree->cache_ = std::make_unique<RenderCache>(options.render_cache_bytes);
  tree->single_ = false;
  ::clock_gettime(CLOCK_REALTIME, &tree->root_mtime_);
  for (const TreeSource& spec : sources) {
    MAPFS_RETURN_IF_ERROR(tree->AddSource(spec));
  }
  tree->release_grace_ = options.release_grace;
  tree->slots_.set_release_grace(options.release_grace.value_or(kInvalidatedGrace));
  tree->opened_ = true;
  return tree;
}

Status Tree::AddSource(const TreeSource& spec) {
  auto fail = [&](const Status& st) { return WithWhere(spec.where, st); };
  std::optional<std::string> array_uri;
  struct stat st;
  if (IsArrayUri(spec.path)) {
    array_uri = spec.path;
  } else {
    if (::stat(spec.path.c_str(), &st) != 0) return fail(Status::FromErrno(spec.path));
    if (!S_ISDIR(st.st_mode) && HasArrayMagic(spec.path)) array_uri = "file://" + spec.path;
  }
  if (array_uri) {
    Result<SharedArrayUri> uri = SharedArrayUri::Parse(*array_uri);
    if (!uri.ok()) return fail(uri.status());
    std::shared_ptr<Source> src = OpenArray(*uri);
    if (!src->status.ok()) return fail(src->status);
    src->name = spec.name.ends_with(".npy") ? spec.name : spec.name + ".npy";
    return AddEntry(0, std::move(src), uri->canonical, spec.where);
  }
  if (S_ISDIR(st.st_mode) && IsDatasetDir(spec.path)) {
    std::shared_ptr<const Source> src = OpenDatasetSource(spec.name, spec.path, nullptr);
    if (!src->status.ok()) return fail(src->status);
    return AddEntry(0, std::move(src), spec.path, spec.where);
  }
  if (S_ISDIR(st.st_mode)) {
    auto dir = std::make_shared<Source>();
    dir->name = spec.name;
    dir->path = spec.path;
    dir->is_directory = true;
    dir->mtime = st.st_mtim;
    dir->stamp = StampOf(st);
    dir->generation = g_next_generation++;
    const uint32_t slot = Install(dir);
    if (slot == 0) return fail(Status::InvalidArgument("too many sources in one mount"));
    {
      std::unique_lock lock(slots_.mutex());
      slots_[0].entries.push_back(Entry{spec.name, spec.path, spec.where, slot});
    }
    return fail(ScanDirectory(slot, spec.path));
  }
  std::shared_ptr<const Source> src = OpenSegmentSource(spec.name, spec.path, nullptr);
  if (!src->status.ok()) return fail(src->status);
  return AddEntry(0, std::move(src), spec.path, spec.where);
}

std::shared_ptr<const Segment> Tree::segment(std::string_view path) const {
  // Shares ownership of the whole version, so the mapping outlives a replacement.
  auto segment_of = [](const std::shared_ptr<const Source>& src) {
    return src && src->seg ? std::shared_ptr<const Segment>(src, src->seg.get()) : nullptr;
  };
  std::shared_lock lock(slots_.mutex());
  uint32_t dir = 0;
  if (single_) return path.empty() ? segment_of(slots_[slots_[0].entries[0].slot].src) : nullptr;
  while (true) {
    const size_t slash = path.find('/');
    const std::string_view name = path.substr(0, slash);
    uint32_t found = 0;
    for (const Entry& e : slots_[dir].entries) {
      if (e.name == name) found = e.slot;
    }
    if (found == 0) return nullptr;
    if (slash == std::string_view::npos) return segment_of(slots_[found].src);
    dir = found;
    path.remove_prefix(slash + 1);
  }
}

template <typename F>
void Tree::ForEachDirectoryLocked(F&& visit) const {
  for (uint32_t i = 0; i < slots_.capacity(); ++i) {
    const VersionSlots::Slot& s = slots_[i];
    if (i == 0 || (s.src && s.src->is_directory)) visit(i, s);
  }
}

std::vector<std::string> Tree::WatchedDirectories() const {
  std::shared_lock lock(slots_.mutex());
  std::set<std::string> dirs;
  ForEachDirectoryLocked([&](uint32_t, const VersionSlots::Slot& s) {
    if (!s.dir_path.empty()) dirs.insert(s.dir_path);
    for (const Entry& e : s.entries) {
      const Source* src = slots_[e.slot].src.get();
      // Shared arrays are live already; shm objects have no file to watch.
      if (src != nullptr && !src->is_directory && !src->is_array) dirs.insert(DirName(e.path));
      // A dataset publishes a version by renaming its manifest.
      if (src != nullptr && src->is_dataset) dirs.insert(e.path);
    }
  });
  return {dirs.begin(), dirs.end()};
}

std::vector<std::string> Tree::SourceFiles() const {
  std::shared_lock lock(slots_.mutex());
  std::vector<std::string> files;
  ForEachDirectoryLocked([&](uint32_t, const VersionSlots::Slot& s) {
    for (const Entry& e : s.entries) {
      const Source* src = slots_[e.slot].src.get();
      if (src != nullptr && src->is_dataset) {
        files.push_back(JoinPath(e.path, std::string(kManifestName)));
      } else if (src != nullptr && !src->is_directory && !IsArrayUri(e.path)) {
        files.push_back(e.path);
      }
    }
  });
  return files;
}

void Tree::ForgetCollectionFiles(const Entry& shown, const Source* old,
                                 std::vector<Invalidation>* out) const {
  const uint64_t dir = single_ ? kRootIno : DirIno(shown.slot);
  if (old != nullptr && old->dataset) {
    // The same for a dataset's own files and each shard's (@shards/<i>/).
    for (std::string_view file : {"@info", "@schema", "@dataset"}) {
      out->push_back({dir, std::string(file)});
    }
    for (uint32_t shard : ShardSlots(shown.slot)) {
      for (std::string_view file : kCollectionFiles) {
        out->push_back({DirIno(shard), std::string(file)});
      }
    }
    return;
  }
  if (old == nullptr || !old->seg) return;
  // Invalidating the collection's own entry drops what the kernel caches
  // below it, except what is in use: a file open or mapped across the
  // replacement (a native client's @segment) keeps its entry, and once closed
  // that entry would stay cached for cache_timeout, and the old mapping with
  // it. Named here, such entries go with their last close instead.
  for (std::string_view file : kCollectionFiles) out->push_back({dir, std::string(file)});
}

// What a changed path is in the tree: an entry showing it (in directory
// `dir_slot`), or a new member of a directory source.
struct Tree::Candidate {
  uint32_t dir_slot;
  bool member;  // of a directory source (may appear or disappear)
  std::optional<Entry> entry;
};

std::vector<Tree::Candidate> Tree::CandidatesFor(const std::string& dir,
                                                 const std::string& path) const {
  std::vector<Candidate> found;
  std::shared_lock lock(slots_.mutex());
  ForEachDirectoryLocked([&](uint32_t i, const VersionSlots::Slot& s) {
    const bool member = !s.dir_path.empty() && s.dir_path == dir;
    bool shown = false;
    for (const Entry& e : s.entries) {
      const Source* src = slots_[e.slot].src.get();
      // A dataset's manifest stands for the dataset; in a directory source
      // it is a member (removing its manifest removes it).
      if (src != nullptr && src->is_dataset && e.path != path &&
          JoinPath(e.path, std::string(kManifestName)) == path) {
        found.push_back({i, !s.dir_path.empty(), e});
        continue;
      }
      if (e.path != path) continue;
      shown = true;
      if (src != nullptr && !src->is_directory) found.push_back({i, member, e});
    }
    if (member && !shown) found.push_back({i, true, std::nullopt});
  });
  return found;
}

void Tree::RemoveMember(const Candidate& c, const std::string& path, const Source* old,
                        std::vector<Invalidation>* out) {
  {
    std::unique_lock lock(slots_.mutex());
    std::vector<Entry>& entries = slots_[c.dir_slot].entries;
    std::erase_if(entries, [&](const Entry& e) { return e.slot == c.entry->slot; });
    slots_.RetireLocked(c.entry->slot);
  }
  LogInfo("%s: removed from the mount", path.c_str());
  ForgetCollectionFiles(*c.entry, old, out);
  out->push_back({DirIno(c.dir_slot), c.entry->name});
}

std::shared_ptr<const Tree::Source> Tree::OpenReplacement(const Candidate& c,
                                                          const std::string& dir,
                                                          const std::string& name,
                                                          const Source* old) const {
  const std::string path = JoinPath(dir, name);
  if (old && old->is_dataset) {
    std::shared_ptr<Source> src = OpenDatasetSource(c.entry->name, c.entry->path, &verified_);
    if (single_) src->root_names = RootNamesFor(*src);
    return src;
  }
  if (c.member) return OpenMember(dir, name);  // null: not a segment or array file
  if (old && old->is_array) {
    Result<SharedArrayUri> uri = SharedArrayUri::Parse("file://" + path);
    if (!uri.ok()) return nullptr;
    auto array = OpenArray(*uri);
    array->name = old->name;
    return array;
  }
  std::shared_ptr<Source> src = OpenSegmentSource(c.entry->name, path, &verified_);
  if (single_) src->root_names = RootNamesFor(*src);
  return src;
}

void Tree::ServeReplacement(const Candidate& c, const std::string& path,
                            std::shared_ptr<const Source> fresh, const Source* old,
                            std::vector<Invalidation>* out) {
  const std::string shown_name = c.entry ? c.entry->name : fresh->name;
  if (!c.entry) {
    std::shared_lock lock(slots_.mutex());
    for (const Entry& e : slots_[c.dir_slot].entries) {
      if (e.name == shown_name) return;  // the name belongs to another file
    }
  }
  refused_.Forget(path);
  const uint64_t records = fresh->seg       ? fresh->seg->record_count()
                           : fresh->dataset ? fresh->dataset->record_count()
                                            : 0;
  const uint32_t slot = Install(std::move(fresh));
  if (slot == 0) {
    LogError("%s: replacement refused: every version slot is taken (by open files, or by "
             "inode numbers the kernel still caches); still serving the previous version",
             path.c_str());
    return;
  }
  {
    std::unique_lock lock(slots_.mutex());
    std::vector<Entry>& entries = slots_[c.dir_slot].entries;
    if (c.entry) {
      for (Entry& e : entries) {
        if (e.slot == c.entry->slot) e.slot = slot;
      }
      if (single_) {
        // Held until the kernel was told of the root's names (Invalidated),
        // then for a grace; a longer one if they are volatile entries,
        // which the kernel may use for a while without asking.
        const bool named = old != nullptr && old->root_names != nullptr;
        slots_.RetireHeldLocked(c.entry->slot, release_grace_.value_or(
                                                   named ? kInvalidatedGrace : kSingleFileGrace));
      } else {
        slots_.RetireLocked(c.entry->slot);
      }
    } else {
      entries.push_back(Entry{shown_name, path, "", slot});
    }
  }
  if (c.entry) {
    LogInfo("%s: serving the new version (%llu records)", path.c_str(),
            static_cast<unsigned long long>(records));
    ForgetCollectionFiles(*c.entry, old, out);
  } else {
    LogInfo("%s: added to the mount as %s", path.c_str(), shown_name.c_str());
  }
  if (single_ && old != nullptr && old->root_names != nullptr) {
    // A lookup that pinned the old version and notes its name from now on
    // gets a volatile entry instead of being named here.
    old->root_names->Retire();
    ForgetRootNames(*old, out);
  }
  // A single-file mount's root keeps its inode number: its children are
  // named one by one above (or are volatile entries), then the root itself
  // (its attributes and listing).
  out->push_back({DirIno(c.dir_slot), single_ ? std::string() : shown_name});
}

std::vector<Invalidation> Tree::Refresh(const std::string& dir, const std::string& name,
                                        RefreshCause cause) {
  const std::string path = JoinPath(dir, name);
  std::vector<Invalidation> out;
  for (const Candidate& c : CandidatesFor(dir, path)) {
    std::shared_ptr<const Source> old = c.entry ? slots_.At(c.entry->slot) : nullptr;
    struct stat st;
    if (StatSource(path, &st) != 0) {
      refused_.Forget(path);
      // A mount's own source stays until replaced; a member goes.
      if (c.member && c.entry) RemoveMember(c, path, old.get(), &out);
      continue;
    }
    if (old && old->stamp == StampOf(st)) continue;  // nothing changed
    if (refused_.Known(path, st)) continue;           // refused, and unchanged since
    LogDebug("%s: changed; opening and verifying it", path.c_str());
    std::shared_ptr<const Source> fresh = OpenReplacement(c, dir, name, old.get());
    if (!fresh) continue;
    if (!fresh->status.ok()) {
      // A new file being written is looked at again when it is closed.
      if (cause == RefreshCause::kCreated && MayStillBeWritten(path)) continue;
      refused_.Remember(path, st);
      std::string_view why = fresh->status.message();
      if (why.starts_with(path + ": ")) why.remove_prefix(path.size() + 2);
      LogError("%s: replacement refused: %.*s; %s", path.c_str(), static_cast<int>(why.size()),
               why.data(), old ? "still serving the previous version" : "not shown");
      continue;
    }
    ServeReplacement(c, path, std::move(fresh), old.get(), &out);
  }
  return out;
}

}  // namespace mapfs::fs
