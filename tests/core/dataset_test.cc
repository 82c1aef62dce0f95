// Dataset tests: shards built with the real builder, routed by RouteKey,
// published with PublishDataset, opened and checked against the manifest.
#include "mapfs/dataset.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <string>
#include <vector>

#include "mapfs/segment_builder.h"
#include "test_util.h"

namespace mapfs {
namespace {

using testing::MakeSchema;

Schema KvSchema() {
  return MakeSchema({{"Kv", "", {{"name", "str"}, {"n", "uint32"}, {"pair", "tuple<str, int64>"},
                                 {"v", "int64"}}}});
}

Value Kv(const std::string& name, uint64_t n, int64_t v) {
  return Value::Struct("Kv", {{"name", Value::Str(name)},
                              {"n", Value::UInt(n)},
                              {"pair", Value::Tuple({Value::Str(name), Value::Int(v % 3)})},
                              {"v", Value::Int(v)}});
}

// Builds `n` shards of `values` in `dir` (keyed kinds by RouteKey, arrays by
// consecutive ranges) and publishes them.
std::vector<std::string> BuildDataset(const std::string& dir, const Schema& schema,
                                      CollectionKind kind, const char* key, size_t n,
                                      const std::vector<Value>& values) {
  SegmentOptions o;
  o.kind = kind;
  int key_field = -1;
  if (key != nullptr) key_field = o.key_field = *schema.struct_def(0).FindField(key);
  const std::string id = NewBuildId();
  std::vector<std::string> files;
  std::vector<std::unique_ptr<SegmentBuilder>> builders;
  for (size_t i = 0; i < n; ++i) {
    files.push_back(ShardFileName(id, i, n));
    auto b = SegmentBuilder::Create(dir + "/" + files.back(), schema, 0, o);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    builders.push_back(std::move(b).value());
  }
  RecordPacker packer(schema);
  std::string scratch;
  for (size_t r = 0; r < values.size(); ++r) {
    size_t s = r * n / values.size();
    if (key_field >= 0) {
      const auto& f = schema.struct_def(0).fields[key_field];
      auto raw = RawKeyOf(*values[r].FindField(f.name), f.type,
                          f.type.kind == TypeKind::kStr      ? KeyKind::kStr
                          : f.type.kind == TypeKind::kUInt32 ? KeyKind::kUInt
                                                             : KeyKind::kGeneric,
                          &packer, &scratch);
      EXPECT_TRUE(raw.ok());
      s = RouteKey(*raw, n);
    }
    EXPECT_TRUE(builders[s]->Add(values[r]).ok());
  }
  for (auto& b : builders) EXPECT_TRUE(b->Finish().ok());
  Status st = PublishDataset(dir, files);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return files;
}

std::vector<Value> Values(int n) {
  std::vector<Value> values;
  for (int i = 0; i < n; ++i) values.push_back(Kv("k" + std::to_string(i), 1000 + i, i));
  return values;
}

TEST(Dataset, RouteKeyIsTheDocumentedHash) {
  // XXH3_64bits_withSeed("", 0x6d617066735f7231) and friends, mod N: fixed
  // forever by docs/format.md, so pin a few values.
  for (uint64_t n : {1u, 2u, 3u, 16u}) EXPECT_LT(RouteKey("Ada", n), n);
  EXPECT_EQ(RouteKey("Ada", 1), 0u);
  // The seed as docs/format.md writes it, independent of kRouteSeed.
  for (const std::string& key : {std::string(), std::string("Ada"), std::string("\x2a\0\0\0\0\0\0\0", 8)}) {
    const uint64_t h = XXH3_64bits_withSeed(key.data(), key.size(), 0x6d617066735f7231ULL);
    EXPECT_EQ(RouteKey(key, 7), h % 7);
    EXPECT_EQ(RouteKey(key, uint64_t{1} << 40), h % (uint64_t{1} << 40));
  }
  // Different keys spread over the shards.
  std::vector<int> hits(4);
  for (int i = 0; i < 4000; ++i) ++hits[RouteKey("key" + std::to_string(i), 4)];
  for (int h : hits) EXPECT_GT(h, 800);
}

TEST(Dataset, StrMappingRoutesLookupsToOneShard) {
  testing::TempDir dir;
  Schema schema = KvSchema();
  auto values = Values(500);
  BuildDataset(dir.path(), schema, CollectionKind::kMapping, "name", 3, values);
  ASSERT_TRUE(IsDatasetDir(dir.path()));
  auto ds = Dataset::Open(dir.path());
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  EXPECT_EQ(ds->shard_count(), 3u);
  EXPECT_EQ(ds->record_count(), 500u);
  EXPECT_EQ(ds->key_count(), 500u);
  EXPECT_EQ(ds->kind(), CollectionKind::kMapping);
  EXPECT_EQ(ds->key_kind(), KeyKind::kStr);
  uint64_t sum = 0;
  for (size_t s = 0; s < 3; ++s) {
    EXPECT_GT(ds->shard(s).record_count(), 100u);
    sum += ds->shard(s).record_count();
  }
  EXPECT_EQ(sum, 500u);
  for (int i = 0; i < 500; ++i) {
    auto hit = ds->Find("k" + std::to_string(i));
    ASSERT_TRUE(hit.ok() && hit->has_value()) << i;
    EXPECT_EQ((*hit)->shard, ds->ShardOfKey("k" + std::to_string(i)));
    EXPECT_EQ(ds->ViewOf(**hit)->Field("v")->as_int(), i);
  }
  EXPECT_FALSE(ds->Find("nope")->has_value());
  // Global record indexes run shard by shard.
  EXPECT_EQ(ds->first_record(0), 0u);
  EXPECT_EQ(ds->first_record(1), ds->shard(0).record_count());
  auto last = ds->Record(499);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*ds->RecordBytes(499), *ds->shard(2).RecordBytes(ds->shard(2).record_count() - 1));
  EXPECT_EQ(ds->Record(500).status().code(), StatusCode::kOutOfRange);
  EXPECT_TRUE(ds->Verify().ok());
}

TEST(Dataset, UIntGenericAndMultiMapKeys) {
  testing::TempDir a, b, c;
  Schema schema = KvSchema();
  auto values = Values(300);
  BuildDataset(a.path(), schema, CollectionKind::kMapping, "n", 4, values);
  auto byn = Dataset::Open(a.path());
  ASSERT_TRUE(byn.ok()) << byn.status().ToString();
  uint64_t k = 1042;
  auto hit = byn->Find(std::string_view(reinterpret_cast<const char*>(&k), 8));
  ASSERT_TRUE(hit.ok() && hit->has_value());
  EXPECT_EQ(byn->ViewOf(**hit)->Field("v")->as_int(), 42);
  EXPECT_TRUE(byn->Verify().ok());

  BuildDataset(b.path(), schema, CollectionKind::kMapping, "pair", 2, values);
  auto byp = Dataset::Open(b.path());
  ASSERT_TRUE(byp.ok());
  RecordPacker packer(schema);
  const Type& pt = schema.struct_def(0).fields[2].type;
  auto key = packer.PackValue(pt, Value::Tuple({Value::Str("k42"), Value::Int(0)}));
  ASSERT_TRUE(key.ok());
  hit = byp->Find(std::string(*key));
  ASSERT_TRUE(hit.ok() && hit->has_value());
  EXPECT_EQ(byp->ViewOf(**hit)->Field("v")->as_int(), 42);
  EXPECT_TRUE(byp->Verify().ok());

  // Multimap on a key with 3 values: each key's records stay in input order.
  std::vector<Value> multi;
  for (int i = 0; i < 300; ++i) multi.push_back(Kv("k" + std::to_string(i % 7), i, i));
  BuildDataset(c.path(), schema, CollectionKind::kMultiMap, "name", 3, multi);
  auto mm = Dataset::Open(c.path());
  ASSERT_TRUE(mm.ok());
  EXPECT_EQ(mm->key_count(), 7u);
  auto recs = mm->FindAll("k3");
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->ids.size(), 43u);
  for (uint32_t j = 0; j < recs->ids.size(); ++j) {
    auto v = mm->shard(recs->shard).Record(recs->ids[j]);
    EXPECT_EQ(v->Field("v")->as_int(), 3 + 7 * static_cast<int>(j));
  }
  EXPECT_TRUE(mm->Verify().ok());
}

