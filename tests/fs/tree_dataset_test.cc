// Datasets in a tree (docs/layout.md, "Datasets"): one collection over its
// shards, lookups routed to one shard, listings through every shard, the
// dataset's own files, and a new manifest switching every shard at once.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "mapfs/dataset.h"
#include "test_util.h"
#include "tree.h"
#include "tree_test_util.h"
#include "version_slots.h"

namespace mapfs::fs {
namespace {

using mapfs::testing::ReadFileOrDie;
using mapfs::testing::TempDir;
using mapfs::testing::WriteFileOrDie;

std::vector<std::pair<std::string, int>> Items(int n, int offset = 0) {
  std::vector<std::pair<std::string, int>> items;
  for (int i = 0; i < n; ++i) items.emplace_back("key" + std::to_string(i), i + offset);
  return items;
}

TEST(TreeDataset, AMappingDatasetIsOneCollection) {
  TempDir dir;
  const std::vector<std::string> files = BuildItemDataset(dir.path(), 4, Items(50));
  Result<std::unique_ptr<Tree>> tree = Tree::Open(dir.path());
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  Tree& t = **tree;
  std::vector<std::string> names = Names(t, kRootIno);
  ASSERT_GE(names.size(), 6u);
  EXPECT_EQ(std::vector<std::string>(names.begin(), names.begin() + 6),
            (std::vector<std::string>{".", "..", "@info", "@schema", "@dataset", "@shards"}));
  std::set<std::string> keys(names.begin() + 6, names.end());
  EXPECT_EQ(keys.size(), 50u);
  EXPECT_EQ(names.size(), 56u) << "every key once";
  for (int i = 0; i < 50; ++i) {
    const std::string k = "key" + std::to_string(i);
    EXPECT_TRUE(keys.count(k)) << k;
    EXPECT_EQ(Cat(t, {k, "n"}), std::to_string(i) + "\n");
  }
  EXPECT_FALSE(t.Lookup(kRootIno, "key50").ok());
  EXPECT_FALSE(t.Lookup(kRootIno, "@segment").ok());

  const std::string info = Cat(t, {"@info"});
  EXPECT_NE(info.find("\"kind\":\"mapping\""), std::string::npos) << info;
  EXPECT_NE(info.find("\"record_count\":50,\"key_count\":50"), std::string::npos) << info;
  EXPECT_NE(info.find(",\"shards\":4}\n"), std::string::npos) << info;
  EXPECT_EQ(Cat(t, {"@dataset"}), ReadFileOrDie(dir.File("dataset.json")));
  EXPECT_NE(Cat(t, {"@schema"}).find("Item"), std::string::npos);

  EXPECT_EQ(Names(t, Walk(t, {"@shards"}).ino),
            (std::vector<std::string>{".", "..", "0", "1", "2", "3"}));
  for (size_t s = 0; s < 4; ++s) {
    const std::string i = std::to_string(s);
    EXPECT_EQ(Names(t, Walk(t, {"@shards", i}).ino),
              (std::vector<std::string>{".", "..", "@info", "@schema", "@segment"}));
    EXPECT_EQ(Cat(t, {"@shards", i, "@segment"}), ReadFileOrDie(dir.File(files[s])));
  }
  EXPECT_FALSE(t.Lookup(Walk(t, {"@shards"}).ino, "4").ok());
  EXPECT_FALSE(t.Lookup(Walk(t, {"@shards"}).ino, "01").ok());
  // A shard's records are the dataset's: not a second name for them.
  const std::string shard0_key = *std::find_if(keys.begin(), keys.end(), [](const std::string& k) {
    return RouteKey(k, 4) == 0;
  });
  EXPECT_FALSE(t.Lookup(Walk(t, {"@shards", "0"}).ino, shard0_key).ok());
}

TEST(TreeDataset, ListingsResumeAtAnyOffsetAcrossShards) {
  TempDir dir;
  BuildItemDataset(dir.path(), 3, Items(20));
  auto tree = Tree::Open(dir.path());
  ASSERT_TRUE(tree.ok());
  Tree& t = **tree;
  const std::vector<std::string> all = Names(t, kRootIno);
  for (bool plus : {false, true}) {
    std::vector<std::string> resumed;
    uint64_t offset = 0;
    for (;;) {
      bool any = false;
      // One entry per call: every offset is a resume point.
      Status st = t.ReadDir(kRootIno, offset, plus,
                            [&](std::string_view name, const NodeAttr& a, uint64_t next) {
                              if (any) return false;
                              any = true;
                              EXPECT_NE(a.ino, 0u);
                              resumed.emplace_back(name);
                              offset = next;
                              return true;
                            });
      ASSERT_TRUE(st.ok()) << st.ToString();
      if (!any) break;
    }
    EXPECT_EQ(resumed, all) << "plus " << plus;
  }
}

// As for one segment: a readdirplus hands the kernel attributes (an inode
// each) for the members of a dataset it can walk, not for those of a huge
// one, whose members are looked up when used.
TEST(TreeDataset, PlusListingsGiveMemberAttributesUpToAHugeDataset) {
  for (const CollectionKind kind : {CollectionKind::kMapping, CollectionKind::kArray}) {
    for (const int count : {300, (1 << 18) + 1}) {
      TempDir dir;
      BuildItemDataset(dir.path(), 3, Items(count), kind);
      auto tree = Tree::Open(dir.path());
      ASSERT_TRUE(tree.ok()) << tree.status().ToString();
      size_t members = 0, with_attrs = 0;
      for (auto& [name, a] : List(**tree, kRootIno, true)) {
        if (name == "." || name == ".." || name[0] == '@') {
          EXPECT_FALSE(a.no_entry) << name;
          continue;
        }
        ++members;
        if (!a.no_entry) ++with_attrs;
        if (a.no_entry && members == 1) {
          Result<NodeAttr> l = (*tree)->Lookup(kRootIno, name);
          ASSERT_TRUE(l.ok()) << name;
          EXPECT_EQ(l->ino, a.ino) << name;
          EXPECT_TRUE(l->is_dir) << name;
          (*tree)->Forget(l->ino, 1);
        }
      }
      EXPECT_EQ(members, static_cast<size_t>(count));
      EXPECT_EQ(with_attrs, count <= (1 << 18) ? members : 0) << count;
    }
  }
}

TEST(TreeDataset, ArraysAreNamedByDatasetIndex) {
  TempDir dir;
  BuildItemDataset(dir.path(), 3, Items(10, 100), CollectionKind::kArray);
  auto tree = Tree::Open(dir.path());
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  Tree& t = **tree;
  std::vector<std::string> expected = {".", "..", "@info", "@schema", "@dataset", "@shards"};
  for (int i = 0; i < 10; ++i) expected.push_back(std::to_string(i));
  EXPECT_EQ(Names(t, kRootIno), expected);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(Cat(t, {std::to_string(i), "n"}), std::to_string(100 + i) + "\n");
    EXPECT_EQ(Cat(t, {std::to_string(i), "k"}), "key" + std::to_string(i));
  }
  EXPECT_FALSE(t.Lookup(kRootIno, "10").ok());
}

TEST(TreeDataset, MultimapKeysHoldTheirRecordsInInputOrder) {
  TempDir dir;
  BuildItemDataset(dir.path(), 2, {{"a", 1}, {"b", 2}, {"a", 3}, {"c", 4}, {"a", 5}},
             CollectionKind::kMultiMap);
  auto tree = Tree::Open(dir.path());
  ASSERT_TRUE(tree.ok());
  Tree& t = **tree;
  EXPECT_EQ(Names(t, Walk(t, {"a"}).ino), (std::vector<std::string>{".", "..", "@json", "0", "1", "2"}));
  EXPECT_EQ(Cat(t, {"a", "2", "n"}), "5\n");
  EXPECT_EQ(Cat(t, {"a", "@json"}),
            R"([{"k":"a","n":1},{"k":"a","n":3},{"k":"a","n":5}])" "\n");
  EXPECT_EQ(Cat(t, {"c", "0", "n"}), "4\n");
}

TEST(TreeDataset, ADatasetInADirectorySourceIsOneEntry) {
  TempDir dir;
  ASSERT_EQ(::mkdir(dir.File("people").c_str(), 0755), 0);
  BuildItemDataset(dir.File("people"), 2, Items(5));
  Build(dir.File("plain.mapfs"), kItemSchema, "Item", {ItemLine("x", 1)},
        CollectionKind::kMapping, "k");
  ASSERT_EQ(::mkdir(dir.File("other").c_str(), 0755), 0);  // not a dataset: not shown
  auto tree = Tree::Open(dir.path());
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  Tree& t = **tree;
  EXPECT_EQ(Names(t, kRootIno), (std::vector<std::string>{".", "..", "people", "plain"}));
  EXPECT_EQ(Cat(t, {"people", "key3", "n"}), "3\n");
  EXPECT_EQ(Cat(t, {"plain", "x", "n"}), "1\n");
  EXPECT_NE(Cat(t, {"people", "@info"}).find("\"shards\":2"), std::string::npos);
}

TEST(TreeDataset, AShardThatFailsToOpenMakesTheDatasetAnswerEio) {
  TempDir dir;
  ASSERT_EQ(::mkdir(dir.File("ds").c_str(), 0755), 0);
  const std::vector<std::string> files = BuildItemDataset(dir.File("ds"), 2, Items(5));
  ASSERT_EQ(::truncate(dir.File("ds/" + files[1]).c_str(), 100), 0);
  auto tree = Tree::Open(dir.path());
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  Tree& t = **tree;
  NodeAttr ds = Walk(t, {"ds"});
  EXPECT_TRUE(ds.is_dir);
  Result<NodeAttr> info = t.Lookup(ds.ino, "@info");
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.status().message().find(files[1]), std::string::npos)
      << info.status().ToString();
  EXPECT_FALSE(t.Lookup(ds.ino, "key1").ok());
  EXPECT_FALSE(t.ReadDir(ds.ino, 0, false, [](auto, auto&, auto) { return true; }).ok());
  // As the whole mount, it is refused.
  EXPECT_FALSE(Tree::Open(dir.File("ds")).ok());
}

