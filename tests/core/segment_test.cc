// Segment reader and builder tests with real records: every collection kind
// through SegmentBuilder and Segment, value round trips, generic keys.
#include "mapfs/segment.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <set>
#include <string>
#include <vector>

#include "mapfs/segment_builder.h"
#include "record_test_data.h"
#include "test_util.h"

namespace mapfs {
namespace {

using testing::MakeSchema;

Schema KvSchema() {
  return MakeSchema({{"Kv", "", {{"name", "str"}, {"n", "uint32"}, {"pair", "tuple<str, int64>"},
                                 {"v", "int64"}, {"s", "str"}}}});
}

Value Kv(const std::string& name, uint64_t n, int64_t v) {
  return Value::Struct("Kv", {{"name", Value::Str(name)},
                              {"n", Value::UInt(n)},
                              {"pair", Value::Tuple({Value::Str(name), Value::Int(v % 3)})},
                              {"v", Value::Int(v)},
                              {"s", Value::Str("value of " + name)}});
}

SegmentOptions Opts(CollectionKind kind, const Schema& s, const char* key_field) {
  SegmentOptions o;
  o.kind = kind;
  if (key_field != nullptr) o.key_field = *s.struct_def(0).FindField(key_field);
  return o;
}

Segment BuildAndOpen(const std::string& path, const Schema& schema, SegmentOptions opt,
                     const std::vector<Value>& values) {
  auto b = SegmentBuilder::Create(path, schema, 0, std::move(opt));
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_TRUE((*b)->AddAll(values).ok());
  Status st = (*b)->Finish();
  EXPECT_TRUE(st.ok()) << st.ToString();
  auto seg = Segment::Open(path);
  EXPECT_TRUE(seg.ok()) << seg.status().ToString();
  return std::move(seg).value();
}

int64_t FieldV(const Segment& seg, std::string_view record) {
  auto view = seg.ViewOf(record);
  EXPECT_TRUE(view.ok());
  return view->Field("v")->as_int();
}

TEST(Segment, ArrayRoundTripsEveryValueType) {
  testing::TempDir dir;
  Schema schema = testing_data::PersonSchema();
  const int person = *schema.FindStruct("Person");
  Value sample = testing_data::SamplePerson();
  auto b = SegmentBuilder::Create(dir.File("p.mapfs"), schema, person, SegmentOptions{});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_TRUE((*b)->Add(sample).ok());
  ASSERT_TRUE((*b)->Add(Value::Struct("Person", {})).ok());
  ASSERT_TRUE((*b)->Finish().ok());
  auto seg = Segment::Open(dir.File("p.mapfs"));
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  EXPECT_EQ(seg->kind(), CollectionKind::kArray);
  ASSERT_EQ(seg->record_count(), 2u);
  EXPECT_EQ(seg->schema().ToCanonicalJson(), schema.ToCanonicalJson());
  auto v0 = seg->Record(0);
  ASSERT_TRUE(v0.ok());
  auto m0 = Materialize(*v0);
  ASSERT_TRUE(m0.ok());
  EXPECT_EQ(*m0, sample) << m0->DebugString();
  std::string json;
  ASSERT_TRUE(RenderJson(*v0, &json).ok());
  EXPECT_EQ(json, testing_data::kSamplePersonJson);
  EXPECT_TRUE(seg->Verify().ok()) << seg->Verify().ToString();
}

TEST(Segment, StrMappingFindsRecordsAndRejectsMissingKeys) {
  testing::TempDir dir;
  Schema schema = KvSchema();
  std::vector<Value> values;
  for (int i = 0; i < 1000; ++i) values.push_back(Kv("k" + std::to_string(i), i, i * 10));
  Segment seg = BuildAndOpen(dir.File("m"), schema, Opts(CollectionKind::kMapping, schema, "name"),
                             values);
  EXPECT_EQ(seg.key_kind(), KeyKind::kStr);
  for (int i = 0; i < 1000; ++i) {
    auto hit = seg.Find("k" + std::to_string(i));
    ASSERT_TRUE(hit.ok() && hit->has_value()) << i;
    EXPECT_EQ((*hit)->key, "k" + std::to_string(i));
    EXPECT_EQ(FieldV(seg, (*hit)->record), i * 10);
  }
  EXPECT_FALSE(seg.Find("k1000")->has_value());
  EXPECT_FALSE(*seg.Contains("nope"));
  EXPECT_TRUE(*seg.Contains("k5"));
  EXPECT_TRUE(seg.Find(Value::Str("k7"))->has_value());
  // Listing in index order visits every key once.
  std::set<std::string> seen;
  for (uint64_t o = 0; o < seg.key_count(); ++o) {
    seg.PrefetchEntry(o + 16);  // a hint; past the last key it does nothing
    seen.insert(std::string(seg.EntryAt(o)->key));
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_TRUE(seg.Verify().ok());
}

TEST(Segment, UIntAndGenericKeys) {
  testing::TempDir dir;
  Schema schema = KvSchema();
  std::vector<Value> values;
  for (int i = 0; i < 300; ++i) values.push_back(Kv("k" + std::to_string(i), 1000 + i, i));
  Segment byn = BuildAndOpen(dir.File("u"), schema, Opts(CollectionKind::kMapping, schema, "n"),
                             values);
  EXPECT_EQ(byn.key_kind(), KeyKind::kUInt);
  EXPECT_EQ(FieldV(byn, (*byn.Find(uint64_t{1007}))->record), 7);
  EXPECT_EQ(FieldV(byn, (*byn.Find(Value::Int(1009)))->record), 9);
  EXPECT_FALSE(byn.Find(uint64_t{7})->has_value());
  EXPECT_FALSE(byn.Find(Value::Int(-1))->has_value());

  Segment byp = BuildAndOpen(dir.File("g"), schema,
                             Opts(CollectionKind::kMapping, schema, "pair"), values);
  EXPECT_EQ(byp.key_kind(), KeyKind::kGeneric);
  auto hit = byp.Find(Value::Tuple({Value::Str("k42"), Value::Int(0)}));
  ASSERT_TRUE(hit.ok() && hit->has_value()) << hit.status().ToString();
  EXPECT_EQ(FieldV(byp, (*hit)->record), 42);
  EXPECT_FALSE(byp.Find(Value::Tuple({Value::Str("k42"), Value::Int(1)}))->has_value());
  auto key = byp.KeyView((*hit)->key);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->At(0)->as_str(), "k42");
  EXPECT_TRUE(byp.Verify().ok());
}

TEST(Segment, MultiMapListsRecordsInInputOrder) {
  testing::TempDir dir;
  Schema schema = KvSchema();
  std::vector<Value> values;
  for (int i = 0; i < 100; ++i) values.push_back(Kv("k" + std::to_string(i % 7), i, i));
  Segment seg = BuildAndOpen(dir.File("mm"), schema,
                             Opts(CollectionKind::kMultiMap, schema, "name"), values);
  EXPECT_EQ(seg.key_count(), 7u);
  auto ids = seg.FindAll("k3");
  ASSERT_TRUE(ids.ok());
  ASSERT_EQ(ids->size(), 14u);
  for (uint32_t j = 0; j < ids->size(); ++j) {
    EXPECT_EQ((*ids)[j], 3 + 7 * j);
    EXPECT_EQ(seg.Record((*ids)[j])->Field("v")->as_int(), 3 + 7 * j);
  }
  EXPECT_TRUE(seg.FindAll("k9")->empty());
  EXPECT_TRUE(seg.Verify().ok());
}

TEST(Segment, ApproxMultiMapCandidates) {
  testing::TempDir dir;
  Schema schema = KvSchema();
  std::vector<Value> values;
  for (int i = 0; i < 100; ++i) values.push_back(Kv("k" + std::to_string(i % 7), i, i));
  Segment seg = BuildAndOpen(dir.File("ap"), schema,
                             Opts(CollectionKind::kApproxMultiMap, schema, "name"), values);
  auto ids = seg.Candidates("k3");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids->size(), 14u);
  EXPECT_TRUE(seg.Verify().ok());
  // Approximate maps need str keys.
  EXPECT_TRUE(SegmentBuilder::Create(dir.File("x"), schema, 0,
                                     Opts(CollectionKind::kApproxMultiMap, schema, "n"))
                  .status()
                  .IsInvalidArgument());
}

TEST(Segment, MissingKeyFieldIsAnError) {
  testing::TempDir dir;
  Schema schema = KvSchema();
  auto b = SegmentBuilder::Create(dir.File("m"), schema, 0,
                                  Opts(CollectionKind::kMapping, schema, "name"));
  ASSERT_TRUE(b.ok());
  Status st = (*b)->Add(Value::Struct("Kv", {{"v", Value::Int(1)}}));
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_NE(st.message().find("name"), std::string::npos);
}

TEST(Segment, DuplicateKeyNamesBothRecordsAndTheField) {
  testing::TempDir dir;
  Schema schema = KvSchema();
  SegmentOptions opt = Opts(CollectionKind::kMapping, schema, "name");
  opt.record_name = [](uint64_t id) { return "in.jsonl:" + std::to_string(id + 1); };
  auto b = SegmentBuilder::Create(dir.File("m"), schema, 0, opt);
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE((*b)->AddAll(std::vector<Value>{Kv("x", 1, 1), Kv("y", 2, 2), Kv("x", 3, 3)}).ok());
  Status st = (*b)->Finish();
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_EQ(st.message(), "in.jsonl:3: field \"name\": duplicate key \"x\", first at in.jsonl:1");
}

TEST(Segment, DuplicateGenericKeyIsShownAsJson) {
  testing::TempDir dir;
  Schema schema = KvSchema();
  auto b = SegmentBuilder::Create(dir.File("m"), schema, 0,
                                  Opts(CollectionKind::kMapping, schema, "pair"));
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE((*b)->AddAll(std::vector<Value>{Kv("x", 1, 4), Kv("x", 2, 7)}).ok());
  Status st = (*b)->Finish();
  EXPECT_NE(st.message().find("field \"pair\": duplicate key [\"x\",1]"), std::string::npos)
      << st.message();
}

TEST(Segment, VerifyCatchesAKeyThatDiffersFromItsField) {
  testing::TempDir dir;
  Schema schema = KvSchema();
  auto b = SegmentBuilder::Create(dir.File("m"), schema, 0,
                                  Opts(CollectionKind::kMapping, schema, "name"));
  ASSERT_TRUE(b.ok());
  auto packed = Pack(schema, 0, Kv("x", 1, 1));
  ASSERT_TRUE(packed.ok());
  ASSERT_TRUE((*b)->AddPacked("x", *packed).ok());
  ASSERT_TRUE((*b)->AddPacked("not-x", *packed).ok());
  ASSERT_TRUE((*b)->Finish().ok());
  auto seg = Segment::Open(dir.File("m"));
  ASSERT_TRUE(seg.ok());
  Status st = seg->Verify();
  EXPECT_TRUE(st.IsCorruption());
  EXPECT_NE(st.message().find("record 1: key field differs from the stored key"),
            std::string::npos)
      << st.message();
}

TEST(Segment, FromMemoryReadsTheSameBytes) {
  testing::TempDir dir;
  Schema schema = KvSchema();
  Segment a = BuildAndOpen(dir.File("m"), schema, Opts(CollectionKind::kMapping, schema, "name"),
                           {Kv("x", 1, 5), Kv("y", 2, 6)});
  std::string bytes(a.bytes());
  auto b = Segment::FromMemory(bytes.data(), bytes.size(), "mem");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(FieldV(*b, (*b->Find("y"))->record), 6);
  bytes[200] ^= 1;
  auto c = Segment::FromMemory(bytes.data(), bytes.size(), "mem");
  if (c.ok()) {
    EXPECT_TRUE(c->Verify().IsCorruption());
  }
}

TEST(Segment, OpenRejectsGarbageNamingTheFile) {
  testing::TempDir dir;
  testing::WriteFileOrDie(dir.File("junk"), std::string(4096, 'j'));
  auto seg = Segment::Open(dir.File("junk"));
  ASSERT_TRUE(seg.status().IsCorruption());
  EXPECT_EQ(seg.status().message(), dir.File("junk") + ": not a mapfs segment (no magic)");
}

TEST(Segment, OutputAppearsOnlyOnFinish) {
  testing::TempDir dir;
  Schema schema = KvSchema();
  auto b = SegmentBuilder::Create(dir.File("m"), schema, 0, SegmentOptions{});
  ASSERT_TRUE((*b)->Add(Kv("a", 1, 1)).ok());
  struct stat sb;
  EXPECT_NE(::stat(dir.File("m").c_str(), &sb), 0);
  ASSERT_TRUE((*b)->Finish().ok());
  EXPECT_EQ(::stat(dir.File("m").c_str(), &sb), 0);
}

}  // namespace
}  // namespace mapfs