TEST(Dataset, ArrayShardsAreConsecutiveRanges) {
  testing::TempDir dir;
  Schema schema = KvSchema();
  auto values = Values(100);
  BuildDataset(dir.path(), schema, CollectionKind::kArray, nullptr, 3, values);
  auto ds = Dataset::Open(dir.path());
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  EXPECT_EQ(ds->shard(0).record_count(), 34u);
  for (uint64_t i = 0; i < 100; ++i) {
    EXPECT_EQ(ds->Record(i)->Field("v")->as_int(), static_cast<int64_t>(i));
  }
  EXPECT_EQ(ds->ShardOfRecord(33), 0u);
  EXPECT_EQ(ds->ShardOfRecord(34), 1u);
  EXPECT_EQ(ds->ShardOfRecord(99), 2u);
  EXPECT_TRUE(ds->Verify().ok());
}

TEST(Dataset, ManifestRoundTripsCanonically) {
  testing::TempDir dir;
  Schema schema = KvSchema();
  BuildDataset(dir.path(), schema, CollectionKind::kMapping, "name", 2, Values(50));
  const std::string text = testing::ReadFileOrDie(dir.File("dataset.json"));
  auto m = Manifest::Parse(text);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->Serialize(), text);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_EQ(text.rfind("{\"format\":\"mapfs-dataset\",\"key_count\":50,\"key_field\":\"name\",", 0),
            0u);
  EXPECT_NE(text.find("\"routing\":{\"hash\":\"xxh3_64\",\"rule\":\"key_hash\","
                      "\"seed\":\"6d617066735f7231\"}"),
            std::string::npos);
}

