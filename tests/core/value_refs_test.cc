// Value references (docs/format.md, "Value references"): repeated values are
// stored once per segment, read back transparently, built deterministically,
// and a bad reference is refused.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <string>
#include <vector>

#include "mapfs/json_input.h"
#include "mapfs/key_codec.h"
#include "mapfs/record.h"
#include "mapfs/segment.h"
#include "mapfs/segment_builder.h"
#include "segment_format.h"
#include "segment_reseal.h"
#include "test_util.h"

namespace mapfs {
namespace {

using testing::MakeSchema;
using testing::ReadFileOrDie;
using testing::TempDir;

Schema RecSchema() {
  return MakeSchema({{"Loc", "", {{"city", "str"}, {"lat", "float64"}, {"zip", "str"}}},
                     {"Rec",
                      "",
                      {{"id", "uint64"},
                       {"category", "str"},
                       {"paths", "list<str>"},
                       {"loc", "Loc"},
                       {"emb", "ndarray<float32>"},
                       {"blob", "bytes"},
                       {"price", "decimal"},
                       {"extra", "object"},
                       {"counts", "dict<str, int64>"}}}});
}

// Record i of a dataset whose fields each take `distinct` values.
Value Rec(uint64_t i, uint64_t distinct) {
  const uint64_t k = (i * 7919 + 13) % distinct;
  // Few categories and cities unless every value is to be distinct.
  const uint64_t few = distinct > 100000 ? k : k % 50;
  NdArray emb;
  emb.dtype = DType::kFloat32;
  emb.shape = {64};
  for (int j = 0; j < 64; ++j) {
    float f = static_cast<float>(k * 64 + j);
    emb.data.append(reinterpret_cast<const char*>(&f), 4);
  }
  std::vector<Value> paths;
  for (uint64_t j = 0; j < 3; ++j) {
    paths.push_back(Value::Str("/data/path/" + std::to_string((k + j) % distinct) + "/file"));
  }
  Decimal d;
  d.digits = std::to_string(1000000007 + k);
  d.exponent = -2;
  return Value::Struct(
      "Rec",
      {{"id", Value::UInt(i)},
       {"category", Value::Str("category number " + std::to_string(few))},
       {"paths", Value::List(std::move(paths))},
       {"loc", Value::Struct("Loc", {{"city", Value::Str("city of " + std::to_string(few))},
                                     {"lat", Value::Float(k * 0.25)},
                                     {"zip", Value::Str("zip-" + std::to_string(k))}})},
       {"emb", Value::FromNdArray(std::move(emb))},
       {"blob", Value::Bytes(std::string(300, static_cast<char>('a' + k % 26)) +
                             std::to_string(k))},
       {"price", Value::FromDecimal(d)},
       {"extra", Value::List({Value::Str("tag " + std::to_string(k)), Value::Int(k)})},
       {"counts", Value::Dict({{Value::Str("seen " + std::to_string(few)),
                                Value::Int(static_cast<int64_t>(k))},
                               {Value::Str("total " + std::to_string(few)), Value::Int(7)}})}});
}

uint64_t FileSize(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return static_cast<uint64_t>(st.st_size);
}

void Build(const std::string& path, const Schema& schema, const std::vector<Value>& records,
           SegmentOptions opt) {
  auto b = SegmentBuilder::Create(path, schema, *schema.FindStruct("Rec"), std::move(opt));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  for (const Value& v : records) ASSERT_TRUE((*b)->Add(v).ok());
  ASSERT_TRUE((*b)->Finish().ok());
}

SegmentOptions Dedup(size_t bytes) {
  SegmentOptions o;
  o.dedup_memory = bytes;
  return o;
}

// Every record reads back as its standalone packed form does (the same
// Value and the same JSON), and the file verifies.
void ExpectRoundTrip(const std::string& path, const std::vector<Value>& records) {
  auto seg = Segment::Open(path);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  ASSERT_EQ(seg->record_count(), records.size());
  ASSERT_TRUE(seg->Verify().ok()) << seg->Verify().ToString();
  const Schema& schema = seg->schema();
  const int root = seg->root_struct_index();
  for (uint64_t i = 0; i < records.size(); ++i) {
    auto v = seg->Record(i);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    auto m = Materialize(*v);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    auto packed = Pack(schema, root, records[i]);
    ASSERT_TRUE(packed.ok());
    auto expected = Materialize(*ViewRecord(schema, root, *packed));
    ASSERT_TRUE(expected.ok());
    ASSERT_TRUE(*m == *expected) << "record " << i;
    std::string json, expected_json;
    ASSERT_TRUE(RenderJson(*v, &json).ok());
    ASSERT_TRUE(RenderJson(*ViewRecord(schema, root, *packed), &expected_json).ok());
    ASSERT_EQ(json, expected_json) << "record " << i;
  }
}

// Compares files without printing megabytes on a mismatch.
void ExpectSameFile(const std::string& a, const std::string& b) {
  EXPECT_TRUE(ReadFileOrDie(a) == ReadFileOrDie(b)) << a << " and " << b << " differ";
}

// Records whose fields are all inline or short strings have nothing to share:
// the value table stores them exactly as the packer made them.
TEST(ValueRefs, RecordsWithNothingToShareAreStoredAsPacked) {
  TempDir dir;
  Schema schema = MakeSchema(
      {{"Rec", "", {{"name", "str"}, {"id", "uint64"}, {"score", "float64"}, {"city", "str"}}}});
  const char* cities[] = {"Lisbon", "Oslo", "Quito", "Nairobi"};
  std::vector<Value> records;
  for (uint64_t i = 0; i < 2000; ++i) {
    records.push_back(Value::Struct("Rec", {{"name", Value::Str("n" + std::to_string(i))},
                                            {"id", Value::UInt(i)},
                                            {"score", Value::Float(i / 8.0)},
                                            {"city", Value::Str(cities[i % 4])}}));
  }
  Build(dir.File("on.mapfs"), schema, records, Dedup(size_t{64} << 20));
  Build(dir.File("off.mapfs"), schema, records, Dedup(0));
  ExpectSameFile(dir.File("on.mapfs"), dir.File("off.mapfs"));
  ExpectRoundTrip(dir.File("on.mapfs"), records);
}

TEST(ValueRefs, RepeatedFieldValuesShrinkTheFile) {
  TempDir dir;
  const Schema schema = RecSchema();
  std::vector<Value> repeated, distinct;
  for (uint64_t i = 0; i < 3000; ++i) {
    repeated.push_back(Rec(i, 200));
    distinct.push_back(Rec(i, 1u << 30));
  }
  Build(dir.File("rep.mapfs"), schema, repeated, Dedup(64 << 20));
  Build(dir.File("rep0.mapfs"), schema, repeated, Dedup(0));
  Build(dir.File("dist.mapfs"), schema, distinct, Dedup(64 << 20));
  Build(dir.File("dist0.mapfs"), schema, distinct, Dedup(0));
  const uint64_t rep = FileSize(dir.File("rep.mapfs")), rep0 = FileSize(dir.File("rep0.mapfs"));
  EXPECT_LT(rep * 4, rep0) << rep << " vs " << rep0;
  // Nothing repeats: no reference, no feature bit, no byte more.
  EXPECT_EQ(FileSize(dir.File("dist.mapfs")), FileSize(dir.File("dist0.mapfs")));
  auto rep_seg = Segment::Open(dir.File("rep.mapfs"));
  auto dist_seg = Segment::Open(dir.File("dist.mapfs"));
  ASSERT_TRUE(rep_seg.ok() && dist_seg.ok());
  EXPECT_EQ(rep_seg->Info().incompat_features,
            segment_format::kFeatureBlockChecksums | segment_format::kFeatureValueReferences);
  EXPECT_EQ(dist_seg->Info().incompat_features, segment_format::kFeatureBlockChecksums);
  EXPECT_EQ(rep_seg->minor_version(), 1);
  ExpectRoundTrip(dir.File("rep.mapfs"), repeated);
  ExpectRoundTrip(dir.File("dist.mapfs"), distinct);
}

TEST(ValueRefs, LargeRepeatedValuesAreStoredOnce) {
  TempDir dir;
  const Schema schema = MakeSchema({{"Rec", "", {{"id", "uint64"}, {"b", "bytes"}, {"s", "str"}}}});
  std::string bytes(16384, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 31);
  std::vector<Value> records;
  for (uint64_t i = 0; i < 300; ++i) {
    records.push_back(Value::Struct("Rec", {{"id", Value::UInt(i)},
                                            {"b", Value::Bytes(bytes)},
                                            {"s", Value::Str(std::string(16384, 's'))}}));
  }
  Build(dir.File("on.mapfs"), schema, records, Dedup(64 << 20));
  Build(dir.File("off.mapfs"), schema, records, Dedup(0));
  EXPECT_LT(FileSize(dir.File("on.mapfs")), 1u << 20);
  EXPECT_GT(FileSize(dir.File("off.mapfs")), 9u << 20);
  ExpectRoundTrip(dir.File("on.mapfs"), records);
  // The str of record 299 is record 0's bytes in the mapped file.
  auto seg = Segment::Open(dir.File("on.mapfs"));
  ASSERT_TRUE(seg.ok());
  auto first = seg->Record(0)->Field("s");
  auto last = seg->Record(299)->Field("s");
  ASSERT_TRUE(first.ok() && last.ok());
  EXPECT_EQ(first->as_str().data(), last->as_str().data());
}

// The example of docs/format.md ("Value references"), byte for byte.
TEST(ValueRefs, SpecExample) {
  TempDir dir;
  const Schema schema = MakeSchema({{"R", "", {{"name", "str"}, {"tags", "frozenset<int64>"}}}});
  auto b = SegmentBuilder::Create(dir.File("r.mapfs"), schema, 0, SegmentOptions());
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE((*b)->Add(Value::Struct("R", {{"name", Value::Str("Ada King, Countess of Lovelace")},
                                           {"tags", Value::FrozenSet({Value::Int(7)})}}))
                  .ok());
  ASSERT_TRUE((*b)->Add(Value::Struct("R", {{"name", Value::Str("Ada King, Countess of Lovelace")},
                                           {"tags", Value::FrozenSet({Value::Int(8)})}}))
                  .ok());
  ASSERT_TRUE((*b)->Finish().ok());
  auto seg = Segment::Open(dir.File("r.mapfs"));
  ASSERT_TRUE(seg.ok());
  const std::string r0 = std::string(*seg->RecordBytes(0));
  const std::string r1 = std::string(*seg->RecordBytes(1));
  EXPECT_EQ(r0, std::string("\x03\x09\x00\x00\x00\x28\x00\x00\x00\x1e"
                            "Ada King, Countess of Lovelace\x00\x01\x01\x07",
                            44));
  EXPECT_EQ(r1, std::string("\x03\x09\x00\x00\x80\x0b\x00\x00\x00\x00\x09\x00\x01\x01\x08", 15));
  const SegmentInfo info = seg->Info();
  const SegmentInfo::Section* data = info.section("data");
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(seg->RecordBytes(1)->data() - seg->bytes().data(), int64_t(data->offset + 64));
  auto name = seg->Record(1)->Field("name");
  ASSERT_TRUE(name.ok()) << name.status().ToString();
  EXPECT_EQ(name->as_str(), "Ada King, Countess of Lovelace");
  // Outside its segment the record has no data section to follow.
  auto standalone = ViewRecord(schema, 0, r1);
  ASSERT_TRUE(standalone.ok());
  EXPECT_EQ(standalone->Field("name").status().code(), StatusCode::kCorruption);
}

TEST(ValueRefs, SameBytesWhateverTheBudgetsAndTheInputPath) {
  TempDir dir;
  const Schema schema = RecSchema();
  std::vector<Value> records;
  for (uint64_t i = 0; i < 2000; ++i) records.push_back(Rec(i, 150));
  SegmentOptions keyed = Dedup(64 << 20);
  keyed.kind = CollectionKind::kMapping;
  keyed.key_field = *schema.struct_def(*schema.FindStruct("Rec")).FindField("id");
  SegmentOptions spilling = keyed;
  spilling.memory_budget = 1024;  // index runs spill every ~40 records
  Build(dir.File("a.mapfs"), schema, records, keyed);
  Build(dir.File("b.mapfs"), schema, records, spilling);
  ExpectSameFile(dir.File("a.mapfs"), dir.File("b.mapfs"));

  // The same records as JSON lines, and as packed bytes.
  const int rec = *schema.FindStruct("Rec");
  JsonRecordParser parser(schema, rec);
  {
    auto b = SegmentBuilder::Create(dir.File("c.mapfs"), schema, rec, keyed);
    ASSERT_TRUE(b.ok());
    for (const Value& v : records) {
      const std::string packed = *Pack(schema, rec, v);
      auto view = ViewRecord(schema, rec, packed);
      std::string json;
      Status rendered = RenderJson(*view, &json);
      ASSERT_TRUE(rendered.ok()) << rendered.ToString();
      auto parsed = parser.ParseLine(json);
      ASSERT_TRUE(parsed.ok()) << parsed.status().ToString() << json;
      ASSERT_TRUE((*b)->Add(*parsed).ok());
    }
    ASSERT_TRUE((*b)->Finish().ok());
  }
  ExpectSameFile(dir.File("a.mapfs"), dir.File("c.mapfs"));
  {
    auto b = SegmentBuilder::Create(dir.File("d.mapfs"), schema, rec, keyed);
    ASSERT_TRUE(b.ok());
    for (uint64_t i = 0; i < records.size(); ++i) {
      const std::string key(UIntKeyView(EncodeUIntKey(i)));
      ASSERT_TRUE((*b)->AddPacked(key, *Pack(schema, rec, records[i])).ok());
    }
    ASSERT_TRUE((*b)->Finish().ok());
  }
  ExpectSameFile(dir.File("a.mapfs"), dir.File("d.mapfs"));
  ExpectRoundTrip(dir.File("a.mapfs"), records);
}

TEST(ValueRefs, SmallTableEvictsButStaysCorrectAndDeterministic) {
  TempDir dir;
  const Schema schema = RecSchema();
  std::vector<Value> records;
  for (uint64_t i = 0; i < 3000; ++i) records.push_back(Rec(i, 500));
  // About 60 records' values: values come back every 50 or 500 records, so
  // only those the CLOCK keeps (found again before their turn) are shared.
  Build(dir.File("a.mapfs"), schema, records, Dedup(256 << 10));
  Build(dir.File("b.mapfs"), schema, records, Dedup(256 << 10));
  Build(dir.File("big.mapfs"), schema, records, Dedup(64 << 20));
  Build(dir.File("off.mapfs"), schema, records, Dedup(0));
  ExpectSameFile(dir.File("a.mapfs"), dir.File("b.mapfs"));
  const uint64_t small = FileSize(dir.File("a.mapfs"));
  EXPECT_LE(FileSize(dir.File("big.mapfs")), small);
  EXPECT_LT(small, FileSize(dir.File("off.mapfs")));
  ExpectRoundTrip(dir.File("a.mapfs"), records);
}

// Finds the reference body of record 1's field `field` (a value reference):
// its offset in the file.
size_t ReferenceBodyAt(const Segment& seg, const char* field) {
  auto rec = seg.RecordBytes(1);
  const uint8_t* p = reinterpret_cast<const uint8_t*>(rec->data());
  const StructDef& def = seg.schema().struct_def(seg.root_struct_index());
  // All fields are refs and present in these tests: slot i at 1 + 4i.
  const int f = *def.FindField(field);
  uint32_t ref;
  std::memcpy(&ref, p + 1 + 4 * f, 4);
  EXPECT_GE(ref, 0x80000000u);
  return static_cast<size_t>(rec->data() - seg.bytes().data()) + (ref & 0x7fffffff);
}

class BadReference : public ::testing::Test {
 protected:
  void SetUp() override {
    schema_ = MakeSchema({{"R", "", {{"s", "str"}, {"d", "decimal"}}}});
    auto b = SegmentBuilder::Create(dir_.File("r.mapfs"), schema_, 0, SegmentOptions());
    ASSERT_TRUE(b.ok());
    Decimal d;
    d.digits = "123456789012345678901234567890";
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE((*b)->Add(Value::Struct("R", {{"s", Value::Str(std::string(40, 'x'))},
                                               {"d", Value::FromDecimal(d)}}))
                      .ok());
    }
    ASSERT_TRUE((*b)->Finish().ok());
    bytes_ = ReadFileOrDie(dir_.File("r.mapfs"));
    auto seg = Segment::FromMemory(bytes_.data(), bytes_.size(), "r.mapfs");
    ASSERT_TRUE(seg.ok());
    ASSERT_TRUE(seg->Verify().ok());
    s_body_ = ReferenceBodyAt(*seg, "s");
    d_body_ = ReferenceBodyAt(*seg, "d");
    // Both point into record 0 (item 0): body "00 xx".
    ASSERT_EQ(bytes_[s_body_], 0);
    ASSERT_EQ(bytes_[d_body_], 0);
  }

