// Sources replaced while mounted (Tree::Refresh) and trees of named sources
// (the mounts.yaml form): new versions get new inode numbers, files open on
// the old version keep reading it until closed, the old version is released
// at its last close whatever the kernel still caches, and a replacement that
// does not validate is refused.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "mapfs/shared_array.h"
#include "reload.h"
#include "test_util.h"
#include "tree.h"
#include "tree_test_util.h"

namespace mapfs::fs {
namespace {

using mapfs::testing::TempDir;

// No release grace: a replaced version no open file holds goes at once.
TreeOptions Instant() {
  TreeOptions o;
  o.release_grace = std::chrono::milliseconds(0);
  return o;
}

// Builds a keyed segment next to `path` and renames it over `path`, the way
// a rebuild replaces a mounted file.
void Replace(const std::string& path, const std::vector<std::string>& lines) {
  const std::string tmp = path + ".new";
  Build(tmp, kItemSchema, "Item", lines, CollectionKind::kMapping, "k");
  ASSERT_EQ(std::rename(tmp.c_str(), path.c_str()), 0);
}

using Pairs = std::vector<std::pair<uint64_t, std::string>>;

Pairs AsPairs(const std::vector<Invalidation>& changes) {
  Pairs out;
  for (const Invalidation& c : changes) out.emplace_back(c.parent, c.name);
  return out;
}

// What a replaced or removed collection invalidates: its files under the
// directory the kernel knows them by (so one mapped across the replacement
// goes at its last close), then its own entry `name` in `parent`.
Pairs ReplacedCollection(uint64_t old_dir, uint64_t parent, const std::string& name) {
  return {{old_dir, "@info"}, {old_dir, "@schema"}, {old_dir, "@segment"}, {parent, name}};
}

void ReplaceWithBytes(const std::string& path, const std::string& bytes) {
  testing::WriteFileOrDie(path + ".new", bytes);
  ASSERT_EQ(std::rename((path + ".new").c_str(), path.c_str()), 0);
}

TEST(TreeReload, ReplacedFileIsServedUnderNewInodesWhileOldOnesKeepReading) {
  TempDir dir;
  const std::string path = dir.File("items.mapfs");
  Build(path, kItemSchema, "Item", {ItemLine("a", 1), ItemLine("b", 2)}, CollectionKind::kMapping, "k");
  auto tree = Tree::Open(path, Instant()).value();
  const std::weak_ptr<const Segment> old_segment = tree->segment("");
  const NodeAttr old_a = Walk(*tree, {"a"});
  const NodeAttr old_n = Walk(*tree, {"a", "n"});
  const NodeAttr old_b = Walk(*tree, {"b", "n"});
  const NodeAttr old_bdir = Walk(*tree, {"b"});  // "b" now has two lookups
  uint64_t handle = 0;
  ASSERT_TRUE(tree->OpenNode(old_n.ino, &handle).ok());  // a reader opens a/n
  EXPECT_EQ(ReadAll(*tree, old_n.ino), "1\n");
  // Children of a single-file mount's root are noted, to be named at a
  // replacement: cached as long as any entry.
  EXPECT_FALSE(old_a.volatile_entry);
  EXPECT_FALSE(old_n.volatile_entry);
  for (const auto& [name, attr] : List(*tree, kRootIno, true)) {
    if (name == "." || name == "..") continue;
    EXPECT_FALSE(attr.volatile_entry) << name << " listed by readdirplus";
    tree->Forget(attr.ino, 1);
  }

  EXPECT_TRUE(tree->Refresh(dir.path(), "items.mapfs").empty()) << "nothing changed yet";
  Replace(path, {ItemLine("a", 100), ItemLine("c", 3)});
  // The root keeps its number: the collection's files, the names the
  // kernel was handed, and the root itself are named.
  Pairs replaced = ReplacedCollection(kRootIno, kRootIno, "");
  replaced.insert(replaced.end() - 1, {{kRootIno, "a"}, {kRootIno, "b"}});
  EXPECT_EQ(AsPairs(tree->Refresh(dir.path(), "items.mapfs")), replaced);
  tree->Invalidated();

  const NodeAttr new_n = Walk(*tree, {"a", "n"});
  EXPECT_NE(new_n.ino, old_n.ino);
  EXPECT_EQ(ReadAll(*tree, new_n.ino), "100\n");
  EXPECT_EQ(Cat(*tree, {"c", "n"}), "3\n");
  EXPECT_TRUE(tree->Lookup(kRootIno, "b").status().IsNotFound());
  // What a reader opened before the replacement still reads the old bytes.
  EXPECT_EQ(ReadAll(*tree, old_n.ino), "1\n");
  EXPECT_EQ(tree->open_versions(), 2u);
  EXPECT_EQ(tree->segment("")->record_count(), 2u);
  // A node of the old version that is not open is not served: the kernel
  // walks its path again (ESTALE) and finds the new version.
  EXPECT_TRUE(tree->GetAttr(old_b.ino).ok());  // the version is held by the open a/n

  // The last close releases the old mapping, although the kernel still
  // holds lookups of its inode numbers.
  tree->ReleaseNode(handle);
  EXPECT_EQ(tree->open_versions(), 1u);
  EXPECT_TRUE(old_segment.expired()) << "the old mapping is released";
  EXPECT_EQ(tree->GetAttr(old_n.ino).status().posix_errno(), ESTALE);
  EXPECT_EQ(tree->GetAttr(old_b.ino).status().posix_errno(), ESTALE);
  uint64_t again = 0;
  EXPECT_EQ(tree->OpenNode(old_n.ino, &again).status().posix_errno(), ESTALE);
  // Its slot number stays reserved until the kernel forgets those numbers
  // ("a" was looked up by both walks), so no inode number of it can name
  // another version.
  EXPECT_EQ(tree->reserved_slots(), 2u);
  tree->Forget(old_a.ino, 2);
  tree->Forget(old_n.ino, 1);
  tree->Forget(old_b.ino, 1);
  EXPECT_EQ(tree->reserved_slots(), 2u);
  tree->Forget(old_bdir.ino, 2);
  EXPECT_EQ(tree->reserved_slots(), 1u);
}

TEST(TreeReload, AReplacedVersionNoFileHoldsOpenIsReleasedAtOnce) {
  TempDir dir;
  const std::string path = dir.File("items.mapfs");
  Build(path, kItemSchema, "Item", {ItemLine("a", 1)}, CollectionKind::kMapping, "k");
  auto tree = Tree::Open(path, Instant()).value();
  const std::weak_ptr<const Segment> old_segment = tree->segment("");
  // The kernel holds inode numbers of the old version (cached entries),
  // and a read was served: neither keeps it.
  const NodeAttr old_n = Walk(*tree, {"a", "n"});
  EXPECT_EQ(ReadAll(*tree, old_n.ino), "1\n");
  Replace(path, {ItemLine("a", 2)});
  ASSERT_EQ(tree->Refresh(dir.path(), "items.mapfs").size(), 5u);
  tree->Invalidated();
  EXPECT_EQ(tree->open_versions(), 1u);
  EXPECT_TRUE(old_segment.expired());
  EXPECT_EQ(tree->GetAttr(old_n.ino).status().posix_errno(), ESTALE);
  EXPECT_EQ(Cat(*tree, {"a", "n"}), "2\n");
}

TEST(TreeReload, AReplacedVersionIsHeldForItsGraceThenSweptAway) {
  TempDir dir;
  const std::string path = dir.File("items.mapfs");
  Build(path, kItemSchema, "Item", {ItemLine("a", 1)}, CollectionKind::kMapping, "k");
  TreeOptions options;
  options.release_grace = std::chrono::milliseconds(300);
  auto tree = Tree::Open(path, options).value();
  const std::weak_ptr<const Segment> old_segment = tree->segment("");
  const NodeAttr old_n = Walk(*tree, {"a", "n"});
  Replace(path, {ItemLine("a", 2)});
  ASSERT_EQ(tree->Refresh(dir.path(), "items.mapfs").size(), 5u);
  tree->Invalidated();
  // Within the grace, what the kernel cached still reads the old version.
  EXPECT_EQ(ReadAll(*tree, old_n.ino), "1\n");
  EXPECT_EQ(tree->ReleaseRetired(), 1u);
  EXPECT_FALSE(old_segment.expired());
  std::this_thread::sleep_for(std::chrono::milliseconds(350));
  EXPECT_EQ(tree->ReleaseRetired(), 0u);
  EXPECT_TRUE(old_segment.expired());
  EXPECT_EQ(tree->GetAttr(old_n.ino).status().posix_errno(), ESTALE);
}

TEST(TreeReload, AReadReplyHoldsItsVersionUntilSent) {
  TempDir dir;
  const std::string path = dir.File("items.mapfs");
  Build(path, kItemSchema, "Item", {ItemLine("a", 1)}, CollectionKind::kMapping, "k");
  auto tree = Tree::Open(path, Instant()).value();
  const std::weak_ptr<const Segment> old_segment = tree->segment("");
  const NodeAttr seg = Walk(*tree, {"@segment"});
  ReadReply reply;
  ASSERT_TRUE(tree->Read(seg.ino, 0, 64, &reply).ok());
  Replace(path, {ItemLine("a", 2)});
  ASSERT_EQ(tree->Refresh(dir.path(), "items.mapfs").size(), 4u);
  tree->Invalidated();
  // The reply points into the old mapping, which it keeps until it goes.
  EXPECT_FALSE(old_segment.expired());
  EXPECT_EQ(reply.pieces[0].substr(0, 8), "MAPFSSEG");
  reply = ReadReply();
  EXPECT_TRUE(old_segment.expired());
}

TEST(TreeReload, JsonOfANewVersionIsNeverTheCachedOld) {
  TempDir dir;
  const std::string path = dir.File("items.mapfs");
  Build(path, kItemSchema, "Item", {ItemLine("a", 1)}, CollectionKind::kMapping, "k");
  auto tree = Tree::Open(path).value();
  EXPECT_EQ(Cat(*tree, {"a", "@json"}), "{\"k\":\"a\",\"n\":1}\n");
  for (int version = 2; version < 6; ++version) {
    Replace(path, {ItemLine("a", version)});
    ASSERT_EQ(tree->Refresh(dir.path(), "items.mapfs").size(), 5u);
    EXPECT_EQ(Cat(*tree, {"a", "@json"}), "{\"k\":\"a\",\"n\":" + std::to_string(version) + "}\n");
  }
}

TEST(TreeReload, BrokenReplacementsAreRefusedAndTheOldVersionKeepsServing) {
  TempDir dir;
  const std::string path = dir.File("items.mapfs");
  Build(path, kItemSchema, "Item", {ItemLine("a", 1), ItemLine("b", 2)}, CollectionKind::kMapping, "k");
  const std::string good = testing::ReadFileOrDie(path);
  auto tree = Tree::Open(path).value();

  std::string flipped = good;
  flipped[flipped.size() - 10] ^= 0x40;  // in the block checksum section: refused at open
  for (const std::string& bad : {std::string("not a segment"), good.substr(0, good.size() / 2),
                                 flipped, std::string()}) {
    ReplaceWithBytes(path, bad);
    EXPECT_TRUE(tree->Refresh(dir.path(), "items.mapfs").empty()) << bad.size();
    EXPECT_EQ(Cat(*tree, {"b", "n"}), "2\n");
    EXPECT_EQ(tree->open_versions(), 1u);
  }
  Replace(path, {ItemLine("b", 20)});
  EXPECT_EQ(tree->Refresh(dir.path(), "items.mapfs").size(), 5u);
  EXPECT_EQ(Cat(*tree, {"b", "n"}), "20\n");
}

TEST(TreeReload, DirectoryMembersAppearAreReplacedAndDisappear) {
  TempDir dir;
  Build(dir.File("one.mapfs"), kItemSchema, "Item", {ItemLine("a", 1)}, CollectionKind::kMapping, "k");
  auto tree = Tree::Open(dir.path()).value();
  EXPECT_EQ(Names(*tree, kRootIno), (std::vector<std::string>{".", "..", "one"}));
  const NodeAttr one = Walk(*tree, {"one"});

  // A file that is not a segment, and a hidden one, are not members.
  testing::WriteFileOrDie(dir.File("notes.txt"), "x");
  EXPECT_TRUE(tree->Refresh(dir.path(), "notes.txt").empty());
  Build(dir.File(".two.mapfs"), kItemSchema, "Item", {ItemLine("b", 2)}, CollectionKind::kMapping, "k");
  EXPECT_TRUE(tree->Refresh(dir.path(), ".two.mapfs").empty());

  Replace(dir.File("two.mapfs"), {ItemLine("b", 2)});
  std::vector<Invalidation> changes = tree->Refresh(dir.path(), "two.mapfs");
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].parent, kRootIno);
  EXPECT_EQ(changes[0].name, "two");  // drops the kernel's cached miss
  EXPECT_EQ(Names(*tree, kRootIno), (std::vector<std::string>{".", "..", "one", "two"}));
  EXPECT_EQ(Cat(*tree, {"two", "b", "n"}), "2\n");
  const uint64_t two_ino = Walk(*tree, {"two"}).ino;