TEST(TreeDataset, ANewManifestSwitchesEveryShardAtOnce) {
  TempDir dir;
  ASSERT_EQ(::mkdir(dir.File("ds").c_str(), 0755), 0);
  const std::vector<std::string> old_files = BuildItemDataset(dir.File("ds"), 3, Items(30));
  TreeOptions instant;  // a replaced version no open file holds goes at once
  instant.release_grace = std::chrono::milliseconds(0);
  auto tree = Tree::Open(dir.path(), instant);
  ASSERT_TRUE(tree.ok());
  Tree& t = **tree;
  // A reader opens a record's field and a shard's @segment of the old version.
  std::vector<uint64_t> held;
  auto walk = [&](const std::vector<std::string>& path) {
    uint64_t ino = kRootIno;
    for (const std::string& name : path) {
      Result<NodeAttr> a = t.Lookup(ino, name);
      EXPECT_TRUE(a.ok()) << name;
      if (!a.ok()) return ino;
      held.push_back(ino = a->ino);
    }
    return ino;
  };
  const uint64_t old_n = walk({"ds", "key7", "n"});
  const uint64_t old_seg = walk({"ds", "@shards", "1", "@segment"});
  uint64_t n_handle = 0, seg_handle = 0;
  ASSERT_TRUE(t.OpenNode(old_n, &n_handle).ok());
  ASSERT_TRUE(t.OpenNode(old_seg, &seg_handle).ok());
  const size_t versions = t.open_versions();
  EXPECT_EQ(versions, 4u) << "the dataset and its three shards";

  EXPECT_TRUE(t.Refresh(dir.File("ds"), "dataset.json").empty()) << "nothing changed yet";
  const std::vector<std::string> new_files = BuildItemDataset(dir.File("ds"), 2, Items(30, 1000));
  std::vector<Invalidation> changes = t.Refresh(dir.File("ds"), "dataset.json");
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes.back().parent, kRootIno);
  EXPECT_EQ(changes.back().name, "ds");
  EXPECT_EQ(t.verified_files(), 2u) << "both new shards verified before serving";

  // New lookups see only the new version, in every shard.
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(Cat(t, {"ds", "key" + std::to_string(i), "n"}), std::to_string(1000 + i) + "\n");
  }
  EXPECT_NE(Cat(t, {"ds", "@info"}).find("\"shards\":2"), std::string::npos);
  EXPECT_FALSE(t.Lookup(Walk(t, {"ds", "@shards"}).ino, "2").ok());
  // Open files keep reading the old version whole.
  EXPECT_EQ(ReadAll(t, old_n), "7\n");
  EXPECT_EQ(ReadAll(t, old_seg), ReadFileOrDie(dir.File("ds/" + old_files[1])));
  EXPECT_EQ(t.open_versions(), versions + 3) << "the old version is held while open";
  // The last close releases it and all its shards, whatever the kernel
  // still caches.
  t.ReleaseNode(n_handle);
  EXPECT_EQ(t.open_versions(), versions + 3) << "still open through a shard's @segment";
  t.ReleaseNode(seg_handle);
  EXPECT_EQ(t.open_versions(), 3u);
  for (uint64_t ino : held) t.Forget(ino, 1);
  EXPECT_EQ(Cat(t, {"ds", "key7", "n"}), "1007\n");
}

