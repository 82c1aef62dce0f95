// Segment layout tests at the byte level: the writer and the open-time and
// full validation, with records as opaque blobs (no schema involved).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <xxhash.h>

#include <algorithm>
#include <cstdio>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "file_util.h"
#include "build_internal.h"
#include "segment_internal.h"
#include "test_util.h"

namespace mapfs {
namespace {

namespace sf = segment_format;
using internal::SegmentLayout;

struct Built {
  std::string bytes;
  SegmentLayout layout;
};

using Items = std::vector<std::pair<std::string, std::string>>;

Status BuildRaw(const std::string& path, CollectionKind kind, KeyKind key_kind,
                const Items& items, size_t budget = size_t{64} << 20, bool dedup = true) {
  SegmentWriter::Params p;
  p.path = path;
  p.schema_json = "{\"structs\":[]}";
  p.kind = kind;
  p.key_kind = key_kind;
  p.memory_budget = budget;
  p.dedup = dedup;
  MAPFS_ASSIGN_OR_RETURN(auto w, SegmentWriter::Create(p));
  for (const auto& [k, r] : items) MAPFS_RETURN_IF_ERROR(w->Add(k, r));
  return w->Finish();
}

// Keeps the bytes alive next to the layout that points into them.
std::unique_ptr<Built> Load(const std::string& path) {
  auto b = std::make_unique<Built>();
  b->bytes = testing::ReadFileOrDie(path);
  auto l = internal::ParseLayout(reinterpret_cast<const uint8_t*>(b->bytes.data()),
                                 b->bytes.size(), path);
  EXPECT_TRUE(l.ok()) << l.status().ToString();
  if (l.ok()) b->layout = std::move(l).value();
  return b;
}

std::string Record(uint64_t i) { return "record-" + std::to_string(i) + std::string(i % 13, 'x'); }
std::string Key(uint64_t i) { return "key:" + std::to_string(i * 7919); }

std::optional<std::string> FindRecord(const SegmentLayout& l, std::string_view key) {
  auto ord = internal::FindOrdinal(l, key);
  EXPECT_TRUE(ord.ok()) << ord.status().ToString();
  if (!ord.ok() || !ord->has_value()) return std::nullopt;
  auto item = internal::ReadEntryItem(l, **ord);
  EXPECT_TRUE(item.ok());
  EXPECT_EQ(item->key, key);
  return std::string(item->record);
}

uint64_t ConstantHash(const void*, size_t, uint64_t) { return 0x1234567890abcdefULL; }
// Equal hashes for keys of equal length.
uint64_t LengthHash(const void*, size_t size, uint64_t) { return size * 0x9E3779B97F4A7C15ULL; }

class HashOverride {
 public:
  explicit HashOverride(internal::KeyHashFn fn) { internal::SetKeyHashForTesting(fn); }
  ~HashOverride() { internal::SetKeyHashForTesting(nullptr); }
};

TEST(SegmentLayout, EmptyArray) {
  testing::TempDir dir;
  ASSERT_TRUE(BuildRaw(dir.File("a"), CollectionKind::kArray, KeyKind::kNone, {}).ok());
  auto b = Load(dir.File("a"));
  EXPECT_EQ(b->layout.record_count, 0u);
  EXPECT_EQ(b->bytes.size() % 64, 0u);
  EXPECT_TRUE(internal::VerifyLayout(b->layout).ok());
  EXPECT_EQ(internal::ReadRecordItem(b->layout, 0).status().code(), StatusCode::kOutOfRange);
}

TEST(SegmentLayout, ArrayKeepsInputOrderAndBytes) {
  testing::TempDir dir;
  Items items;
  for (uint64_t i = 0; i < 1000; ++i) items.emplace_back("", Record(i));
  ASSERT_TRUE(BuildRaw(dir.File("a"), CollectionKind::kArray, KeyKind::kNone, items).ok());
  auto b = Load(dir.File("a"));
  ASSERT_EQ(b->layout.record_count, 1000u);
  for (uint64_t i = 0; i < 1000; ++i) {
    auto item = internal::ReadRecordItem(b->layout, i);
    ASSERT_TRUE(item.ok());
    EXPECT_EQ(item->record, Record(i));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(item->record.data()) % 8, 0u);
  }
  EXPECT_TRUE(internal::VerifyLayout(b->layout).ok());
}

TEST(SegmentLayout, IdenticalRecordsStoredOnce) {
  testing::TempDir dir;
  Items same, distinct;
  for (int i = 0; i < 1000; ++i) {
    same.emplace_back("", std::string(200, 'z'));
    distinct.emplace_back("", std::string(196, 'z') + std::to_string(1000 + i));
  }
  ASSERT_TRUE(BuildRaw(dir.File("s"), CollectionKind::kArray, KeyKind::kNone, same).ok());
  ASSERT_TRUE(BuildRaw(dir.File("d"), CollectionKind::kArray, KeyKind::kNone, distinct).ok());
  auto s = Load(dir.File("s"));
  auto d = Load(dir.File("d"));
  EXPECT_LT(s->layout.data.size, 300u);
  EXPECT_GT(d->layout.data.size, 200u * 1000);
  EXPECT_EQ(internal::ReadRecordItem(s->layout, 999)->record, std::string(200, 'z'));
  EXPECT_TRUE(internal::VerifyLayout(s->layout).ok());
}

// A million keys in optimized builds; a fifth of that in unoptimized
// (sanitizer) builds, where the same test would take half a minute.
#ifdef NDEBUG
constexpr uint64_t kManyKeys = 1000000;
#else
constexpr uint64_t kManyKeys = 200000;
#endif

TEST(SegmentLayout, MappingFindsEveryKeyOfAMillion) {
  testing::TempDir dir;
  constexpr uint64_t kN = kManyKeys;
  char key[32], rec[32];
  auto make = [&](uint64_t i) {
    return std::pair<std::string_view, std::string_view>(
        {key, static_cast<size_t>(std::snprintf(key, sizeof(key), "key:%llu",
                                                static_cast<unsigned long long>(i * 7919)))},
        {rec, static_cast<size_t>(std::snprintf(rec, sizeof(rec), "%llu",
                                                static_cast<unsigned long long>(i)))});
  };
  {
    SegmentWriter::Params p;
    p.path = dir.File("m");
    p.kind = CollectionKind::kMapping;
    p.key_kind = KeyKind::kStr;
    auto w = SegmentWriter::Create(p);
    ASSERT_TRUE(w.ok());
    for (uint64_t i = 0; i < kN; ++i) {
      auto [k, r] = make(i);
      ASSERT_TRUE((*w)->Add(k, r).ok());
    }
    ASSERT_TRUE((*w)->Finish().ok());
  }
  auto b = Load(dir.File("m"));
  ASSERT_EQ(b->layout.key_count, kN);
  for (uint64_t i = 0; i < kN + 1000; ++i) {
    auto [k, r] = make(i);
    auto ord = internal::FindOrdinal(b->layout, k);
    ASSERT_TRUE(ord.ok());
    ASSERT_EQ(ord->has_value(), i < kN) << i;
    if (i < kN) {
      ASSERT_EQ(internal::ReadEntryItem(b->layout, **ord)->record, r);
    }
  }
  // Index bytes per key: directory + entries.
  const double per_key =
      static_cast<double>(b->layout.directory.size + b->layout.entries.size) / kN;
  EXPECT_LE(per_key, 17.0);
  EXPECT_TRUE(internal::VerifyLayout(b->layout).ok());
}

TEST(SegmentLayout, EmptyAndSingleMapping) {
  testing::TempDir dir;
  ASSERT_TRUE(BuildRaw(dir.File("e"), CollectionKind::kMapping, KeyKind::kStr, {}).ok());
  auto e = Load(dir.File("e"));
  EXPECT_FALSE(FindRecord(e->layout, "x"));
  EXPECT_FALSE(FindRecord(e->layout, ""));
  EXPECT_TRUE(internal::VerifyLayout(e->layout).ok());
  ASSERT_TRUE(BuildRaw(dir.File("o"), CollectionKind::kMapping, KeyKind::kStr, {{"", "v"}}).ok());
  auto o = Load(dir.File("o"));
  EXPECT_EQ(FindRecord(o->layout, ""), "v");
  EXPECT_FALSE(FindRecord(o->layout, "v"));
}

TEST(SegmentLayout, DuplicateKeyFailsNamingKeyAndLeavesNoOutput) {
  testing::TempDir dir;
  Items items = {{"alpha", "1"}, {"beta", "2"}, {"alpha", "3"}};
  Status st = BuildRaw(dir.File("m"), CollectionKind::kMapping, KeyKind::kStr, items);
  ASSERT_TRUE(st.IsInvalidArgument()) << st.ToString();
  EXPECT_NE(st.message().find(": record 2: duplicate key \"alpha\", first at "),
            std::string::npos)
      << st.message();
  struct stat sb;
  EXPECT_NE(::stat(dir.File("m").c_str(), &sb), 0);
}

TEST(SegmentLayout, DuplicateKeyFoundAcrossSpilledRuns) {
  testing::TempDir dir;
  Items items;
  for (uint64_t i = 0; i < 5000; ++i) items.emplace_back(Key(i), "r");
  items.emplace_back(Key(17), "again");
  Status st = BuildRaw(dir.File("m"), CollectionKind::kMapping, KeyKind::kStr, items, 0);
  EXPECT_TRUE(st.IsInvalidArgument()) << st.ToString();
}

TEST(SegmentLayout, LongUnicodeAndLateDifferingKeys) {
  testing::TempDir dir;
  const std::string prefix(100, 'p');
  Items items = {
      {std::string(64 * 1024, 'k'), "64k"},
      {std::string(64 * 1024 - 1, 'k') + "j", "64k-j"},
      {"\xc3\xa9t\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80", "unicode"},
      {prefix + "a", "late-a"},
      {prefix + "b", "late-b"},
      {std::string("nul\0inside", 10), "nul"},
  };
  ASSERT_TRUE(BuildRaw(dir.File("m"), CollectionKind::kMapping, KeyKind::kStr, items).ok());
  auto b = Load(dir.File("m"));
  for (const auto& [k, r] : items) EXPECT_EQ(FindRecord(b->layout, k), r);
  EXPECT_FALSE(FindRecord(b->layout, prefix + "c"));
  EXPECT_FALSE(FindRecord(b->layout, std::string(64 * 1024, 'j')));
  EXPECT_TRUE(internal::VerifyLayout(b->layout).ok());
}

TEST(SegmentLayout, CollidingHashesAreTellApartByKey) {
  HashOverride h(ConstantHash);
  testing::TempDir dir;
  Items items;
  for (uint64_t i = 0; i < 300; ++i) items.emplace_back(Key(i), Record(i));
  ASSERT_TRUE(BuildRaw(dir.File("m"), CollectionKind::kMapping, KeyKind::kStr, items).ok());
  auto b = Load(dir.File("m"));
  for (uint64_t i = 0; i < 300; ++i) EXPECT_EQ(FindRecord(b->layout, Key(i)), Record(i));
  EXPECT_FALSE(FindRecord(b->layout, Key(300)));
  EXPECT_TRUE(internal::VerifyLayout(b->layout).ok());
  // A duplicate among colliding keys is still a duplicate.
  items.emplace_back(Key(5), "dup");
  EXPECT_TRUE(BuildRaw(dir.File("d"), CollectionKind::kMapping, KeyKind::kStr, items)
                  .IsInvalidArgument());
}

TEST(SegmentLayout, UIntMapping) {
  testing::TempDir dir;
  Items items;
  for (uint64_t k : {uint64_t{0}, uint64_t{1}, uint64_t{1} << 40, ~uint64_t{0}}) {
    std::string key(8, '\0');
    std::memcpy(key.data(), &k, 8);
    items.emplace_back(key, std::to_string(k));
  }
  ASSERT_TRUE(BuildRaw(dir.File("u"), CollectionKind::kMapping, KeyKind::kUInt, items).ok());
  auto b = Load(dir.File("u"));
  for (const auto& [k, r] : items) EXPECT_EQ(FindRecord(b->layout, k), r);
  EXPECT_FALSE(BuildRaw(dir.File("bad"), CollectionKind::kMapping, KeyKind::kUInt, {{"abc", "x"}})
                   .ok());
}

std::vector<uint32_t> Ids(const Segment::RecordIds& r) {
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < r.size(); ++i) out.push_back(r[i]);
  return out;
}