  Replace(dir.File("one.mapfs"), {ItemLine("a", 10)});
  EXPECT_EQ(AsPairs(tree->Refresh(dir.path(), "one.mapfs")),
            ReplacedCollection(one.ino, kRootIno, "one"));
  EXPECT_NE(Walk(*tree, {"one"}).ino, one.ino);
  EXPECT_EQ(Cat(*tree, {"one", "a", "n"}), "10\n");
  EXPECT_FALSE(tree->Lookup(kRootIno, "one").value().volatile_entry);

  ASSERT_EQ(std::remove(dir.File("two.mapfs").c_str()), 0);
  EXPECT_EQ(AsPairs(tree->Refresh(dir.path(), "two.mapfs")),
            ReplacedCollection(two_ino, kRootIno, "two"));
  EXPECT_EQ(Names(*tree, kRootIno), (std::vector<std::string>{".", "..", "one"}));
}

TEST(TreeReload, NamedSourcesShowFilesDirectoriesAndArrays) {
  TempDir dir;
  Build(dir.File("people.mapfs"), kItemSchema, "Item", {ItemLine("a", 1)}, CollectionKind::kMapping,
        "k");
  ASSERT_EQ(::mkdir(dir.File("archive").c_str(), 0755), 0);
  Build(dir.File("archive/2024.mapfs"), kItemSchema, "Item", {ItemLine("y", 24)},
        CollectionKind::kMapping, "k");
  ASSERT_TRUE(SharedArray::Create("file://" + dir.File("frames.arr"), std::vector<uint64_t>{4},
                                  DType::kInt32)
                  .ok());
  auto tree = Tree::Open(std::vector<TreeSource>{
                             {"people", dir.File("people.mapfs"), "m.yaml:4:15"},
                             {"archive", dir.File("archive"), "m.yaml:5:16"},
                             {"frames", "file://" + dir.File("frames.arr"), "m.yaml:6:15"},
                         })
                  .value();
  EXPECT_EQ(Names(*tree, kRootIno),
            (std::vector<std::string>{".", "..", "people", "archive", "frames.npy"}));
  EXPECT_EQ(Cat(*tree, {"people", "a", "n"}), "1\n");
  EXPECT_EQ(Cat(*tree, {"archive", "2024", "y", "n"}), "24\n");
  EXPECT_EQ(Names(*tree, Walk(*tree, {"archive"}).ino),
            (std::vector<std::string>{".", "..", "2024"}));
  EXPECT_EQ(Walk(*tree, {"frames.npy"}).size, 128u + 16u);
  EXPECT_EQ(tree->segment("archive/2024")->record_count(), 1u);
  EXPECT_EQ(tree->segment("archive/none"), nullptr);

  // A replaced source invalidates its own name; a new file joins its
  // directory source.
  const uint64_t old_people = Walk(*tree, {"people"}).ino;
  Replace(dir.File("people.mapfs"), {ItemLine("a", 2)});
  EXPECT_EQ(AsPairs(tree->Refresh(dir.path(), "people.mapfs")),
            ReplacedCollection(old_people, kRootIno, "people"));
  EXPECT_EQ(Cat(*tree, {"people", "a", "n"}), "2\n");
  Replace(dir.File("archive/2025.mapfs"), {ItemLine("y", 25)});
  std::vector<Invalidation> changes = tree->Refresh(dir.File("archive"), "2025.mapfs");
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].parent, Walk(*tree, {"archive"}).ino);
  EXPECT_EQ(changes[0].name, "2025");
  EXPECT_EQ(Cat(*tree, {"archive", "2025", "y", "n"}), "25\n");

  const std::vector<std::string> watched = tree->WatchedDirectories();
  EXPECT_EQ(watched, (std::vector<std::string>{dir.path(), dir.File("archive")}));
}

