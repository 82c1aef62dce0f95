// Lookups inside values (set Contains, dict Find) on damaged bytes: a value
// that cannot be read is an error, never an answer of "absent".
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "mapfs/record.h"
#include "test_util.h"

namespace mapfs {
namespace {

Value Pair(const std::string& s, int64_t n) { return Value::Tuple({Value::Str(s), Value::Int(n)}); }

// R {s: frozenset<tuple<str, int64>>} holding (aa, 1) ... (ee, 5), with the
// str ref of (bb, 2) pointing past the record: the element itself is found,
// its first member cannot be read.
class DamagedSet : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<Value> items;
    int n = 0;
    for (const char* k : {"aa", "bb", "cc", "dd", "ee"}) items.push_back(Pair(k, ++n));
    bytes_ = *Pack(schema_, 0, Value::Struct("R", {{"s", Value::FrozenSet(items)}}));
    // docs/format.md, "Records": a str body is its varint length and bytes.
    const size_t body = bytes_.find("\x02" "bb");
    ASSERT_NE(body, std::string::npos);
    const uint32_t ref = static_cast<uint32_t>(body);
    const size_t at = bytes_.find(std::string(reinterpret_cast<const char*>(&ref), 4));
    ASSERT_NE(at, std::string::npos);
    const uint32_t past = 0xfff0;
    std::memcpy(bytes_.data() + at, &past, 4);
  }
  Schema schema_ = testing::MakeSchema({{"R", "", {{"s", "frozenset<tuple<str, int64>>"}}}});
  std::string bytes_;
};

TEST_F(DamagedSet, ContainsReportsTheDamageInsteadOfAbsent) {
  auto rec = ViewRecord(schema_, 0, bytes_);
  ASSERT_TRUE(rec.ok()) << rec.status().ToString();
  auto set = rec->Field(0);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_TRUE(Verify(*rec).IsCorruption());
  // The search for (bb, 2) compares with the damaged element: no guessing.
  Result<bool> has = set->Contains(Pair("bb", 2));
  ASSERT_FALSE(has.ok()) << "answered " << *has;
  EXPECT_TRUE(has.status().IsCorruption()) << has.status().ToString();
  // A search that never reads the damaged element still answers.
  Result<bool> cc = set->Contains(Pair("cc", 3));
  ASSERT_TRUE(cc.ok()) << cc.status().ToString();
  EXPECT_TRUE(*cc);
}

TEST(RecordLookup, BitmapSetContainsLargeUnsigned) {
  Schema schema = testing::MakeSchema({{"R", "", {{"s", "frozenset<uint64>"}}}});
  std::vector<Value> items;
  for (uint64_t i = 1; i <= 20; ++i) items.push_back(Value::UInt(i));
  std::string bytes = *Pack(schema, 0, Value::Struct("R", {{"s", Value::FrozenSet(items)}}));
  auto rec = ViewRecord(schema, 0, bytes);
  ASSERT_TRUE(rec.ok());
  auto set = rec->Field(0);
  ASSERT_TRUE(set.ok());
  EXPECT_TRUE(*set->Contains(Value::UInt(7)));
  EXPECT_FALSE(*set->Contains(Value::UInt(21)));
  EXPECT_FALSE(*set->Contains(Value::UInt(UINT64_MAX)));
}

}  // namespace
}  // namespace mapfs