TEST(SegmentLayout, MultiMapReturnsAllRecordsInInputOrder) {
  HashOverride h(LengthHash);  // "a" and "b" collide; so do "aa" and "bb"
  testing::TempDir dir;
  Items items = {{"a", "0"}, {"b", "1"}, {"a", "2"}, {"aa", "3"}, {"a", "4"}, {"bb", "5"}};
  ASSERT_TRUE(BuildRaw(dir.File("mm"), CollectionKind::kMultiMap, KeyKind::kStr, items, 0).ok());
  auto b = Load(dir.File("mm"));
  EXPECT_EQ(b->layout.key_count, 4u);
  std::map<std::string, std::vector<uint32_t>> expect = {
      {"a", {0, 2, 4}}, {"b", {1}}, {"aa", {3}}, {"bb", {5}}};
  for (const auto& [k, ids] : expect) {
    auto ord = internal::FindOrdinal(b->layout, k);
    ASSERT_TRUE(ord.ok() && ord->has_value()) << k;
    auto r = internal::RangeAt(b->layout, **ord);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(Ids(*r), ids) << k;
  }
  EXPECT_FALSE(internal::FindOrdinal(b->layout, "c")->has_value());
  EXPECT_TRUE(internal::VerifyLayout(b->layout).ok());
}