TEST(TreeReload, ANamedSourceThatFailsNamesItsPlaceInTheConfiguration) {
  TempDir dir;
  auto tree = Tree::Open(std::vector<TreeSource>{{"x", dir.File("missing.mapfs"), "m.yaml:4:8"}});
  ASSERT_FALSE(tree.ok());
  EXPECT_TRUE(tree.status().message().starts_with("m.yaml:4:8: ")) << tree.status().message();
  EXPECT_NE(tree.status().message().find("missing.mapfs"), std::string::npos);

  testing::WriteFileOrDie(dir.File("bad.mapfs"), "not a segment");
  tree = Tree::Open(std::vector<TreeSource>{{"x", dir.File("bad.mapfs"), "m.yaml:5:8"}});
  ASSERT_FALSE(tree.ok());
  EXPECT_TRUE(tree.status().message().starts_with("m.yaml:5:8: ")) << tree.status().message();
}

TEST(TreeReload, ReaddirplusEntriesReserveTheSlotNumberOfTheirVersion) {
  TempDir dir;
  const std::string path = dir.File("items.mapfs");
  Build(path, kItemSchema, "Item", {ItemLine("a", 1)}, CollectionKind::kMapping, "k");
  auto tree = Tree::Open(std::vector<TreeSource>{{"items", path, ""}}, Instant()).value();
  // The kernel takes one lookup per readdirplus entry ("." and ".." aside).
  const auto listed = List(*tree, kRootIno, /*plus=*/true);
  ASSERT_EQ(listed.size(), 3u);
  const uint64_t old_ino = listed[2].second.ino;
  Replace(path, {ItemLine("a", 2)});
  ASSERT_EQ(tree->Refresh(dir.path(), "items.mapfs").size(), 4u);
  EXPECT_EQ(tree->open_versions(), 1u);  // a listed entry holds no version
  EXPECT_EQ(tree->reserved_slots(), 2u);  // only its slot number
  tree->Forget(old_ino, 1);
  EXPECT_EQ(tree->reserved_slots(), 1u);
}

