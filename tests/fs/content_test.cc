// File sizes of scalar values: computed without rendering where the text's
// length follows from the value, and always equal to the rendered text's.
#include "content.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "mapfs/schema_yaml.h"
#include "mapfs/segment.h"
#include "mapfs/segment_builder.h"
#include "test_util.h"

namespace mapfs::fs {
namespace {

using mapfs::testing::TempDir;

constexpr const char* kSchema = R"(structs:
  S:
    fields:
      i8: int8
      i16: int16
      i32: int32
      i64: int64
      u8: uint8
      u16: uint16
      u32: uint32
      u64: uint64
      b: bool
      d: date
      t: datetime
      f32: float32
      f64: float64
      dec: decimal
)";

// Values at the edges of every type and their neighbours, then random ones
// of every magnitude.
std::vector<Value> Records() {
  std::vector<Value> out;
  std::mt19937_64 rng(7);
  auto any64 = [&] { return rng() >> (rng() % 64); };
  auto signed64 = [&] {
    const int64_t v = static_cast<int64_t>(any64());
    return rng() % 2 ? v : -v;
  };
  const int64_t kMicrosPerDay = int64_t{86400} * 1000000;
  for (int i = 0; i < 4000; ++i) {
    int64_t s;
    uint64_t u;
    int32_t days;
    int64_t micros;
    switch (i) {
      case 0: s = std::numeric_limits<int64_t>::min(); u = 0; days = 0; micros = 0; break;
      case 1: s = std::numeric_limits<int64_t>::max(); u = std::numeric_limits<uint64_t>::max();
              days = -719162; micros = -719162 * kMicrosPerDay; break;  // 0001-01-01
      case 2: s = -1; u = 9; days = 2932896; micros = 2932897 * kMicrosPerDay - 1; break;
      case 3: s = -10; u = 10; days = -719163; micros = -719162 * kMicrosPerDay - 1; break;
      case 4: s = 9; u = 99; days = 2932897; micros = 2932897 * kMicrosPerDay; break;
      case 5: s = -9; u = 100; days = std::numeric_limits<int32_t>::min();
              micros = std::numeric_limits<int64_t>::min() / 2; break;
      case 6: s = 10; u = 999; days = std::numeric_limits<int32_t>::max();
              micros = std::numeric_limits<int64_t>::max() / 2; break;
      default:
        s = signed64();
        u = any64();
        // Mostly years 1..9999, some far outside.
        days = static_cast<int32_t>(rng() % 10 ? static_cast<int64_t>(rng() % 3652059) - 719162
                                               : static_cast<int32_t>(rng()));
        micros = rng() % 10 ? (static_cast<int64_t>(rng() % 3652059) - 719162) * kMicrosPerDay +
                                  static_cast<int64_t>(rng() % kMicrosPerDay) /
                                      (rng() % 2 ? 1 : 1000000) * (rng() % 2 ? 1 : 1000000)
                            : signed64();
        break;
    }
    Result<Decimal> dec = Decimal::Parse(std::to_string(s) + ".5");
    EXPECT_TRUE(dec.ok());
    out.push_back(Value::Struct(
        "S", {{"i8", Value::Int(static_cast<int8_t>(s))},
              {"i16", Value::Int(static_cast<int16_t>(s))},
              {"i32", Value::Int(static_cast<int32_t>(s))},
              {"i64", Value::Int(s)},
              {"u8", Value::UInt(static_cast<uint8_t>(u))},
              {"u16", Value::UInt(static_cast<uint16_t>(u))},
              {"u32", Value::UInt(static_cast<uint32_t>(u))},
              {"u64", Value::UInt(u)},
              {"b", Value::Bool(i % 2 == 0)},
              {"d", Value::FromDate(Date{days})},
              {"t", Value::FromDateTime(DateTime{micros})},
              {"f32", Value::Float(static_cast<double>(static_cast<float>(s) / 3))},
              {"f64", Value::Float(static_cast<double>(s) / 7)},
              {"dec", Value::FromDecimal(*dec)}}));
  }
  return out;
}

TEST(Content, FileSizeOfEveryScalarTypeIsItsRenderedSize) {
  TempDir dir;
  Result<Schema> schema = ParseSchemaYaml(kSchema, "schema.yaml");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  const int root = *schema->FindStruct("S");
  const std::string path = dir.File("s.mapfs");
  auto builder = SegmentBuilder::Create(path, *schema, root, SegmentOptions{});
  ASSERT_TRUE(builder.ok()) << builder.status().ToString();
  const std::vector<Value> records = Records();
  for (const Value& v : records) {
    Status st = (*builder)->Add(v);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  ASSERT_TRUE((*builder)->Finish().ok());
  Result<Segment> seg = Segment::Open(path);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  const StructDef& def = schema->struct_def(root);
  size_t computed = 0;
  for (uint64_t r = 0; r < seg->record_count(); ++r) {
    Result<View> rec = seg->Record(r);
    ASSERT_TRUE(rec.ok());
    for (int f = 0; f < static_cast<int>(def.fields.size()); ++f) {
      Result<View> v = rec->Field(f);
      ASSERT_TRUE(v.ok());
      std::string text;
      ASSERT_TRUE(AppendFieldText(*v, &text).ok());
      Result<uint64_t> size = FileSize(*v);
      ASSERT_TRUE(size.ok());
      EXPECT_EQ(*size, text.size()) << def.fields[f].name << " of record " << r << ": " << text;
      std::optional<uint64_t> n = TextSizeOf(*v);
      if (n) {
        ++computed;
        EXPECT_EQ(*n + 1, text.size()) << def.fields[f].name << ": " << text;
      }
      // Ints and bools are always computed; dates and datetimes with a
      // four-digit year too.
      const TypeKind k = v->kind();
      if (IsIntKind(k) || k == TypeKind::kBool) {
        EXPECT_TRUE(n) << def.fields[f].name;
      }
      if ((k == TypeKind::kDate || k == TypeKind::kDateTime) && text[0] != '-' &&
          text[4] == '-') {
        EXPECT_TRUE(n) << def.fields[f].name << ": " << text;
      }
    }
  }
  EXPECT_GT(computed, records.size() * 9);
}

}  // namespace
}  // namespace mapfs::fs
