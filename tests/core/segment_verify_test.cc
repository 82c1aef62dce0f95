// Segment::Verify against crafted files whose checksums were repaired after
// the damage, so only the structural checks can tell: a record id that
// reaches another key's record, an index entry that does not name its key's
// first record.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "mapfs/segment.h"
#include "mapfs/segment_builder.h"
#include "segment_format.h"
#include "segment_reseal.h"
#include "test_util.h"

namespace mapfs {
namespace {

namespace sf = segment_format;
using testing::MakeSchema;

Schema KvSchema() { return MakeSchema({{"Kv", "", {{"name", "str"}, {"v", "int64"}}}}); }

// Same-sized records: one item's bytes have the shape of any other's.
Value Kv(int i) {
  return Value::Struct("Kv", {{"name", Value::Str("key" + std::to_string(100 + i))},
                              {"v", Value::Int(i)}});
}

std::string Build(const testing::TempDir& dir, CollectionKind kind, const std::vector<Value>& v) {
  Schema schema = KvSchema();
  SegmentOptions o;
  o.kind = kind;
  o.key_field = *schema.struct_def(0).FindField("name");
  const std::string path = dir.File("kv.mapfs");
  auto b = SegmentBuilder::Create(path, schema, 0, o);
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_TRUE((*b)->AddAll(v).ok());
  EXPECT_TRUE((*b)->Finish().ok());
  return path;
}

// A crafted copy of a segment: edit sections, then repair every section
// checksum and the header checksum, as an attacker would.
class Crafted {
 public:
  explicit Crafted(const std::string& path) : bytes_(testing::ReadFileOrDie(path)) {
    std::memcpy(&h_, bytes_.data(), sizeof(h_));
  }
  // File offset of the section of `kind`.
  uint64_t Section(sf::SectionKind kind) const {
    for (uint32_t i = 0; i < h_.section_count; ++i) {
      sf::SectionEntry e = Entry(i);
      if (e.kind == static_cast<uint32_t>(kind)) return e.offset;
    }
    ADD_FAILURE() << "no section of kind " << static_cast<uint32_t>(kind);
    return 0;
  }
  template <typename T>
  T Get(uint64_t at) const {
    T v;
    std::memcpy(&v, bytes_.data() + at, sizeof(T));
    return v;
  }
  template <typename T>
  void Set(uint64_t at, T v) {
    std::memcpy(bytes_.data() + at, &v, sizeof(T));
  }
  void WriteResealed(const std::string& path) {
    ASSERT_TRUE(testing::ResealSegment(&bytes_));
    testing::WriteFileOrDie(path, bytes_);
  }

 private:
  static uint64_t TableAt(uint32_t i) { return sizeof(sf::Header) + sizeof(sf::SectionEntry) * i; }
  sf::SectionEntry Entry(uint32_t i) const { return Get<sf::SectionEntry>(TableAt(i)); }