TEST(TreeReload, ReadersRacingReplacementsSeeOneWholeVersion) {
  TempDir dir;
  const std::string path = dir.File("items.mapfs");
  const std::string long_text(3000, 'x');
  Build(path, kItemSchema, "Item", {ItemLine("a", 1)}, CollectionKind::kMapping, "k");
  auto tree = Tree::Open(std::vector<TreeSource>{{"items", path, ""}}, Instant()).value();
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0};
  std::atomic<int> stale{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        // One path walk, an open, reads, a close, then the forgets the
        // kernel would send. A walk through a version released meanwhile
        // gets ESTALE, on which the kernel walks again.
        uint64_t forget[3] = {0, 0, 0};
        auto forget_all = [&] {
          for (uint64_t ino : forget) {
            if (ino != 0) tree->Forget(ino, 1);
          }
        };
        Result<NodeAttr> coll = tree->Lookup(kRootIno, "items");
        ASSERT_TRUE(coll.ok()) << coll.status().ToString();
        forget[0] = coll->ino;
        Result<NodeAttr> rec = tree->Lookup(coll->ino, "a");
        Result<NodeAttr> json = rec.ok() ? tree->Lookup(rec->ino, "@json") : rec.status();
        if (rec.ok()) forget[1] = rec->ino;
        if (json.ok()) forget[2] = json->ino;
        uint64_t handle = 0;
        Result<NodeAttr> opened = json.ok() ? tree->OpenNode(json->ino, &handle) : json.status();
        if (!opened.ok()) {
          EXPECT_EQ(opened.status().posix_errno(), ESTALE) << opened.status().ToString();
          forget_all();
          ++stale;
          continue;
        }
        const std::string text = ReadAll(*tree, json->ino);
        tree->ReleaseNode(handle);
        EXPECT_TRUE(text == "{\"k\":\"a\",\"n\":1}\n" || text == "{\"k\":\"a\",\"n\":2}\n")
            << text;
        EXPECT_EQ(text.size(), json->size);
        forget_all();
        ++reads;
      }
    });
  }
  for (int i = 0; i < 40; ++i) {
    Replace(path, {ItemLine("a", 1 + i % 2)});
    tree->Refresh(dir.path(), "items.mapfs");
  }
  stop = true;
  for (std::thread& t : readers) t.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(tree->open_versions(), 1u) << "every replaced version is released once closed";
  EXPECT_EQ(tree->reserved_slots(), 1u) << "and its slot number freed once forgotten";
}

TEST(TreeReload, TheWatcherServesARenamedRebuildWithinSeconds) {
  TempDir dir;
  const std::string path = dir.File("items.mapfs");
  Build(path, kItemSchema, "Item", {ItemLine("a", 1)}, CollectionKind::kMapping, "k");
  auto tree = Tree::Open(path).value();
  ReloadWatcher watcher(tree.get(), nullptr);
  ASSERT_TRUE(watcher.Start().ok());
  Replace(path, {ItemLine("a", 2)});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::string now;
  while (std::chrono::steady_clock::now() < deadline) {
    now = Cat(*tree, {"a", "n"});
    if (now == "2\n") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(now, "2\n");
  watcher.Stop();
}

}  // namespace
}  // namespace mapfs::fs
