// The mount serves nothing below a record that is not a tree: a crafted
// record whose list elements point back at the list itself (valid
// checksums) would otherwise list as directories 64 levels deep with 50
// entries each. The record's directory, field files and @json answer
// Corruption (EIO); every other record is served.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "mapfs/segment.h"
#include "segment_format.h"
#include "segment_reseal.h"
#include "test_util.h"
#include "tree_test_util.h"

namespace mapfs::fs {
namespace {

namespace sf = segment_format;
using testing::TempDir;

constexpr char kCycSchema[] = R"(structs:
  Cyc:
    fields: {id: int64, o: object}
)";
constexpr int kRecords = 20;
constexpr int kBad = 7;
constexpr int kElements = 50;

// An array of kRecords {id, o: a list of kElements empty lists}; record
// kBad's list then has every element point at the list itself. Returns the
// file offset of that record.
uint64_t BuildCyclic(const std::string& path) {
  std::vector<std::string> lines;
  std::string rest;
  for (int i = 1; i < kElements; ++i) rest += ",[]";
  for (int i = 0; i < kRecords; ++i) {
    // Each record's list differs (its first element holds the id), so none
    // is stored as a reference to an earlier record's.
    lines.push_back("{\"id\": " + std::to_string(i) + ", \"o\": [[" + std::to_string(i) + "]" +
                    rest + "]}");
  }
  Build(path, kCycSchema, "Cyc", lines);
  std::string bytes = testing::ReadFileOrDie(path);
  uint64_t at = 0;
  {
    Segment seg = Segment::Open(path).value();
    at = static_cast<uint64_t>(seg.RecordBytes(kBad).value().data() - seg.bytes().data());
  }
  // Struct: 1 bitmap byte, the int64 id, then the ref of `o`, whose object
  // body is tag 11 (list), varint count, then the element refs.
  uint32_t body = 0;
  std::memcpy(&body, bytes.data() + at + 1 + 8, 4);
  EXPECT_EQ(static_cast<uint8_t>(bytes[at + body]), 11);
  EXPECT_EQ(static_cast<uint8_t>(bytes[at + body + 1]), kElements);
  for (int i = 0; i < kElements; ++i) {
    std::memcpy(bytes.data() + at + body + 2 + 4 * i, &body, 4);
  }
  testing::ResealSegment(&bytes);
  testing::WriteFileOrDie(path, bytes);
  return at;
}

TEST(TreeRecordCheck, TheCraftedFileHasValidChecksumsAndFailsVerify) {
  TempDir dir;
  const uint64_t at = BuildCyclic(dir.File("c.mapfs"));
  Segment seg = Segment::Open(dir.File("c.mapfs")).value();
  EXPECT_TRUE(seg.VerifyChecksums().ok());
  Status st = seg.Verify();
  EXPECT_TRUE(st.IsCorruption());
  EXPECT_NE(st.message().find("offset " + std::to_string(at) + ": record 7: "),
            std::string::npos)
      << st.ToString();
}

TEST(TreeRecordCheck, ACyclicRecordAnswersCorruptionBelowItsDirectory) {
  TempDir dir;
  const uint64_t at = BuildCyclic(dir.File("c.mapfs"));
  auto tree = Tree::Open(dir.File("c.mapfs")).value();
  const std::string where = dir.File("c.mapfs") + ": record at offset " + std::to_string(at);

  // The collection lists it (a listing costs no pass over its records), and
  // its attributes resolve; listing it or anything below it does not.
  std::vector<std::string> names = Names(*tree, kRootIno);
  EXPECT_EQ(names.size(), 2u + 3u + kRecords);
  Result<NodeAttr> bad = tree->Lookup(kRootIno, std::to_string(kBad));
  ASSERT_TRUE(bad.ok()) << bad.status().ToString();
  Status list = tree->ReadDir(bad->ino, 0, false,
                              [](std::string_view, const NodeAttr&, uint64_t) { return true; });
  EXPECT_TRUE(list.IsCorruption()) << list.ToString();
  EXPECT_TRUE(list.message().starts_with(where)) << list.ToString();
  for (const char* f : {"o", "id", "@json"}) {
    Result<NodeAttr> a = tree->Lookup(bad->ino, f);
    ASSERT_FALSE(a.ok()) << f;
    EXPECT_TRUE(a.status().IsCorruption()) << f << ": " << a.status().ToString();
    EXPECT_TRUE(a.status().message().starts_with(where)) << a.status().ToString();
  }
  // Again: a record that failed is verified again (bounded), never marked.
  EXPECT_TRUE(tree->Lookup(bad->ino, "o").status().IsCorruption());

  // Every other record is a tree, served in full.
  for (int r = 0; r < kRecords; ++r) {
    if (r == kBad) continue;
    EXPECT_EQ(Cat(*tree, {std::to_string(r), "id"}), std::to_string(r) + "\n");
    NodeAttr o = Walk(*tree, {std::to_string(r), "o"});
    EXPECT_EQ(Names(*tree, o.ino).size(), 2u + 1u + kElements);  // ., .., @json, elements
    NodeAttr inner = Walk(*tree, {std::to_string(r), "o", "49"});
    EXPECT_EQ(Names(*tree, inner.ino), (std::vector<std::string>{".", "..", "@json"}));
  }
}

TEST(TreeRecordCheck, ANodeOfACyclicRecordKnownByInodeNumberIsRefusedToo) {
  // Inode numbers are a pure function of the node: a caller holding the
  // number of a deep node (as the kernel would after a walk) gets no
  // further than the check.
  TempDir dir;
  BuildCyclic(dir.File("c.mapfs"));
  auto tree = Tree::Open(dir.File("c.mapfs")).value();
  NodeAttr good = Walk(*tree, {"3", "o", "0"});
  // Record 7's node at the same path: the same number with record 3 -> 7.
  NodeId id = *DecodeCompact(good.ino);
  id.id = kBad;
  const uint64_t ino = EncodeCompact(id);
  ASSERT_NE(ino, 0u);
  Result<NodeAttr> a = tree->GetAttr(ino);
  EXPECT_TRUE(a.status().IsCorruption()) << a.status().ToString();
  Status list = tree->ReadDir(ino, 0, true,
                              [](std::string_view, const NodeAttr&, uint64_t) { return true; });
  EXPECT_TRUE(list.IsCorruption()) << list.ToString();
}

}  // namespace
}  // namespace mapfs::fs