  std::string bytes_;
  sf::Header h_;
};

std::vector<Value> Records(int n) {
  std::vector<Value> v;
  for (int i = 0; i < n; ++i) v.push_back(Kv(i));
  return v;
}

Status VerifyFile(const std::string& path) {
  auto seg = Segment::Open(path);
  if (!seg.ok()) return seg.status();
  return seg->Verify();
}

TEST(SegmentVerify, BuiltFilesVerify) {
  testing::TempDir dir;
  for (CollectionKind kind : {CollectionKind::kMapping, CollectionKind::kMultiMap}) {
    std::vector<Value> v = Records(20);
    v.push_back(Kv(3));  // multimaps: a repeated record is a shared item
    if (kind == CollectionKind::kMapping) v.pop_back();
    const std::string path = Build(dir, kind, v);
    Crafted c(path);
    c.WriteResealed(dir.File("same.mapfs"));  // resealing alone changes nothing
    EXPECT_TRUE(VerifyFile(dir.File("same.mapfs")).ok())
        << VerifyFile(dir.File("same.mapfs")).ToString();
  }
}

TEST(SegmentVerify, MappingRecordPointingAtAnotherKeysRecordIsRefused) {
  testing::TempDir dir;
  const std::string path = Build(dir, CollectionKind::kMapping, Records(20));
  Crafted c(path);
  const uint64_t offsets = c.Section(sf::SectionKind::kRecordOffsets);
  // Record 5 now reaches record 3's item (a well-formed item whose key is
  // record 3's): every item and key check still holds.
  c.Set<uint64_t>(offsets + 8 * 5, c.Get<uint64_t>(offsets + 8 * 3));
  c.WriteResealed(dir.File("bad.mapfs"));
  auto seg = Segment::Open(dir.File("bad.mapfs"));
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  ASSERT_TRUE(seg->VerifyChecksums().ok());
  Status st = seg->Verify();
  ASSERT_TRUE(st.IsCorruption()) << st.ToString();
  EXPECT_EQ(st.message(), dir.File("bad.mapfs") + ": offset " + std::to_string(offsets + 8 * 5) +
                              ": record 5: a mapping's record offsets must strictly "
                              "increase (each record is its own key's item)");
}

TEST(SegmentVerify, MappingRecordsSwappedBetweenKeysAreRefused) {
  testing::TempDir dir;
  const std::string path = Build(dir, CollectionKind::kMapping, Records(20));
  Crafted c(path);
  const uint64_t offsets = c.Section(sf::SectionKind::kRecordOffsets);
  const uint64_t a = c.Get<uint64_t>(offsets + 8 * 4);
  c.Set<uint64_t>(offsets + 8 * 4, c.Get<uint64_t>(offsets + 8 * 11));
  c.Set<uint64_t>(offsets + 8 * 11, a);
  c.WriteResealed(dir.File("bad.mapfs"));
  Status st = VerifyFile(dir.File("bad.mapfs"));
  ASSERT_TRUE(st.IsCorruption()) << st.ToString();
  EXPECT_NE(st.message().find(": offset " + std::to_string(offsets + 8 * 5) + ": record 5: "),
            std::string::npos)
      << st.message();
}

TEST(SegmentVerify, MultimapEntryNamingALaterRecordOfItsKeyIsRefused) {
  testing::TempDir dir;
  std::vector<Value> v = Records(10);
  // Key 103 gets a second record with other bytes.
  v.push_back(Value::Struct("Kv", {{"name", Value::Str("key103")}, {"v", Value::Int(-1)}}));
  const std::string path = Build(dir, CollectionKind::kMultiMap, v);
  ASSERT_TRUE(VerifyFile(path).ok());
  Crafted c(path);
  const uint64_t offsets = c.Section(sf::SectionKind::kRecordOffsets);
  const uint64_t entries = c.Section(sf::SectionKind::kEntries);
  // The entry of key103 names record 3's item; make it name record 10's
  // (same key, so its hash and fingerprint still match).
  const uint64_t item3 = c.Get<uint64_t>(offsets + 8 * 3);
  const uint64_t item10 = c.Get<uint64_t>(offsets + 8 * 10);
  int found = -1;
  for (int e = 0; e < 10; ++e) {
    const uint64_t v_e = c.Get<uint64_t>(entries + 8 * e);
    if (sf::EntryItemOffset(v_e) == item3) {
      found = e;
      c.Set<uint64_t>(entries + 8 * e, (v_e & ~sf::kItemOffsetMask) | (item10 / sf::kItemAlign));
    }
  }
  ASSERT_GE(found, 0);
  c.WriteResealed(dir.File("bad.mapfs"));
  Status st = VerifyFile(dir.File("bad.mapfs"));
  ASSERT_TRUE(st.IsCorruption()) << st.ToString();
  EXPECT_NE(st.message().find(": offset " + std::to_string(entries + 8 * found) +
                              ": index entry does not name its first record's item"),
            std::string::npos)
      << st.message();
}

}  // namespace
}  // namespace mapfs
