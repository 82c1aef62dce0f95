// KeyCodec and the shared key lookups: every key kind between text, raw bytes
// and Values, malformed text, array indexes, and the approximate multimap's
// filter of colliding keys.
#include "mapfs/key_codec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mapfs/segment_builder.h"
#include "segment_internal.h"
#include "test_util.h"

namespace mapfs {
namespace {

using testing::MakeSchema;

Schema KvSchema() {
  return MakeSchema({{"Kv", "", {{"name", "str"}, {"n", "uint32"}, {"pair", "tuple<str, int64>"},
                                 {"v", "int64"}, {"day", "date"}}}});
}

Value Kv(const std::string& name, uint64_t n, int64_t v) {
  return Value::Struct("Kv", {{"name", Value::Str(name)},
                              {"n", Value::UInt(n)},
                              {"pair", Value::Tuple({Value::Str(name), Value::Int(v)})},
                              {"v", Value::Int(v)},
                              {"day", Value::FromDate(Date{static_cast<int32_t>(19000 + v)})}});
}

class KeyCodecTest : public ::testing::Test {
 protected:
  Segment Build(CollectionKind kind, const char* key_field, const std::vector<Value>& values) {
    SegmentOptions o;
    o.kind = kind;
    if (key_field != nullptr) o.key_field = *schema_.struct_def(0).FindField(key_field);
    const std::string path = dir_.File("s" + std::to_string(++n_) + ".mapfs");
    auto b = SegmentBuilder::Create(path, schema_, 0, std::move(o));
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    EXPECT_TRUE((*b)->AddAll(values).ok());
    Status st = (*b)->Finish();
    EXPECT_TRUE(st.ok()) << st.ToString();
    auto seg = Segment::Open(path);
    EXPECT_TRUE(seg.ok()) << seg.status().ToString();
    return std::move(seg).value();
  }
  std::vector<Value> Values() {
    return {Kv("a", 10, 1), Kv("b", 20, 2), Kv("a", 30, 3), Kv("c", 40, 4)};
  }

  testing::TempDir dir_;
  Schema schema_ = KvSchema();
  int n_ = 0;
};

TEST(UIntKey, EncodesEightBytesLittleEndian) {
  const auto bytes = EncodeUIntKey(0x0102030405060708ULL);
  EXPECT_EQ(std::string(UIntKeyView(bytes)), std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8));
  EXPECT_EQ(DecodeUIntKey(UIntKeyView(bytes)), 0x0102030405060708ULL);
  EXPECT_EQ(DecodeUIntKey("1234567"), std::nullopt);
  EXPECT_EQ(DecodeUIntKey(UIntKeyView(EncodeUIntKey(UINT64_MAX))), UINT64_MAX);
}

TEST(ArrayIndex, DecimalAndNegativeFromTheEnd) {
  EXPECT_EQ(*ParseArrayIndex("0", 3), 0u);
  EXPECT_EQ(*ParseArrayIndex("2", 3), 2u);
  EXPECT_EQ(*ParseArrayIndex("-1", 3), 2u);
  EXPECT_EQ(*ParseArrayIndex("-3", 3), 0u);
  EXPECT_TRUE(ParseArrayIndex("3", 3).status().IsNotFound());
  EXPECT_TRUE(ParseArrayIndex("-4", 3).status().IsNotFound());
  EXPECT_TRUE(ParseArrayIndex("-0", 3).status().IsNotFound());
  EXPECT_TRUE(ParseArrayIndex("0", 0).status().IsNotFound());
  EXPECT_TRUE(ParseArrayIndex("99999999999999999999", 3).status().IsNotFound());
  for (const char* bad : {"", "-", "x", "1x", "+1", " 1", "1.0"}) {
    EXPECT_TRUE(ParseArrayIndex(bad, 3).status().IsInvalidArgument()) << bad;
  }
}

TEST_F(KeyCodecTest, StrKeysRoundTrip) {
  Segment seg = Build(CollectionKind::kMultiMap, "name", Values());
  KeyCodec codec(seg);
  auto raw = codec.FromText("a");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(*raw, "a");
  EXPECT_EQ(*codec.ToText(*raw), "a");
  EXPECT_EQ(*codec.ToValue(*raw), Value::Str("a"));
  EXPECT_EQ(*codec.FromValue(Value::Str("a")), "a");
  EXPECT_TRUE(codec.FromValue(Value::Int(1)).status().IsInvalidArgument());
  EXPECT_EQ(*FindRecords(seg, *raw), (std::vector<uint64_t>{0, 2}));
  EXPECT_TRUE(FindRecords(seg, "zz")->empty());
  EXPECT_TRUE(*ContainsKey(seg, "c"));
  EXPECT_FALSE(*ContainsKey(seg, "zz"));
}

TEST_F(KeyCodecTest, UIntKeysRoundTrip) {
  Segment seg = Build(CollectionKind::kMapping, "n", Values());
  ASSERT_EQ(seg.key_kind(), KeyKind::kUInt);
  KeyCodec codec(seg);
  auto raw = codec.FromText("30");
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  EXPECT_EQ(*raw, std::string(UIntKeyView(EncodeUIntKey(30))));
  EXPECT_EQ(*codec.ToText(*raw), "30");
  EXPECT_EQ(*codec.ToValue(*raw), Value::UInt(30));
  EXPECT_EQ(*codec.FromValue(Value::UInt(30)), *raw);
  EXPECT_EQ(*codec.FromValue(Value::Int(30)), *raw);
  EXPECT_TRUE(codec.FromValue(Value::Int(-1)).status().IsInvalidArgument());
  for (const char* bad : {"", "-1", "x", "1.5", "18446744073709551616"}) {
    Result<std::string> r = codec.FromText(bad);
    EXPECT_TRUE(r.status().IsInvalidArgument()) << bad;
    EXPECT_NE(r.status().message().find("not an unsigned integer"), std::string::npos);
  }
  // A mapping's key leads to its one record, by record id.
  EXPECT_EQ(*FindRecords(seg, *raw), (std::vector<uint64_t>{2}));
  EXPECT_EQ(*FindRecords(seg, *codec.FromText("40")), (std::vector<uint64_t>{3}));
  EXPECT_TRUE(FindRecords(seg, *codec.FromText("31"))->empty());
  EXPECT_TRUE(codec.ToText("short").status().IsCorruption());
}

TEST_F(KeyCodecTest, GenericKeysAreJson) {
  Segment seg = Build(CollectionKind::kMultiMap, "pair", Values());
  ASSERT_EQ(seg.key_kind(), KeyKind::kGeneric);
  KeyCodec codec(seg);
  auto raw = codec.FromText(R"(["a", 3])");
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  const Value pair = Value::Tuple({Value::Str("a"), Value::Int(3)});
  EXPECT_EQ(*codec.FromValue(pair), *raw);
  EXPECT_EQ(*codec.ToValue(*raw), pair);
  auto text = codec.ToText(*raw);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, R"(["a",3])");
  EXPECT_EQ(*codec.FromText(*text), *raw);
  EXPECT_EQ(*FindRecords(seg, *raw), (std::vector<uint64_t>{2}));

