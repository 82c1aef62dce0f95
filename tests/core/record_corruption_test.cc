// Corrupt and hostile record bytes: every truncation and byte flip of a real
// record, and hand-made cyclic and exponentially shared records, must give a
// clean status (or a valid reading), never a crash or a hang. Run under ASan.
#include <gtest/gtest.h>

#include <cstring>

#include "mapfs/record.h"
#include "record_test_data.h"
#include "test_util.h"

namespace mapfs {
namespace {

// Touches everything reachable lazily (bounded), then the whole-value walks.
void Exercise(const Schema& schema, int struct_index, std::string_view bytes) {
  auto rec = ViewRecord(schema, struct_index, bytes);
  if (!rec.ok()) {
    EXPECT_TRUE(rec.status().IsCorruption()) << rec.status().ToString();
    return;
  }
  std::function<void(const View&, int)> walk = [&](const View& v, int depth) {
    if (v.is_null() || depth > 4) return;
    switch (v.kind()) {
      case TypeKind::kStruct:
        for (size_t i = 0; i < v.size(); ++i) {
          auto f = v.Field(static_cast<int>(i));
          if (f.ok()) walk(*f, depth + 1);
        }
        break;
      case TypeKind::kList: case TypeKind::kTuple: case TypeKind::kFrozenSet:
        for (size_t i = 0; i < v.size() && i < 16; ++i) {
          auto e = v.At(i);
          if (e.ok()) walk(*e, depth + 1);
        }
        if (v.kind() == TypeKind::kFrozenSet) {
          (void)v.Contains(int64_t{2});
          (void)v.Contains(std::string_view("x"));
        }
        break;
      case TypeKind::kDict:
        (void)v.Find(std::string_view("a"));
        for (size_t i = 0; i < v.size() && i < 16; ++i) {
          auto k = v.KeyAt(i);
          auto val = v.ValueAt(i);
          if (k.ok()) walk(*k, depth + 1);
          if (val.ok()) walk(*val, depth + 1);
        }
        break;
      case TypeKind::kStr: case TypeKind::kBytes: (void)v.as_bytes().size(); break;
      case TypeKind::kDecimal: (void)v.as_decimal(); break;
      case TypeKind::kNdArray:
        (void)v.ndarray_data();
        if (v.ndim()) (void)v.dim(v.ndim() - 1);
        break;
      default: break;
    }
  };
  walk(*rec, 0);
  std::string json;
  Status verified = Verify(*rec);
  Status rendered = RenderJson(*rec, &json);
  auto materialized = Materialize(*rec);
  // Render and Materialize verify first, so all three agree.
  EXPECT_EQ(verified.ok(), rendered.ok());
  EXPECT_EQ(verified.ok(), materialized.ok());
  if (!verified.ok()) {
    EXPECT_TRUE(verified.IsCorruption()) << verified.ToString();
  }
}

class RecordCorruption : public ::testing::Test {
 protected:
  Schema schema_ = testing_data::PersonSchema();
  int person_ = *schema_.FindStruct("Person");
  std::string good_ = *Pack(schema_, person_, testing_data::SamplePerson());
};

TEST_F(RecordCorruption, EveryTruncationFailsCleanly) {
  for (size_t len = 0; len < good_.size(); ++len) {
    // A copy of exactly `len` bytes, so ASan sees any read past it.
    std::unique_ptr<char[]> copy(new char[len + 1]);
    std::memcpy(copy.get(), good_.data(), len);
    Exercise(schema_, person_, std::string_view(copy.get(), len));
  }
}

TEST_F(RecordCorruption, EveryByteFlipFailsCleanlyOrReadsValidly) {
  for (size_t i = 0; i < good_.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80, 0xff}) {
      std::string bad = good_;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      Exercise(schema_, person_, bad);
    }
  }
}

TEST_F(RecordCorruption, CyclicRefsAreRejectedNotFollowedForever) {
  // R {v: list<object>} whose list holds one ref back to an object list that
  // contains itself: [ [ [ ... ] ] ].
  Schema schema = testing::MakeSchema({{"R", "", {{"v", "list<object>"}}}});
  std::string bytes("\x01\x05\0\0\0"      // bitmap, ref v -> 5
                    "\x01\x0a\0\0\0"      // list: count 1, ref -> 10
                    "\x0b\x01\x0a\0\0\0",  // object list tag, count 1, ref -> 10 (itself)
                    16);
  auto rec = ViewRecord(schema, 0, bytes);
  ASSERT_TRUE(rec.ok());
  Status st = Verify(*rec);
  EXPECT_TRUE(st.IsCorruption()) << st.ToString();
  std::string json;
  EXPECT_FALSE(RenderJson(*rec, &json).ok());
}

TEST_F(RecordCorruption, ExponentialSharingIsRejectedInLinearTime) {
  // 40 levels of an object list whose two elements both point to the level
  // below: 2^40 paths over a few hundred bytes.
  Schema schema = testing::MakeSchema({{"R", "", {{"v", "object"}}}});
  std::string bytes("\x01\0\0\0\0", 5);
  uint32_t below = 0;
  std::vector<uint32_t> levels;
  std::string body;
  uint32_t leaf = static_cast<uint32_t>(bytes.size());
  bytes += std::string("\x03\x02", 2);  // object int 1
  below = leaf;
  for (int level = 0; level < 40; ++level) {
    uint32_t at = static_cast<uint32_t>(bytes.size());
    bytes += std::string("\x0b\x02", 2);
    bytes.append(reinterpret_cast<const char*>(&below), 4);
    bytes.append(reinterpret_cast<const char*>(&below), 4);
    below = at;
  }
  std::memcpy(bytes.data() + 1, &below, 4);
  auto rec = ViewRecord(schema, 0, bytes);
  ASSERT_TRUE(rec.ok());
  EXPECT_TRUE(Verify(*rec).IsCorruption());
}

TEST_F(RecordCorruption, DecimalDigitCountNearTwoToTheSixtyFourIsCorruption) {
  // A digit count of 2^64-1 once wrapped the "digits fit" check to zero bytes
  // and then asked for a string of that length.
  Schema schema = testing::MakeSchema({{"R", "", {{"d", "decimal"}}}});
  std::string bytes("\x01\x05\0\0\0"                                     // bitmap, ref d -> 5
                    "\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"  // finite, exp 0, ndigits
                    "\x12",
                    18);
  auto rec = ViewRecord(schema, 0, bytes);
  ASSERT_TRUE(rec.ok());
  auto f = rec->Field(0);
  ASSERT_FALSE(f.ok());
  EXPECT_TRUE(f.status().IsCorruption()) << f.status().ToString();
  EXPECT_TRUE(Verify(*rec).IsCorruption());
}

TEST_F(RecordCorruption, RefPastTheEndIsCorruption) {
  Schema schema = testing::MakeSchema({{"R", "", {{"s", "str"}}}});
  std::string bytes("\x01\xff\0\0\0", 5);
  auto rec = ViewRecord(schema, 0, bytes);
  ASSERT_TRUE(rec.ok());
  auto f = rec->Field(0);
  ASSERT_FALSE(f.ok());
  EXPECT_TRUE(f.status().IsCorruption());
  EXPECT_NE(f.status().message().find("offset 255"), std::string::npos);
}

}  // namespace
}  // namespace mapfs