TEST(SegmentLayout, ApproxMultiMapCandidatesCoverEveryMatch) {
  testing::TempDir dir;
  Items items;
  for (uint64_t i = 0; i < 20000; ++i) items.emplace_back(Key(i % 5000), std::to_string(i));
  ASSERT_TRUE(
      BuildRaw(dir.File("ap"), CollectionKind::kApproxMultiMap, KeyKind::kStr, items).ok());
  auto b = Load(dir.File("ap"));
  EXPECT_EQ(b->layout.key_count, 5000u);  // no stray fingerprint collisions at this size
  for (uint64_t k = 0; k < 5000; k += 97) {
    auto ord = internal::FindOrdinal(b->layout, Key(k));
    ASSERT_TRUE(ord.ok() && ord->has_value());
    std::vector<uint32_t> ids = Ids(*internal::RangeAt(b->layout, **ord));
    for (uint32_t j = 0; j < 4; ++j) {
      EXPECT_NE(std::find(ids.begin(), ids.end(), k + 5000 * j), ids.end());
    }
  }
  EXPECT_TRUE(internal::VerifyLayout(b->layout).ok());
}

TEST(SegmentLayout, OutputIsDeterministicWhateverTheBudget) {
  testing::TempDir dir;
  Items items;
  for (uint64_t i = 0; i < 20000; ++i) items.emplace_back(Key(i % 3000), Record(i % 7000));
  for (CollectionKind kind : {CollectionKind::kMultiMap, CollectionKind::kApproxMultiMap}) {
    ASSERT_TRUE(BuildRaw(dir.File("a"), kind, KeyKind::kStr, items).ok());
    ASSERT_TRUE(BuildRaw(dir.File("b"), kind, KeyKind::kStr, items, 0).ok());  // many runs
    EXPECT_EQ(testing::ReadFileOrDie(dir.File("a")), testing::ReadFileOrDie(dir.File("b")));
  }
}

