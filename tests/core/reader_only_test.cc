// A reader-only client: this binary links mapfs_segment (and what it needs)
// but no builder, no JSON input, no simdjson and no Boost, so it fails to
// link if the reader ever depends on them. It reads the bundled sample as
// a mapping by name (tests/data/people_by_name.mapfs, written by
// `mapfs build --key name` from sample/).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "mapfs/key_codec.h"
#include "mapfs/segment.h"

namespace mapfs {
namespace {

std::string Sample() {
  std::ifstream in(std::string(MAPFS_TEST_DATA_DIR) + "/people_by_name.mapfs", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ReaderOnly, OpensVerifiesAndLooksUp) {
  const std::string bytes = Sample();
  ASSERT_FALSE(bytes.empty());
  auto seg = Segment::FromMemory(bytes.data(), bytes.size(), "people_by_name");
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  EXPECT_TRUE(seg->Verify().ok());
  EXPECT_EQ(seg->kind(), CollectionKind::kMapping);
  auto alan = FindRecords(*seg, "Alan Turing");
  ASSERT_TRUE(alan.ok()) << alan.status().ToString();
  ASSERT_EQ(*alan, std::vector<uint64_t>{1});
  auto rec = seg->Record(1);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->Field("age")->as_int(), 41);
  EXPECT_TRUE(FindRecords(*seg, "Nobody")->empty());
  const SegmentInfo info = seg->Info();
  ASSERT_NE(info.section("entries"), nullptr);
  EXPECT_EQ(info.section("entries")->size, 8 * seg->key_count());
  EXPECT_EQ(info.section("ranges"), nullptr);
  EXPECT_EQ(info.file_size, bytes.size());
}

}  // namespace
}  // namespace mapfs