TEST(TreeDataset, AManifestNamingAMissingOrForeignShardIsRefused) {
  TempDir dir;
  ASSERT_EQ(::mkdir(dir.File("ds").c_str(), 0755), 0);
  const std::vector<std::string> files = BuildItemDataset(dir.File("ds"), 2, Items(10));
  auto tree = Tree::Open(dir.path());
  ASSERT_TRUE(tree.ok());
  Tree& t = **tree;
  const std::string good = ReadFileOrDie(dir.File("ds/dataset.json"));
  std::string missing = good;
  missing.replace(missing.find(files[1]), files[1].size(), "shard-gone.mapfs");
  WriteFileOrDie(dir.File("ds/.tmp"), missing);
  ASSERT_EQ(std::rename(dir.File("ds/.tmp").c_str(), dir.File("ds/dataset.json").c_str()), 0);
  EXPECT_TRUE(t.Refresh(dir.File("ds"), "dataset.json").empty());
  EXPECT_EQ(Cat(t, {"ds", "key4", "n"}), "4\n") << "still the previous version";
  // A shard of another build under a listed name.
  WriteFileOrDie(dir.File("ds/.tmp"), good);
  ASSERT_EQ(std::rename(dir.File("ds/.tmp").c_str(), dir.File("ds/dataset.json").c_str()), 0);
  Build(dir.File("ds/" + files[0] + ".x"), kItemSchema, "Item", {ItemLine("key0", 9)},
        CollectionKind::kMapping, "k");
  ASSERT_EQ(std::rename(dir.File("ds/" + files[0] + ".x").c_str(),
                        dir.File("ds/" + files[0]).c_str()), 0);
  EXPECT_TRUE(t.Refresh(dir.File("ds"), "dataset.json").empty());
  EXPECT_EQ(Cat(t, {"ds", "key0", "n"}), "0\n");
}