TEST(SegmentLayout, RejectsUnknownIncompatibleFeatureAndNewerMajor) {
  testing::TempDir dir;
  ASSERT_TRUE(BuildRaw(dir.File("a"), CollectionKind::kArray, KeyKind::kNone, {{"", "x"}}).ok());
  std::string bytes = testing::ReadFileOrDie(dir.File("a"));
  auto reseal = [](std::string* b) {
    sf::Header h;
    std::memcpy(&h, b->data(), sizeof(h));
    h.header_checksum = 0;
    std::memcpy(b->data(), &h, sizeof(h));
    h.header_checksum = XXH3_64bits(b->data(), 128 + 32 * h.section_count);
    std::memcpy(b->data(), &h, sizeof(h));
  };
  std::string feat = bytes;
  feat[23] |= 0x40;  // bit 62: allotted to nothing
  reseal(&feat);
  auto l = internal::ParseLayout(reinterpret_cast<const uint8_t*>(feat.data()), feat.size(), "f");
  EXPECT_EQ(l.status().code(), StatusCode::kNotSupported);
  std::string major = bytes;
  major[8] = 2;
  reseal(&major);
  l = internal::ParseLayout(reinterpret_cast<const uint8_t*>(major.data()), major.size(), "f");
  EXPECT_EQ(l.status().code(), StatusCode::kNotSupported);
  std::string compat = bytes;
  compat[24] = 1;
  reseal(&compat);
  l = internal::ParseLayout(reinterpret_cast<const uint8_t*>(compat.data()), compat.size(), "f");
  EXPECT_TRUE(l.ok());
}

