// The root of a single-file mount: the children the kernel is handed are
// noted per version (RootNames), so that a replacement names exactly those
// for invalidation and they can be cached as long as any other entry; the
// replaced version is held until the kernel was told (Tree::Invalidated).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mapfs/dataset.h"
#include "root_names.h"
#include "test_util.h"
#include "tree.h"
#include "tree_test_util.h"

namespace mapfs::fs {
namespace {

using mapfs::testing::TempDir;

TEST(RootNamesTest, NotesAreListedInOrderAndOnlyInRange) {
  RootNames names(200);
  EXPECT_TRUE(names.Noted().empty());
  EXPECT_TRUE(names.Note(130));
  EXPECT_TRUE(names.Note(0));
  EXPECT_TRUE(names.Note(63));
  EXPECT_TRUE(names.Note(64));
  EXPECT_TRUE(names.Note(130));  // twice: once in the list
  EXPECT_TRUE(names.Note(199));
  EXPECT_FALSE(names.Note(200));
  EXPECT_EQ(names.Noted(), (std::vector<uint64_t>{0, 63, 64, 130, 199}));
  EXPECT_EQ(names.reserved_bytes(), 32u);  // four words for 200 bits
  EXPECT_TRUE(names.NoteFile(3));
  EXPECT_TRUE(names.NoteFile(1));
  EXPECT_FALSE(names.NoteFile(64));
  EXPECT_EQ(names.NotedFiles(), (std::vector<uint32_t>{1, 3}));
}

TEST(RootNamesTest, NotesAfterRetirementAreStillListedButNotCachedLong) {
  RootNames names(10);
  EXPECT_TRUE(names.Note(2));
  names.Retire();
  EXPECT_TRUE(names.retired());
  EXPECT_FALSE(names.Note(5));
  EXPECT_FALSE(names.NoteFile(1));
  EXPECT_EQ(names.Noted(), (std::vector<uint64_t>{2, 5}));
}

TEST(RootNamesTest, AnEmptyCollectionNotesNothing) {
  RootNames names(0);
  EXPECT_FALSE(names.Note(0));
  EXPECT_TRUE(names.Noted().empty());
  EXPECT_EQ(names.reserved_bytes(), 0u);
}

TEST(RootNamesTest, ConcurrentNotesRacingARetirementAreListedOrRefused) {
  // Each note either is listed by Noted() after Retire() or returns false.
  for (int round = 0; round < 20; ++round) {
    RootNames names(1 << 14);
    std::vector<char> long_lived(1 << 14, 0);
    std::thread noter([&] {
      for (uint64_t i = 0; i < (1 << 14); ++i) long_lived[i] = names.Note(i);
    });
    std::this_thread::yield();
    names.Retire();
    const std::vector<uint64_t> listed = names.Noted();
    noter.join();
    const std::set<uint64_t> in_list(listed.begin(), listed.end());
    for (uint64_t i = 0; i < (1 << 14); ++i) {
      if (long_lived[i]) {
        ASSERT_TRUE(in_list.count(i)) << i << " cached long but not listed";
      }
    }
  }
}

TreeOptions Instant() {
  TreeOptions o;
  o.release_grace = std::chrono::milliseconds(0);
  return o;
}

void Replace(const std::string& path, const std::vector<std::string>& lines,
             CollectionKind kind = CollectionKind::kMapping) {
  const std::string tmp = path + ".new";
  Build(tmp, kItemSchema, "Item", lines, kind, kind == CollectionKind::kArray ? "" : "k");
  ASSERT_EQ(std::rename(tmp.c_str(), path.c_str()), 0);
}

using Pairs = std::vector<std::pair<uint64_t, std::string>>;

// What a replacement of a single-file mount's version invalidates: its
// collection files, the root's names the kernel was handed (in index
// order), then the root itself; as a sorted list whose last item says
// whether the root came last.
Pairs RootReplaced(const std::vector<std::string>& names) {
  Pairs out = {{kRootIno, "@info"}, {kRootIno, "@schema"}, {kRootIno, "@segment"}};
  for (const std::string& n : names) out.emplace_back(kRootIno, n);
  out.emplace_back(kRootIno, "");
  std::sort(out.begin(), out.end());
  out.emplace_back(0, "root last");
  return out;
}

Pairs AsPairs(const std::vector<Invalidation>& changes) {
  Pairs out;
  for (const Invalidation& c : changes) out.emplace_back(c.parent, c.name);
  const bool root_last = !out.empty() && out.back() == Pairs::value_type(kRootIno, "");
  std::sort(out.begin(), out.end());
  out.emplace_back(0, root_last ? "root last" : "root not last");
  return out;
}

TEST(TreeRootNames, LookedUpNamesAreCachedLongAndNamedAtTheReplacement) {
  TempDir dir;
  const std::string path = dir.File("items.mapfs");
  Build(path, kItemSchema, "Item", {ItemLine("a", 1), ItemLine("b", 2), ItemLine("c", 3),
                                    ItemLine("d", 4)},
        CollectionKind::kMapping, "k");
  auto tree = Tree::Open(path, Instant()).value();
  EXPECT_FALSE(Walk(*tree, {"b"}).volatile_entry);
  EXPECT_FALSE(Walk(*tree, {"d", "n"}).volatile_entry);
  EXPECT_FALSE(Walk(*tree, {"@schema"}).volatile_entry);
  EXPECT_TRUE(tree->Lookup(kRootIno, "zz").status().IsNotFound());
  EXPECT_TRUE(tree->VolatileChildren(kRootIno)) << "misses at the root stay short";

  Replace(path, {ItemLine("a", 10), ItemLine("d", 40), ItemLine("e", 5)});
  // Only "b" and "d" were handed out ("a", "c" never were).
  EXPECT_EQ(AsPairs(tree->Refresh(dir.path(), "items.mapfs")), RootReplaced({"b", "d"}));
  EXPECT_EQ(Cat(*tree, {"d", "n"}), "40\n");
  EXPECT_TRUE(tree->Lookup(kRootIno, "b").status().IsNotFound());

  // The new version notes afresh: the next replacement names what it gave.
  EXPECT_EQ(Cat(*tree, {"e", "n"}), "5\n");
  Replace(path, {ItemLine("a", 100)});
  EXPECT_EQ(AsPairs(tree->Refresh(dir.path(), "items.mapfs")), RootReplaced({"d", "e"}));
}

TEST(TreeRootNames, ReaddirplusEntriesAreNotedPlainListingsAreNot) {
  TempDir dir;
  const std::string path = dir.File("items.mapfs");
  Build(path, kItemSchema, "Item", {ItemLine("a", 1), ItemLine("b", 2), ItemLine("c", 3)},
        CollectionKind::kMapping, "k");
  auto tree = Tree::Open(path, Instant()).value();
  for (const auto& [name, attr] : List(*tree, kRootIno, false)) (void)attr;
  Replace(path, {ItemLine("a", 1)});
  EXPECT_EQ(AsPairs(tree->Refresh(dir.path(), "items.mapfs")), RootReplaced({}));
  tree->Invalidated();

  for (const auto& [name, attr] : List(*tree, kRootIno, true)) {
    if (name != "." && name != "..") {
      EXPECT_FALSE(attr.volatile_entry) << name;
    }
  }
  Replace(path, {ItemLine("b", 2)});
  const std::vector<Invalidation> changes = tree->Refresh(dir.path(), "items.mapfs");
  EXPECT_EQ(AsPairs(changes), RootReplaced({"a"}));
  // The root's names are only marked expired (cheap for many names); the
  // collection's files and the root itself are dropped.
  for (const Invalidation& c : changes) {
    EXPECT_EQ(c.expire, c.name == "a") << c.name;
  }
}

TEST(TreeRootNames, ArrayRecordsAndEscapedKeysAreNamedAsTheOldVersionNamedThem) {
  TempDir dir;
  const std::string array = dir.File("array.mapfs");
  Build(array, kItemSchema, "Item", {ItemLine("x", 0), ItemLine("y", 1), ItemLine("z", 2)});
  auto tree = Tree::Open(array, Instant()).value();
  Walk(*tree, {"2"});
  Walk(*tree, {"0"});
  Replace(array, {ItemLine("x", 0)}, CollectionKind::kArray);
  EXPECT_EQ(AsPairs(tree->Refresh(dir.path(), "array.mapfs")), RootReplaced({"0", "2"}));

  // A key that is no file name as it stands is named by its escaped form.
  const std::string keyed = dir.File("keyed.mapfs");
  Build(keyed, kItemSchema, "Item", {ItemLine("a/b", 1), ItemLine("plain", 2)},
        CollectionKind::kMapping, "k");
  auto keyed_tree = Tree::Open(keyed, Instant()).value();
  std::vector<std::string> listed;
  for (const auto& [name, attr] : List(*keyed_tree, kRootIno, true)) {
    if (name[0] != '.' && name[0] != '@') listed.push_back(name);
  }
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_NE(listed[0], "a/b");
  Replace(keyed, {ItemLine("plain", 3)});
  EXPECT_EQ(AsPairs(keyed_tree->Refresh(dir.path(), "keyed.mapfs")), RootReplaced(listed));
}

TEST(TreeRootNames, TheReplacedVersionIsHeldUntilTheKernelWasTold) {
  TempDir dir;
  const std::string path = dir.File("items.mapfs");
  Build(path, kItemSchema, "Item", {ItemLine("a", 1)}, CollectionKind::kMapping, "k");
  auto tree = Tree::Open(path, Instant()).value();
  const std::weak_ptr<const Segment> old_segment = tree->segment("");
  const NodeAttr old_n = Walk(*tree, {"a", "n"});
  Replace(path, {ItemLine("a", 2)});
  ASSERT_FALSE(tree->Refresh(dir.path(), "items.mapfs").empty());
  EXPECT_EQ(tree->ReleaseRetired(), 1u) << "no grace without the invalidations applied";
  EXPECT_EQ(ReadAll(*tree, old_n.ino), "1\n");
  tree->Invalidated();
  EXPECT_TRUE(old_segment.expired());
  EXPECT_EQ(tree->GetAttr(old_n.ino).status().posix_errno(), ESTALE);
  EXPECT_EQ(Cat(*tree, {"a", "n"}), "2\n");
}

TEST(TreeRootNames, ApproximateMultimapChildrenStayVolatile) {
  TempDir dir;
  const std::string path = dir.File("approx.mapfs");
  Build(path, kItemSchema, "Item", {ItemLine("a", 1), ItemLine("a", 2), ItemLine("b", 3)},
        CollectionKind::kApproxMultiMap, "k");
  auto tree = Tree::Open(path, Instant()).value();
  EXPECT_TRUE(Walk(*tree, {"a"}).volatile_entry) << "its keys' names are not stored";
  EXPECT_TRUE(Walk(*tree, {"@info"}).volatile_entry);
  Replace(path, {ItemLine("b", 4)}, CollectionKind::kApproxMultiMap);
  EXPECT_EQ(AsPairs(tree->Refresh(dir.path(), "approx.mapfs")), RootReplaced({}));
}


TEST(TreeRootNames, ADatasetMountedAsSourceNamesItsMembersAcrossShards) {
  TempDir dir;
  std::vector<std::pair<std::string, int>> items;
  for (int i = 0; i < 40; ++i) items.emplace_back("key" + std::to_string(i), i);
  BuildItemDataset(dir.path(), 3, items);
  auto tree = Tree::Open(dir.path(), Instant()).value();
  EXPECT_FALSE(Walk(*tree, {"key7", "n"}).volatile_entry);
  EXPECT_FALSE(Walk(*tree, {"key7"}).volatile_entry);
  EXPECT_FALSE(Walk(*tree, {"key31"}).volatile_entry);
  EXPECT_FALSE(Walk(*tree, {"@shards"}).volatile_entry);
  EXPECT_FALSE(Walk(*tree, {"@dataset"}).volatile_entry);

  items.resize(10);
  BuildItemDataset(dir.path(), 2, items);
  std::vector<Invalidation> changes = tree->Refresh(dir.path(), "dataset.json");
  std::set<std::string> at_root;
  for (const Invalidation& c : changes) {
    if (c.parent == kRootIno) at_root.insert(c.name);
  }
  EXPECT_EQ(at_root, (std::set<std::string>{"", "@info", "@schema", "@dataset", "@shards",
                                            "key7", "key31"}));
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes.back().parent, kRootIno);
  EXPECT_EQ(changes.back().name, "");
  tree->Invalidated();
  EXPECT_TRUE(tree->Lookup(kRootIno, "key31").status().IsNotFound());
  EXPECT_EQ(Cat(*tree, {"key7", "n"}), "7\n");

  // An array dataset: members are named by their dataset-wide index.
  TempDir adir;
  BuildItemDataset(adir.path(), 3, items, CollectionKind::kArray);
  auto arrays = Tree::Open(adir.path(), Instant()).value();
  Walk(*arrays, {"8"});
  items.resize(4);
  BuildItemDataset(adir.path(), 2, items, CollectionKind::kArray);
  at_root.clear();
  for (const Invalidation& c : arrays->Refresh(adir.path(), "dataset.json")) {
    if (c.parent == kRootIno && !c.name.empty() && c.name[0] != '@') at_root.insert(c.name);
  }
  EXPECT_EQ(at_root, (std::set<std::string>{"8"}));
}

}  // namespace
}  // namespace mapfs::fs