TEST(TreeDataset, RemovingADatasetsManifestRemovesItFromADirectorySource) {
  TempDir dir;
  ASSERT_EQ(::mkdir(dir.File("ds").c_str(), 0755), 0);
  BuildItemDataset(dir.File("ds"), 2, Items(4));
  auto tree = Tree::Open(dir.path());
  ASSERT_TRUE(tree.ok());
  Tree& t = **tree;
  EXPECT_EQ(Names(t, kRootIno), (std::vector<std::string>{".", "..", "ds"}));
  ASSERT_EQ(std::rename(dir.File("ds").c_str(), dir.File("moved").c_str()), 0);
  t.Refresh(dir.path(), "ds");
  EXPECT_EQ(Names(t, kRootIno), (std::vector<std::string>{".", ".."}));
  ASSERT_EQ(std::rename(dir.File("moved").c_str(), dir.File("ds2").c_str()), 0);
  t.Refresh(dir.path(), "ds2");
  EXPECT_EQ(Names(t, kRootIno), (std::vector<std::string>{".", "..", "ds2"}));
  EXPECT_EQ(Cat(t, {"ds2", "key2", "n"}), "2\n");
}

TEST(TreeDataset, LongKeysHaveIndexedNamesWithTheirDatasetOrdinal) {
  TempDir dir;
  std::vector<std::pair<std::string, int>> items = Items(12);
  for (int i = 0; i < 6; ++i) items.emplace_back(std::string(300, 'a' + i), 100 + i);
  BuildItemDataset(dir.path(), 3, items);
  auto tree = Tree::Open(dir.path());
  ASSERT_TRUE(tree.ok());
  Tree& t = **tree;
  std::set<uint64_t> ordinals;
  int long_names = 0;
  for (const std::string& name : Names(t, kRootIno)) {
    const size_t at = name.find("%~");
    if (at == std::string::npos) continue;
    ++long_names;
    ordinals.insert(std::stoull(name.substr(at + 2)));
    const std::string n = Cat(t, {name, "n"});
    const std::string k = Cat(t, {name, "k"});
    EXPECT_EQ(n, std::to_string(100 + (k[0] - 'a')) + "\n") << name;
    // The same key under another ordinal names nothing.
    std::string other = name;
    other.replace(at + 2, name.find('.', at) - at - 2, "17");
    if (other != name) {
      EXPECT_FALSE(t.Lookup(kRootIno, other).ok()) << other;
    }
  }
  EXPECT_EQ(long_names, 6);
  EXPECT_EQ(ordinals.size(), 6u) << "dataset-wide ordinals are unique";
  for (uint64_t o : ordinals) EXPECT_LT(o, 18u);
}