// Every lookup path over a possibly corrupt layout: must not crash.
void Exercise(const SegmentLayout& l) {
  for (uint64_t i = 0; i < std::min<uint64_t>(l.record_count, 64); ++i) {
    (void)internal::ReadRecordItem(l, i);
  }
  if (l.kind == CollectionKind::kArray) return;
  for (uint64_t i = 0; i < std::min<uint64_t>(l.key_count, 64); ++i) {
    (void)internal::ReadEntryItem(l, i);
    if (l.ranges.present) (void)internal::RangeAt(l, i);
  }
  for (int i = 0; i < 40; ++i) (void)internal::FindOrdinal(l, Key(i));
}

TEST(SegmentLayout, CorruptionSweepNeverCrashesAndVerifyCatchesEveryFlip) {
  testing::TempDir dir;
  Items items;
  for (uint64_t i = 0; i < 40; ++i) items.emplace_back(Key(i % 30), Record(i));
  for (CollectionKind kind : {CollectionKind::kArray, CollectionKind::kMapping,
                              CollectionKind::kMultiMap, CollectionKind::kApproxMultiMap}) {
    Items in = items;
    if (kind == CollectionKind::kArray) {
      for (auto& it : in) it.first.clear();
    }
    if (kind == CollectionKind::kMapping) in.resize(30);
    ASSERT_TRUE(BuildRaw(dir.File("c"), kind,
                         kind == CollectionKind::kArray ? KeyKind::kNone : KeyKind::kStr, in)
                    .ok());
    const std::string good = testing::ReadFileOrDie(dir.File("c"));
    // Truncations.
    for (size_t len = 0; len < good.size(); len += (len < 512 ? 1 : 37)) {
      std::string t = good.substr(0, len);
      auto l = internal::ParseLayout(reinterpret_cast<const uint8_t*>(t.data()), t.size(), "t");
      EXPECT_FALSE(l.ok()) << len;
      if (l.ok()) {
        Exercise(*l);
      } else {
        const std::string& m = l.status().message();
        EXPECT_TRUE(m.starts_with("t: offset ") ||
                    (len < 8 && m == "t: not a mapfs segment (no magic)")) << m;
      }
    }
    // Every single-byte flip: open or full verification must notice it, and
    // lookups on what open accepts must not crash.
    for (size_t at = 0; at < good.size(); ++at) {
      std::string f = good;
      f[at] ^= 0x5a;
      auto l = internal::ParseLayout(reinterpret_cast<const uint8_t*>(f.data()), f.size(), "f");
      if (!l.ok()) {
        EXPECT_TRUE(l.status().IsCorruption() ||
                    l.status().code() == StatusCode::kNotSupported);
        continue;
      }
      Exercise(*l);
      Status st = internal::VerifyLayout(*l);
      EXPECT_TRUE(st.IsCorruption()) << "flip at " << at << " undetected";
    }
  }
}

}  // namespace
}  // namespace mapfs
