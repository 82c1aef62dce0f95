// The tree model of a mount (docs/layout.md) over real segments built in a temp
// dir: names, sizes, contents, listings and their offsets, and corruption.
#include "tree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "mapfs/json_input.h"
#include "mapfs/schema_yaml.h"
#include "mapfs/text_format.h"
#include "mapfs/segment_builder.h"
#include "test_util.h"
#include "tree_test_util.h"

namespace mapfs::fs {
namespace {

using mapfs::testing::TempDir;

class SampleTree : public ::testing::Test {
 protected:
  void SetUp() override {
    built_ = Build(dir_.File("people.mapfs"), SampleSchema(), "Person", SampleLines(),
                   CollectionKind::kMapping, "name");
    auto tree = Tree::Open(built_.path);
    ASSERT_TRUE(tree.ok()) << tree.status().ToString();
    tree_ = std::move(tree).value();
  }
  TempDir dir_;
  Built built_;
  std::unique_ptr<Tree> tree_;
};

TEST_F(SampleTree, CollectionListsReservedFilesThenKeys) {
  std::vector<std::string> names = Names(*tree_, kRootIno);
  ASSERT_GE(names.size(), 5u);
  EXPECT_EQ(std::vector<std::string>(names.begin(), names.begin() + 5),
            (std::vector<std::string>{".", "..", "@info", "@schema", "@segment"}));
  EXPECT_NE(std::find(names.begin(), names.end(), "Ada Lovelace"), names.end());
}

TEST_F(SampleTree, ScalarFieldsHaveTheirTextAndExactSize) {
  EXPECT_EQ(Cat(*tree_, {"Ada Lovelace", "id"}), "1\n");
  EXPECT_EQ(Cat(*tree_, {"Ada Lovelace", "age"}), "36\n");
  EXPECT_EQ(Cat(*tree_, {"Ada Lovelace", "score"}), "99.5\n");
  EXPECT_EQ(Cat(*tree_, {"Ada Lovelace", "active"}), "true\n");
  EXPECT_EQ(Cat(*tree_, {"Ada Lovelace", "born"}), "1815-12-10\n");
  EXPECT_EQ(Cat(*tree_, {"Ada Lovelace", "seen"}), "2024-05-06T07:08:09.123456Z\n");
  EXPECT_EQ(Cat(*tree_, {"Ada Lovelace", "balance"}), "1234.50\n");
  EXPECT_EQ(Cat(*tree_, {"Ada Lovelace", "name"}), "Ada Lovelace");
  EXPECT_EQ(Cat(*tree_, {"Ada Lovelace", "photo"}), Base64Decode("iVBORw0KGgo=").value());
  EXPECT_EQ(Cat(*tree_, {"Grace Hopper", "score"}), "NaN\n");
  EXPECT_EQ(Cat(*tree_, {"Alan Turing", "extra"}), "42\n");
}

TEST_F(SampleTree, ContainersAreDirectories) {
  EXPECT_TRUE(Walk(*tree_, {"Ada Lovelace", "home"}).is_dir);
  EXPECT_EQ(Cat(*tree_, {"Ada Lovelace", "home", "x"}), "51.5072\n");
  EXPECT_EQ(Cat(*tree_, {"Ada Lovelace", "aliases", "1"}), "Countess of Lovelace");
  EXPECT_EQ(Cat(*tree_, {"Ada Lovelace", "pair", "0"}), "x");
  EXPECT_EQ(Cat(*tree_, {"Ada Lovelace", "attrs", "field"}), "mathematics");
  EXPECT_EQ(Names(*tree_, Walk(*tree_, {"Ada Lovelace", "tags"}).ino),
            (std::vector<std::string>{".", "..", "@json", "1", "2", "3"}));
  EXPECT_EQ(Cat(*tree_, {"Ada Lovelace", "tags", "2"}), "2\n");
  // object: a dict whose list holds a null, which does not appear.
  EXPECT_EQ(Names(*tree_, Walk(*tree_, {"Ada Lovelace", "extra", "notes"}).ino),
            (std::vector<std::string>{".", "..", "@json", "0"}));
}

TEST_F(SampleTree, AbsentFieldsDoNotAppear) {
  std::vector<std::string> names = Names(*tree_, Walk(*tree_, {"Alan Turing"}).ino);
  EXPECT_EQ(std::find(names.begin(), names.end(), "photo"), names.end());
  EXPECT_TRUE(tree_->Lookup(Walk(*tree_, {"Alan Turing"}).ino, "photo").status().IsNotFound());
}

TEST_F(SampleTree, JsonIsTheRecordRendering) {
  Result<Segment> seg = Segment::Open(built_.path);
  ASSERT_TRUE(seg.ok());
  auto hit = seg->Find(std::string_view("Ada Lovelace"));
  ASSERT_TRUE(hit.ok() && hit->has_value());
  std::string expected;
  ASSERT_TRUE(RenderJson(seg->ViewOf((*hit)->record).value(), &expected).ok());
  EXPECT_EQ(Cat(*tree_, {"Ada Lovelace", "@json"}), expected + "\n");
  EXPECT_EQ(Cat(*tree_, {"Ada Lovelace", "home", "@json"}), "{\"x\":51.5072,\"y\":-0.1276}\n");
}

TEST_F(SampleTree, NdArrayIsANpyFile) {
  const std::string npy = Cat(*tree_, {"Ada Lovelace", "embedding"});
  ASSERT_GE(npy.size(), 128u);
  EXPECT_EQ(npy.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t header = 10 + static_cast<uint8_t>(npy[8]) + 256 * static_cast<uint8_t>(npy[9]);
  EXPECT_EQ(header % 64, 0u);
  EXPECT_NE(npy.find("'shape': (2, 2)"), std::string::npos);
  EXPECT_EQ(npy.size() - header, 16u);  // 4 float32
}

TEST_F(SampleTree, SegmentInfoAndSchemaFiles) {
  std::ifstream in(built_.path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(Cat(*tree_, {"@segment"}), ss.str());
  EXPECT_EQ(Cat(*tree_, {"@schema"}), built_.schema.ToYaml());
  const std::string info = Cat(*tree_, {"@info"});
  EXPECT_NE(info.find("\"kind\":\"mapping\""), std::string::npos);
  EXPECT_NE(info.find("\"record_count\":" + std::to_string(SampleLines().size())),
            std::string::npos);
}

TEST_F(SampleTree, ListingResumesAtEveryOffset) {
  for (uint64_t ino : {kRootIno, Walk(*tree_, {"Ada Lovelace"}).ino}) {
    std::vector<std::pair<std::string, uint64_t>> all;
    ASSERT_TRUE(tree_->ReadDir(ino, 0, false, [&](std::string_view n, const NodeAttr&,
                                                  uint64_t next) {
      all.emplace_back(std::string(n), next);
      return true;
    }).ok());
    uint64_t offset = 0;
    for (size_t i = 0; i < all.size(); ++i) {
      std::string first;
      uint64_t next = 0;
      ASSERT_TRUE(tree_->ReadDir(ino, offset, false, [&](std::string_view n, const NodeAttr&,
                                                         uint64_t nx) {
        first = n;
        next = nx;
        return false;  // take nothing: only see which entry comes next
      }).ok());
      EXPECT_EQ(first, all[i].first);
      offset = all[i].second;
    }
  }
}

TEST_F(SampleTree, ListedNamesLookUpToTheSameInode) {
  for (bool plus : {false, true}) {
    for (auto& [name, a] : List(*tree_, Walk(*tree_, {"Ada Lovelace"}).ino, plus)) {
      if (name == "." || name == "..") continue;
      Result<NodeAttr> b = tree_->Lookup(Walk(*tree_, {"Ada Lovelace"}).ino, name);
      ASSERT_TRUE(b.ok()) << name;
      EXPECT_EQ(b->ino, a.ino) << name;
      EXPECT_EQ(b->is_dir, a.is_dir) << name;
      // readdirplus gives every size but @json's, whose lookup renders it.
      EXPECT_EQ(a.no_entry, plus && name == "@json") << name;
      if (plus && !a.no_entry) {
        EXPECT_EQ(b->size, a.size) << name;
      }
    }
  }
}

TEST_F(SampleTree, MissingNamesAreNotFound) {
  EXPECT_TRUE(tree_->Lookup(kRootIno, "Nobody").status().IsNotFound());
  EXPECT_TRUE(tree_->Lookup(kRootIno, "@nothing").status().IsNotFound());
  EXPECT_TRUE(tree_->Lookup(Walk(*tree_, {"Ada Lovelace"}).ino, "nofield").status().IsNotFound());
  EXPECT_TRUE(
      tree_->Lookup(Walk(*tree_, {"Ada Lovelace", "aliases"}).ino, "9").status().IsNotFound());
  EXPECT_FALSE(tree_->Lookup(Walk(*tree_, {"Ada Lovelace", "age"}).ino, "x").ok());
}

constexpr char kKeyed[] = R"(structs:
  Item:
    fields: {k: str, n: int64, xs: list<int64>}
)";

std::string ItemLine(const std::string& json_key, int n) {
  return "{\"k\": " + json_key + ", \"n\": " + std::to_string(n) + "}";
}

// readdirplus hands the kernel attributes (an inode each) for the records
// of a collection it can walk, not for those of a huge one.
TEST(Tree, PlusListingsGiveRecordAttributesUpToAHugeCollection) {
  TempDir dir;
  const std::string schema = "structs:\n  R:\n    fields: {n: int64}\n";
  for (const size_t count : {size_t{300}, (size_t{1} << 18) + 1}) {
    std::vector<std::string> lines(count, "{\"n\": 1}");
    Built b = Build(dir.File(std::to_string(count) + ".mapfs"), schema, "R", lines);
    auto tree = Tree::Open(b.path);
    ASSERT_TRUE(tree.ok()) << tree.status().ToString();
    size_t with_attrs = 0, records = 0;
    for (auto& [name, a] : List(**tree, kRootIno, true)) {
      if (name == "." || name == ".." || name[0] == '@') {
        EXPECT_FALSE(a.no_entry) << name;
        continue;
      }
      ++records;
      EXPECT_TRUE(a.is_dir) << name;
      if (!a.no_entry) ++with_attrs;
      if (a.no_entry) {
        // Looked up when used, to the same inode.
        if (name == "0" || name == std::to_string(count - 1)) {
          Result<NodeAttr> l = (*tree)->Lookup(kRootIno, name);
          ASSERT_TRUE(l.ok());
          EXPECT_EQ(l->ino, a.ino);
          (*tree)->Forget(l->ino, 1);
        }
      }
    }
    EXPECT_EQ(records, count);
    EXPECT_EQ(with_attrs, count <= (size_t{1} << 18) ? count : 0) << count;
  }
}

TEST(Tree, HostileKeysRoundTripThroughListingAndLookup) {
  TempDir dir;
  const std::vector<std::string> keys = {"\"a/b\"", "\"%\"", "\".\"", "\"..\"", "\"@x\"", "\"\"",
                                         "\"" + std::string(300, 'k') + "\"", "\"line\\nbreak\"",
                                         "\"\\u0000nul\"", "\"caf\\u00e9\""};
  std::vector<std::string> lines;
  for (size_t i = 0; i < keys.size(); ++i) lines.push_back(ItemLine(keys[i], static_cast<int>(i)));
  Built b = Build(dir.File("k.mapfs"), kKeyed, "Item", lines, CollectionKind::kMapping, "k");
  auto tree = Tree::Open(b.path).value();
  std::set<int> seen;
  for (auto& [name, a] : List(*tree, kRootIno)) {
    if (name[0] == '.' || name[0] == '@') continue;
    EXPECT_LE(name.size(), 255u);
    EXPECT_EQ(name.find('/'), std::string::npos);
    Result<NodeAttr> rec = tree->Lookup(kRootIno, name);
    ASSERT_TRUE(rec.ok()) << name;
    EXPECT_EQ(rec->ino, a.ino);
    NodeAttr n = tree->Lookup(rec->ino, "n").value();
    seen.insert(std::stoi(ReadAll(*tree, n.ino)));
  }
  EXPECT_EQ(seen.size(), keys.size());
}

TEST(Tree, MultimapKeysHoldTheirRecordsInInputOrder) {
  TempDir dir;
  Built b = Build(dir.File("m.mapfs"), kKeyed, "Item",
                  {ItemLine("\"a\"", 1), ItemLine("\"b\"", 2), ItemLine("\"a\"", 3)},
                  CollectionKind::kMultiMap, "k");
  auto tree = Tree::Open(b.path).value();
  NodeAttr a = Walk(*tree, {"a"});
  EXPECT_EQ(Names(*tree, a.ino), (std::vector<std::string>{".", "..", "@json", "0", "1"}));
  EXPECT_EQ(Cat(*tree, {"a", "1", "n"}), "3\n");
  EXPECT_EQ(Cat(*tree, {"a", "@json"}),
            "[{\"k\":\"a\",\"n\":1,\"xs\":null},{\"k\":\"a\",\"n\":3,\"xs\":null}]\n");
}

TEST(Tree, ApproximateMapsLookUpButDoNotList) {
  TempDir dir;
  Built b = Build(dir.File("x.mapfs"), kKeyed, "Item",
                  {ItemLine("\"a\"", 1), ItemLine("\"b\"", 2), ItemLine("\"a\"", 3)},
                  CollectionKind::kApproxMultiMap, "k");
  auto tree = Tree::Open(b.path).value();
  EXPECT_EQ(Names(*tree, kRootIno),
            (std::vector<std::string>{".", "..", "@info", "@schema", "@segment"}));
  EXPECT_EQ(Cat(*tree, {"a", "0", "n"}), "1\n");
  EXPECT_EQ(Cat(*tree, {"a", "1", "n"}), "3\n");
  EXPECT_EQ(Cat(*tree, {"b", "0", "n"}), "2\n");
  EXPECT_TRUE(tree->Lookup(kRootIno, "zzz").status().IsNotFound());
}

TEST(Tree, DeepNodesAreRememberedOnlyWhileLookedUp) {
  TempDir dir;
  std::string xs = "[";
  for (int i = 0; i < 2000; ++i) xs += (i ? "," : "") + std::to_string(i * 2);
  xs += "]";
  Built b = Build(dir.File("d.mapfs"), kKeyed, "Item",
                  {"{\"k\": \"a\", \"n\": 1, \"xs\": " + xs + "}"});
  auto tree = Tree::Open(b.path).value();
  NodeAttr e = Walk(*tree, {"0", "xs", "1500"});
  EXPECT_FALSE(IsCompactIno(e.ino));
  EXPECT_EQ(ReadAll(*tree, e.ino), "3000\n");
  EXPECT_EQ(tree->remembered_nodes(), 1u);
  tree->Forget(e.ino, 1);
  EXPECT_EQ(tree->remembered_nodes(), 0u);
  EXPECT_EQ(List(*tree, Walk(*tree, {"0", "xs"}).ino).size(), 2003u);
  EXPECT_EQ(tree->remembered_nodes(), 0u);  // plain listings remember nothing
}

TEST(Tree, DirectoryOfSegmentsShowsOneCollectionEach) {
  TempDir dir;
  Build(dir.File("one.mapfs"), kKeyed, "Item", {ItemLine("\"a\"", 1)});
  Build(dir.File("two.mapfs"), kKeyed, "Item", {ItemLine("\"b\"", 2)}, CollectionKind::kMapping,
        "k");
  testing::WriteFileOrDie(dir.File("bad.mapfs"), "not a segment");
  testing::WriteFileOrDie(dir.File("notes.txt"), "ignored");
  auto tree = Tree::Open(dir.path()).value();
  EXPECT_EQ(Names(*tree, kRootIno), (std::vector<std::string>{".", "..", "bad", "one", "two"}));
  EXPECT_EQ(Cat(*tree, {"one", "0", "n"}), "1\n");
  EXPECT_EQ(Cat(*tree, {"two", "b", "n"}), "2\n");
  NodeAttr bad = Walk(*tree, {"bad"});
  EXPECT_TRUE(bad.is_dir);
  EXPECT_TRUE(tree->Lookup(bad.ino, "0").status().IsCorruption());
}

// One record's bytes overwritten in place (the file still opens: blocks are
// checked when a read first touches them). That record, and only the records
// sharing its 64 KiB block, answer EIO, naming the file and the block
// (docs/format.md, "Block checksums"); every other record and the
// collection's own files are served unchanged.
TEST(Tree, ACorruptRecordGivesCorruptionAndTheOthersStillServe) {
  constexpr int kRecords = 150;
  TempDir dir;
  // ~2 KiB a record: 150 records span five blocks.
  std::string many = "[";
  for (int j = 0; j < 500; ++j) many += std::to_string(j * 1000003) + ",";
  std::vector<std::string> lines;
  for (int i = 0; i < kRecords; ++i) {
    lines.push_back("{\"k\": \"key" + std::to_string(i) + "\", \"n\": " + std::to_string(i) +
                    ", \"xs\": " + many + "1, 2, 3, " + std::to_string(i * 1000) + "]}");
  }
  Built b = Build(dir.File("c.mapfs"), kKeyed, "Item", lines);
  // In a middle block: not the schema's (checked at open), not the record
  // offsets' (read for every record).
  constexpr int kBad = 75;
  std::string bytes = testing::ReadFileOrDie(b.path);
  std::vector<std::pair<uint64_t, uint64_t>> blocks_of(kRecords);  // first, last
  size_t at = 0, size = 0;
  uint64_t offsets_block = 0;
  {
    Segment seg = Segment::Open(b.path).value();
    const SegmentInfo info = seg.Info();
    offsets_block = info.section("record_offsets")->offset >> 16;
    for (int r = 0; r < kRecords; ++r) {
      std::string_view record = seg.RecordBytes(r).value();
      const size_t rat = static_cast<size_t>(record.data() - seg.bytes().data());
      blocks_of[r] = {(rat - 16) >> 16, (rat + record.size() - 1) >> 16};  // with item header
      if (r == kBad) at = rat, size = record.size();
    }
  }
  ASSERT_GT(size, 0u);
  for (size_t i = at + size - 16; i < at + size; ++i) bytes[i] = '\xff';
  const uint64_t bad_block = (at + size - 1) >> 16;
  ASSERT_GT(bad_block, 0u);
  ASSERT_LT(bad_block, offsets_block);
  testing::WriteFileOrDie(b.path, bytes);
  auto opened = Tree::Open(b.path);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Tree& tree = **opened;

  // The record's own directory already reads its bytes: the lookup fails
  // with Corruption naming the file and the block.
  const std::string where = b.path + ": offset ";
  const std::string why = "checksum mismatch in block " + std::to_string(bad_block) + " (bytes ";
  Result<NodeAttr> bad = tree.Lookup(kRootIno, std::to_string(kBad));
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsCorruption()) << bad.status().ToString();
  EXPECT_TRUE(bad.status().message().starts_with(where)) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find(why), std::string::npos) << bad.status().ToString();

  int served = 0;
  for (int r = 0; r < kRecords; ++r) {
    if (blocks_of[r].first <= bad_block && bad_block <= blocks_of[r].second) continue;
    const std::string name = std::to_string(r);
    EXPECT_EQ(Cat(tree, {name, "n"}), std::to_string(r) + "\n");
    EXPECT_EQ(Cat(tree, {name, "k"}), "key" + std::to_string(r));
    EXPECT_EQ(Cat(tree, {name, "xs", "503"}), std::to_string(r * 1000) + "\n");
    ++served;
  }
  EXPECT_GE(served, kRecords / 2);
  for (const char* f : {"@info", "@schema"}) {
    NodeAttr a = Walk(tree, {f});
    ReadReply reply;
    EXPECT_TRUE(tree.Read(a.ino, 0, 1 << 16, &reply).ok()) << f;
    EXPECT_EQ(reply.size(), a.size) << f;
  }
}

}  // namespace
}  // namespace mapfs::fs