TEST(TreeDataset, ANamedSourceMayBeADataset) {
  TempDir dir;
  BuildItemDataset(dir.path(), 2, Items(6));
  auto tree = Tree::Open(std::vector<TreeSource>{{"items", dir.path(), "mounts.yaml:3:5"}});
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  Tree& t = **tree;
  EXPECT_EQ(Names(t, kRootIno), (std::vector<std::string>{".", "..", "items"}));
  EXPECT_EQ(Cat(t, {"items", "key5", "n"}), "5\n");
  const std::vector<std::string> watched = t.WatchedDirectories();
  EXPECT_NE(std::find(watched.begin(), watched.end(), dir.path()), watched.end());
  const std::vector<std::string> files = t.SourceFiles();
  EXPECT_EQ(files, std::vector<std::string>{dir.File("dataset.json")});
}

// Shards' slots are owned by their dataset's (VersionSlots::Install): their
// lookups count for the owner and they are freed with it, never before.
TEST(TreeDataset, OwnedSlotsCountForAndAreReleasedWithTheirOwner) {
  VersionSlots slots(8);
  auto version = [](const char* name) {
    auto v = std::make_shared<SourceVersion>();
    v->name = name;
    return std::shared_ptr<const SourceVersion>(std::move(v));
  };
  const uint32_t owner = slots.Install(version("dataset"));
  const uint32_t a = slots.Install(version("shard0"), owner);
  const uint32_t b = slots.Install(version("shard1"), owner);
  const uint32_t other = slots.Install(version("segment"));
  ASSERT_TRUE(slots.Open(b, slots.At(b).get()));  // a file of shard 1 is open
  slots.Count(a, 1);                               // the kernel holds a node of shard 0
  {
    std::unique_lock lock(slots.mutex());
    slots.RetireLocked(owner);
  }
  EXPECT_EQ(slots.open_versions(), 4u) << "held through shard 1's open file";
  ASSERT_NE(slots.At(a), nullptr) << "a shard lives as long as its dataset";
  slots.Close(b);
  EXPECT_EQ(slots.At(owner), nullptr);
  EXPECT_EQ(slots.At(a), nullptr);
  EXPECT_EQ(slots.At(b), nullptr);
  EXPECT_NE(slots.At(other), nullptr);
  EXPECT_EQ(slots.open_versions(), 1u);
  // Numbers the kernel still holds (shard 0's count for the dataset) keep
  // the dataset's and its shards' slots reserved until forgotten.
  EXPECT_EQ(slots.reserved_slots(), 4u);
  slots.Count(a, -1);
  EXPECT_EQ(slots.reserved_slots(), 1u);
}

}  // namespace
}  // namespace mapfs::fs