  // Record 1's field `field` after the edit, and what verifying record 1 says.
  std::pair<Status, Status> Read(const char* field) {
    // Checksums made to agree, as an attacker would: only the reference
    // checks can tell.
    EXPECT_TRUE(testing::ResealSegment(&bytes_));
    auto seg = Segment::FromMemory(bytes_.data(), bytes_.size(), "r.mapfs");
    EXPECT_TRUE(seg.ok());
    if (!seg.ok()) return {seg.status(), seg.status()};
    auto rec = seg->Record(1);
    EXPECT_TRUE(rec.ok()) << rec.status().ToString();
    if (!rec.ok()) return {rec.status(), rec.status()};
    auto f = rec->Field(field);
    Status verified = Verify(*rec);
    if (f.ok() && f->kind() == TypeKind::kDecimal) {
      Status decoded = f->as_decimal().status();
      return {decoded, verified};
    }
    return {f.status(), verified};
  }

  TempDir dir_;
  Schema schema_ = MakeSchema({{"X", "", {{"x", "int8"}}}});
  std::string bytes_;
  size_t s_body_ = 0, d_body_ = 0;
};

TEST_F(BadReference, OutOfBounds) {
  bytes_[s_body_] = '\x7f';  // item 127 * 8: past the data before record 1
  auto [read, verified] = Read("s");
  EXPECT_EQ(read.code(), StatusCode::kCorruption);
  EXPECT_NE(read.message().find("value reference"), std::string::npos) << read.ToString();
  EXPECT_EQ(verified.code(), StatusCode::kCorruption);
}

TEST_F(BadReference, PastItsTargetRecord) {
  bytes_[s_body_ + 1] = '\x7f';  // offset 127 in a record of fewer bytes
  auto [read, verified] = Read("s");
  EXPECT_EQ(read.code(), StatusCode::kCorruption);
  EXPECT_EQ(verified.code(), StatusCode::kCorruption);
}

TEST_F(BadReference, ToItsOwnRecordWhichWouldAllowCycles) {
  // Record 1's item follows record 0's (both 8-aligned): point at it.
  auto seg = Segment::FromMemory(bytes_.data(), bytes_.size(), "r.mapfs");
  const SegmentInfo info = seg->Info();
  const SegmentInfo::Section* data = info.section("data");
  const uint64_t rec1 = static_cast<uint64_t>(seg->RecordBytes(1)->data() - seg->bytes().data());
  const uint64_t item1 = rec1 - 8 - data->offset;
  ASSERT_LT(item1 / 8, 128u);
  bytes_[s_body_] = static_cast<char>(item1 / 8);
  bytes_[s_body_ + 1] = 1;
  auto [read, verified] = Read("s");
  EXPECT_EQ(read.code(), StatusCode::kCorruption);
  EXPECT_NE(read.message().find("not before"), std::string::npos) << read.ToString();
  EXPECT_EQ(verified.code(), StatusCode::kCorruption);
}

TEST_F(BadReference, WrongType) {
  // The decimal's reference now points at record 0's str body: its length
  // byte 40 is no decimal flags byte.
  bytes_[d_body_ + 1] = bytes_[s_body_ + 1];
  auto [read, verified] = Read("d");
  EXPECT_EQ(read.code(), StatusCode::kCorruption);
  EXPECT_EQ(verified.code(), StatusCode::kCorruption);
  EXPECT_NE(verified.message().find("decimal"), std::string::npos) << verified.ToString();
}

TEST_F(BadReference, FeatureBitUnsetMeansPlainRefs) {
  auto seg = Segment::FromMemory(bytes_.data(), bytes_.size(), "r.mapfs");
  ASSERT_TRUE(seg.ok());
  // Viewed as a standalone record, the same bytes have no reference to follow.
  auto rec = ViewRecord(seg->schema(), 0, *seg->RecordBytes(1));
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->Field("s").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(Verify(*rec).code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace mapfs