// Replaces the first occurrence of `from` in `s`.
std::string Replace(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(Dataset, StrictManifestErrorsNameTheField) {
  testing::TempDir dir;
  Schema schema = KvSchema();
  auto files = BuildDataset(dir.path(), schema, CollectionKind::kMapping, "name", 2, Values(50));
  const std::string good = testing::ReadFileOrDie(dir.File("dataset.json"));
  auto m = Manifest::Parse(good);
  ASSERT_TRUE(m.ok());
  const std::string n0 = std::to_string(m->shards[0].record_count);
  struct Case {
    std::string text;
    std::string needle;
  } cases[] = {
      {"{", "not valid JSON"},
      {"[]", "not an object"},
      {Replace(good, "{\"format\"", "{\"extra\":1,\"format\""), "extra: unknown field"},
      {Replace(good, "\"kind\":\"mapping\",", ""), "kind: missing"},
      {Replace(good, "\"kind\":\"mapping\"", "\"kind\":3"), "kind: not a string"},
      {Replace(good, "\"kind\":\"mapping\"", "\"kind\":\"tree\""), "unknown collection kind"},
      {Replace(good, "\"version\":1", "\"version\":-1"), "version: not a non-negative"},
      {Replace(good, "\"record_count\":50", "\"record_count\":51"), "record_count: 51"},
      {Replace(good, "\"key_count\":50", "\"key_count\":49"), "key_count: 49"},
      {Replace(good, files[1], files[0]), "named twice"},
      {Replace(good, files[1], "../x"), "not a file name"},
      {Replace(good, "\"rule\":\"key_hash\"", "\"rule\":\"ranges\""), "routing"},
      {Replace(good, "\"first_record\":" + n0, "\"first_record\":0"), "first_record"},
      {Replace(good, "\"root_type\":\"Kv\"", "\"root_type\":\"Nope\""), "root_type"},
      {Replace(good, "\"shards\":[", "\"shards\":[1,"), "shards[0] is not an object"},
      {std::string(100, '[') + std::string(100, ']'), "nested deeper"},
  };
  for (const Case& c : cases) {
    auto r = Manifest::Parse(c.text, "d/dataset.json");
    ASSERT_FALSE(r.ok()) << c.needle;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
    EXPECT_NE(r.status().message().find("d/dataset.json"), std::string::npos);
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos)
        << r.status().ToString() << " lacks " << c.needle;
  }
  auto v2 = Manifest::Parse(Replace(good, "\"version\":1", "\"version\":2"));
  EXPECT_EQ(v2.status().code(), StatusCode::kNotSupported);
}

TEST(Dataset, OpenRefusesAShardThatDiffersFromTheManifest) {
  testing::TempDir dir, other;
  Schema schema = KvSchema();
  auto files = BuildDataset(dir.path(), schema, CollectionKind::kMapping, "name", 2, Values(50));
  // Another build's shard under the first shard's name.
  auto other_files =
      BuildDataset(other.path(), schema, CollectionKind::kMapping, "name", 2, Values(60));
  const std::string shard0 = testing::ReadFileOrDie(dir.File(files[0]));
  testing::WriteFileOrDie(dir.File(files[0]),
                          testing::ReadFileOrDie(other.File(other_files[0])));
  auto ds = Dataset::Open(dir.path());
  ASSERT_FALSE(ds.ok());
  EXPECT_EQ(ds.status().code(), StatusCode::kCorruption);
  EXPECT_NE(ds.status().message().find(files[0]), std::string::npos) << ds.status().ToString();

  // A missing shard names itself.
  testing::WriteFileOrDie(dir.File(files[0]), shard0);
  ASSERT_TRUE(Dataset::Open(dir.path()).ok());
  ASSERT_EQ(std::remove(dir.File(files[1]).c_str()), 0);
  ds = Dataset::Open(dir.path());
  ASSERT_FALSE(ds.ok());
  EXPECT_NE(ds.status().message().find(files[1]), std::string::npos) << ds.status().ToString();
}

TEST(Dataset, VerifyFindsAMisroutedKey) {
  testing::TempDir dir;
  Schema schema = KvSchema();
  // Shards in swapped order: every key is in the wrong shard.
  auto files = BuildDataset(dir.path(), schema, CollectionKind::kMapping, "name", 2, Values(50));
  ASSERT_TRUE(PublishDataset(dir.path(), {files[1], files[0]}).ok());
  auto ds = Dataset::Open(dir.path());
  ASSERT_TRUE(ds.ok());
  Status st = ds->Verify();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find(files[1]), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("routes to shard"), std::string::npos);
}

TEST(Dataset, PublishRefusesShardsThatDisagree) {
  testing::TempDir dir;
  Schema schema = KvSchema();
  auto a = BuildDataset(dir.path(), schema, CollectionKind::kMapping, "name", 1, Values(5));
  auto b = BuildDataset(dir.path(), schema, CollectionKind::kArray, nullptr, 1, Values(5));
  Status st = PublishDataset(dir.path(), {a[0], b[0]});
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find(b[0]), std::string::npos) << st.ToString();
}

}  // namespace
}  // namespace mapfs