  Result<std::string> bad = codec.FromText("x");
  ASSERT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_NE(bad.status().message().find("key 'x': expected a JSON value of type tuple<str, int64>"),
            std::string::npos)
      << bad.status().message();
  EXPECT_TRUE(codec.FromText(R"(["a"])").status().IsInvalidArgument());
  EXPECT_TRUE(codec.FromValue(Value::Str("a")).status().IsInvalidArgument());
}

TEST_F(KeyCodecTest, GenericScalarKeysTakeBareStrings) {
  Segment seg = Build(CollectionKind::kMapping, "day", Values());
  KeyCodec codec(seg);
  const Value day = Value::FromDate(Date{19002});
  const std::string iso = Date{19002}.ToString();
  auto bare = codec.FromText(iso);
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  EXPECT_EQ(*codec.FromText("\"" + iso + "\""), *bare);
  EXPECT_EQ(*codec.FromValue(day), *bare);
  EXPECT_EQ(*codec.ToValue(*bare), day);
  EXPECT_EQ(*codec.ToText(*bare), "\"" + iso + "\"");
  EXPECT_EQ(*FindRecords(seg, *bare), (std::vector<uint64_t>{1}));

  Segment ints = Build(CollectionKind::kMapping, "v", Values());
  KeyCodec int_codec(ints);
  auto four = int_codec.FromText("4");
  ASSERT_TRUE(four.ok());
  EXPECT_EQ(*int_codec.ToText(*four), "4");
  EXPECT_EQ(*int_codec.ToValue(*four), Value::Int(4));
  EXPECT_EQ(*FindRecords(ints, *four), (std::vector<uint64_t>{3}));
  EXPECT_TRUE(int_codec.FromText("four").status().IsInvalidArgument());
}

TEST_F(KeyCodecTest, FindOfAValueOfAnotherTypeIsAnErrorNotAbsent) {
  Segment seg = Build(CollectionKind::kMapping, "pair", {Kv("a", 10, 1), Kv("b", 20, 2)});
  auto hit = seg.Find(Value::Tuple({Value::Str("b"), Value::Int(2)}));
  ASSERT_TRUE(hit.ok()) << hit.status().ToString();
  ASSERT_TRUE(hit->has_value());
  auto miss = seg.Find(Value::Tuple({Value::Str("b"), Value::Int(3)}));
  ASSERT_TRUE(miss.ok());
  EXPECT_FALSE(miss->has_value());
  // A str cannot be packed as a tuple<str, int64>: no answer, an error.
  auto wrong = seg.Find(Value::Str("b"));
  EXPECT_TRUE(wrong.status().IsInvalidArgument()) << wrong.status().ToString();
}

TEST_F(KeyCodecTest, ArraysHaveNoKeys) {
  Segment seg = Build(CollectionKind::kArray, nullptr, Values());
  KeyCodec codec(seg);
  EXPECT_TRUE(codec.FromText("a").status().IsInvalidArgument());
  EXPECT_TRUE(codec.ToText("a").status().IsInvalidArgument());
  EXPECT_TRUE(FindRecords(seg, "a").status().IsInvalidArgument());
}

// Every key hashes alike: one hash group holds every record.
uint64_t CollidingHash(const void*, size_t, uint64_t) { return 42; }

TEST_F(KeyCodecTest, ApproxMultimapKeepsOnlyTheKeysRecords) {
  internal::SetKeyHashForTesting(CollidingHash);
  Segment seg = Build(CollectionKind::kApproxMultiMap, "name", Values());
  ASSERT_EQ(seg.key_count(), 1u);
  auto candidates = seg.Candidates("a");
  ASSERT_TRUE(candidates.ok());
  EXPECT_EQ(candidates->size(), 4u);  // the filter below is needed
  EXPECT_EQ(*FindRecords(seg, "a"), (std::vector<uint64_t>{0, 2}));
  EXPECT_EQ(*FindRecords(seg, "b"), (std::vector<uint64_t>{1}));
  EXPECT_TRUE(FindRecords(seg, "zz")->empty());
  EXPECT_FALSE(*ContainsKey(seg, "zz"));
  EXPECT_TRUE(*ContainsKey(seg, "c"));
  internal::SetKeyHashForTesting(nullptr);
}

}  // namespace
}  // namespace mapfs
