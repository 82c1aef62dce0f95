// Block checksums (docs/format.md, "Block checksums"): every read proves the
// bytes it returns, so a flipped byte in a record, an index section or the
// postings gives Corruption instead of data, untouched blocks still read, and
// each block is hashed once. 1.0 files (no block checksums) are proven a
// whole section at a time.
#include <gtest/gtest.h>
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "build_internal.h"
#include "mapfs/segment.h"
#include "mapfs/segment_builder.h"
#include "segment_internal.h"
#include "segment_reseal.h"
#include "test_util.h"

namespace mapfs {
namespace {

namespace sf = segment_format;
using internal::SegmentLayout;

Schema KvSchema() { return testing::MakeSchema({{"Kv", "", {{"name", "str"}, {"text", "str"}}}}); }

std::string Name(uint64_t i) { return "key-" + std::to_string(i); }
// ~200 bytes a record: 2000 records fill several 64 KiB blocks.
std::string Text(uint64_t i) {
  return std::to_string(i) + std::string(150 + i % 50, static_cast<char>('a' + i % 26));
}

std::string BuildKv(const std::string& path, CollectionKind kind, uint64_t n, uint64_t keys) {
  const Schema schema = KvSchema();
  SegmentOptions o;
  o.kind = kind;
  if (kind != CollectionKind::kArray) o.key_field = *schema.struct_def(0).FindField("name");
  auto b = SegmentBuilder::Create(path, schema, 0, o);
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  for (uint64_t i = 0; i < n; ++i) {
    Status st = (*b)->Add(
        Value::Struct("Kv", {{"name", Value::Str(Name(i % keys))}, {"text", Value::Str(Text(i))}}));
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  Status st = (*b)->Finish();
  EXPECT_TRUE(st.ok()) << st.ToString();
  return testing::ReadFileOrDie(path);
}

SegmentInfo::Section SectionOf(const std::string& bytes, std::string_view name) {
  auto seg = Segment::FromMemory(bytes.data(), bytes.size(), "s");
  EXPECT_TRUE(seg.ok()) << seg.status().ToString();
  const SegmentInfo info = seg->Info();
  const SegmentInfo::Section* s = info.section(name);
  EXPECT_NE(s, nullptr) << name;
  return s == nullptr ? SegmentInfo::Section{} : *s;
}

uint64_t OffsetIn(const Segment& seg, std::string_view bytes) {
  return static_cast<uint64_t>(bytes.data() - seg.bytes().data());
}

void ExpectBlockCorruption(const Status& st, uint64_t flipped_at) {
  ASSERT_TRUE(st.IsCorruption()) << st.ToString();
  const uint64_t block = flipped_at >> sf::kChecksumBlockBits;
  EXPECT_NE(st.message().find("checksum mismatch in block " + std::to_string(block) + " (bytes "),
            std::string::npos)
      << st.message();
  EXPECT_TRUE(st.message().starts_with("bad: offset ")) << st.message();
}

TEST(SegmentIntegrity, BuilderWritesBlockChecksumsOfEveryBlock) {
  testing::TempDir dir;
  const std::string b = BuildKv(dir.File("m"), CollectionKind::kMapping, 2000, 2000);
  auto seg = Segment::FromMemory(b.data(), b.size(), "m");
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  EXPECT_EQ(seg->minor_version(), 1);
  const SegmentInfo info = seg->Info();
  EXPECT_EQ(info.incompat_features, sf::kFeatureBlockChecksums);
  const SegmentInfo::Section* sums = info.section("block_checksums");
  ASSERT_NE(sums, nullptr);
  ASSERT_GT(b.size(), 3 * sf::kChecksumBlockSize);
  const uint64_t first = info.sections.front().offset;
  EXPECT_EQ(sums->offset, info.sections.back().offset);
  ASSERT_EQ(sums->size, 8 * ((sums->offset + sf::kChecksumBlockSize - 1) / sf::kChecksumBlockSize));
  for (uint64_t i = 0; i < sums->size / 8; ++i) {
    const uint64_t lo = std::max(i * sf::kChecksumBlockSize, first);
    const uint64_t hi = std::min((i + 1) * sf::kChecksumBlockSize, sums->offset);
    uint64_t stored;
    std::memcpy(&stored, b.data() + sums->offset + 8 * i, 8);
    EXPECT_EQ(stored, XXH3_64bits(b.data() + lo, hi - lo)) << i;
  }
  EXPECT_TRUE(seg->Verify().ok());
}

TEST(SegmentIntegrity, FlippedRecordByteIsCorruptionAndOtherBlocksStillRead) {
  testing::TempDir dir;
  const std::string good = BuildKv(dir.File("m"), CollectionKind::kMapping, 2000, 2000);
  auto pristine = Segment::FromMemory(good.data(), good.size(), "good");
  ASSERT_TRUE(pristine.ok());
  const uint64_t victim = 1000;
  auto rec = pristine->RecordBytes(victim);
  ASSERT_TRUE(rec.ok());
  const uint64_t at = OffsetIn(*pristine, *rec) + rec->size() - 3;  // inside the text
  std::string bad = good;
  bad[at] ^= 0x01;
  auto seg = Segment::FromMemory(bad.data(), bad.size(), "bad");
  ASSERT_TRUE(seg.ok()) << "open stays O(sections): " << seg.status().ToString();
  ExpectBlockCorruption(seg->RecordBytes(victim).status(), at);
  ExpectBlockCorruption(seg->Record(victim).status(), at);
  ExpectBlockCorruption(seg->Find(Name(victim)).status(), at);
  // Records in other blocks read as before, byte for byte.
  uint64_t other_blocks = 0;
  for (uint64_t i = 0; i < 2000; ++i) {
    auto want = pristine->RecordBytes(i);
    ASSERT_TRUE(want.ok());
    const uint64_t lo = OffsetIn(*pristine, *want) - 8 - 8;  // item header and key
    const uint64_t hi = OffsetIn(*pristine, *want) + want->size();
    if ((lo >> sf::kChecksumBlockBits) <= (at >> sf::kChecksumBlockBits) &&
        (at >> sf::kChecksumBlockBits) <= (hi >> sf::kChecksumBlockBits)) {
      continue;
    }
    auto got = seg->RecordBytes(i);
    ASSERT_TRUE(got.ok()) << i << ": " << got.status().ToString();
    EXPECT_EQ(*got, *want);
    ++other_blocks;
  }
  EXPECT_GT(other_blocks, 1000u);
  EXPECT_TRUE(seg->Verify().IsCorruption());
}

TEST(SegmentIntegrity, FlippedIndexBytesAreCorruptionForTheLookupsThatReadThem) {
  testing::TempDir dir;
  const std::string good = BuildKv(dir.File("mm"), CollectionKind::kMultiMap, 30000, 12000);
  auto pristine = Segment::FromMemory(good.data(), good.size(), "good");
  ASSERT_TRUE(pristine.ok());
  for (std::string_view section :
       {"entries", "directory", "ranges", "postings", "record_offsets"}) {
    SCOPED_TRACE(section);
    const SegmentInfo::Section s = SectionOf(good, section);
    const uint64_t at = s.offset + s.size / 2;
    std::string bad = good;
    bad[at] ^= 0x40;
    auto seg = Segment::FromMemory(bad.data(), bad.size(), "bad");
    ASSERT_TRUE(seg.ok()) << seg.status().ToString();
    // Every key lookup and record read either fails on the flipped block or
    // returns exactly what the good file holds; some fail.
    uint64_t failed = 0, served = 0;
    for (uint64_t k = 0; k < 12000; ++k) {
      auto ids = seg->FindAll(Name(k));
      if (!ids.ok()) {
        ExpectBlockCorruption(ids.status(), at);
        ++failed;
        continue;
      }
      auto want = pristine->FindAll(Name(k));
      ASSERT_TRUE(want.ok());
      ASSERT_EQ(ids->size(), want->size()) << k;
      for (uint32_t j = 0; j < ids->size(); ++j) ASSERT_EQ((*ids)[j], (*want)[j]);
      ++served;
    }
    for (uint64_t i = 0; i < 30000; ++i) {
      auto r = seg->RecordBytes(i);
      if (!r.ok()) {
        ExpectBlockCorruption(r.status(), at);
        ++failed;
        continue;
      }
      ASSERT_EQ(*r, *pristine->RecordBytes(i));
      ++served;
    }
    EXPECT_GT(failed, 0u);
    EXPECT_GT(served, 0u);
  }
}

TEST(SegmentIntegrity, EachBlockIsHashedOnceAndRemembered) {
  testing::TempDir dir;
  std::string bytes = BuildKv(dir.File("a"), CollectionKind::kArray, 2000, 1);
  auto l = internal::ParseLayout(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "a");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  // 1 bit per 64 KiB block.
  const uint64_t blocks = (l->block_sums.file_offset + 65535) / 65536;
  EXPECT_EQ(internal::CheckedBitmapBytes(*l), (blocks + 63) / 64 * 8);
  EXPECT_EQ(internal::CheckedUnitCount(*l), 0u);
  auto first = internal::ReadRecordItem(*l, 0);
  ASSERT_TRUE(first.ok());
  const uint64_t after_one = internal::CheckedUnitCount(*l);
  EXPECT_GE(after_one, 1u);
  EXPECT_LE(after_one, 3u);  // its item's block and its record offset's block
  // Once proven, a block is not hashed again: a byte changed under it
  // afterwards (which a mapped immutable file never does) goes unnoticed.
  const uint64_t rec_at =
      static_cast<uint64_t>(reinterpret_cast<const uint8_t*>(first->record.data()) - l->base);
  bytes[rec_at] ^= 0x01;
  EXPECT_TRUE(internal::ReadRecordItem(*l, 0).ok());
  EXPECT_EQ(internal::CheckedUnitCount(*l), after_one);
  bytes[rec_at] ^= 0x01;
  for (uint64_t i = 0; i < l->record_count; ++i) ASSERT_TRUE(internal::ReadRecordItem(*l, i).ok());
  // Reading every record proves every block but the schema's-only ones.
  EXPECT_GE(internal::CheckedUnitCount(*l), blocks - 1);
  EXPECT_TRUE(internal::VerifyAllUnits(*l).ok());
  EXPECT_EQ(internal::CheckedUnitCount(*l), blocks);
}

TEST(SegmentIntegrity, CheckRangeCoversAnyRangeOfTheDataSection) {
  testing::TempDir dir;
  const std::string good = BuildKv(dir.File("a"), CollectionKind::kArray, 2000, 1);
  const SegmentInfo::Section data = SectionOf(good, "data");
  std::string bad = good;
  const uint64_t at = data.offset + 3 * sf::kChecksumBlockSize / 2;
  bad[at] ^= 0x80;
  auto seg = Segment::FromMemory(bad.data(), bad.size(), "bad");
  ASSERT_TRUE(seg.ok());
  EXPECT_TRUE(seg->CheckRange(data.offset, 16).ok());
  ExpectBlockCorruption(seg->CheckRange(at, 1), at);
  ExpectBlockCorruption(seg->CheckRange(data.offset, data.size), at);
  EXPECT_TRUE(seg->CheckRange(at + sf::kChecksumBlockSize, 8).ok());
  EXPECT_TRUE(seg->CheckRange(0, 0).ok());
  EXPECT_TRUE(seg->CheckRange(seg->file_size(), 1).IsCorruption());
  EXPECT_TRUE(seg->CheckRange(UINT64_MAX, 2).IsCorruption());
}

TEST(SegmentIntegrity, OpenChecksTheChecksumSectionAndTheSchemaOnly) {
  testing::TempDir dir;
  const std::string good = BuildKv(dir.File("m"), CollectionKind::kMapping, 50, 50);
  const SegmentInfo::Section sums = SectionOf(good, "block_checksums");
  const SegmentInfo::Section schema = SectionOf(good, "schema");
  std::string bad = good;
  bad[sums.offset + 3] ^= 0x01;
  auto seg = Segment::FromMemory(bad.data(), bad.size(), "bad");
  ASSERT_FALSE(seg.ok());
  EXPECT_NE(seg.status().message().find("checksum mismatch in the block checksums"),
            std::string::npos);
  bad = good;
  bad[schema.offset + 1] ^= 0x01;
  seg = Segment::FromMemory(bad.data(), bad.size(), "bad");
  ASSERT_FALSE(seg.ok());
  EXPECT_EQ(seg.status().message(),
            "bad: offset " + std::to_string(schema.offset) +
                ": checksum mismatch in the section at bytes " + std::to_string(schema.offset) +
                ".." + std::to_string(schema.offset + schema.size));
  // A bad record in the schema's block does not stop the open; its reads fail.
  const SegmentInfo::Section data = SectionOf(good, "data");
  ASSERT_EQ(data.offset >> sf::kChecksumBlockBits, schema.offset >> sf::kChecksumBlockBits);
  bad = good;
  bad[data.offset + 20] ^= 0x01;
  seg = Segment::FromMemory(bad.data(), bad.size(), "bad");
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  ExpectBlockCorruption(seg->RecordBytes(0).status(), data.offset + 20);
}

// Rewrites a 1.1 file as the 1.0 file with the same sections: no feature
// bit, no block checksum section.
std::string DowngradeTo10(std::string b) {
  EXPECT_TRUE(testing::DowngradeSegmentTo10(&b));
  return b;
}

TEST(SegmentIntegrity, OldFilesAreProvenASectionAtATime) {
  testing::TempDir dir;
  const std::string good =
      DowngradeTo10(BuildKv(dir.File("m"), CollectionKind::kMapping, 2000, 2000));
  auto pristine = Segment::FromMemory(good.data(), good.size(), "good");
  ASSERT_TRUE(pristine.ok()) << pristine.status().ToString();
  EXPECT_EQ(pristine->minor_version(), 0);
  const SegmentInfo info = pristine->Info();
  EXPECT_EQ(info.section("block_checksums"), nullptr);
  EXPECT_TRUE(pristine->Verify().ok());
  auto hit = pristine->Find(Name(7));
  ASSERT_TRUE(hit.ok() && hit->has_value());
  const SegmentInfo::Section data = SectionOf(good, "data");
  std::string bad = good;
  const uint64_t at = data.offset + data.size - 2;
  bad[at] ^= 0x01;
  auto seg = Segment::FromMemory(bad.data(), bad.size(), "bad");
  ASSERT_TRUE(seg.ok());
  // The whole data section is one unit: every record read fails.
  for (uint64_t i : {0, 7, 1999}) {
    Status st = seg->RecordBytes(i).status();
    ASSERT_TRUE(st.IsCorruption()) << st.ToString();
    EXPECT_NE(st.message().find("checksum mismatch in the section at bytes " +
                                std::to_string(data.offset) + ".." +
                                std::to_string(data.offset + data.size)),
              std::string::npos)
        << st.message();
  }
  EXPECT_TRUE(seg->Find(Name(7)).status().IsCorruption());
  // A 1.0 file may not carry a block checksum section without the bit.
  std::string stray = BuildKv(dir.File("m2"), CollectionKind::kMapping, 5, 5);
  sf::Header h;
  std::memcpy(&h, stray.data(), sizeof(h));
  h.incompat_features = 0;
  h.header_checksum = 0;
  std::memcpy(stray.data(), &h, sizeof(h));
  h.header_checksum = XXH3_64bits(stray.data(), sizeof(h) + 32 * uint64_t{h.section_count});
  std::memcpy(stray.data(), &h, sizeof(h));
  EXPECT_TRUE(Segment::FromMemory(stray.data(), stray.size(), "s").status().IsCorruption());
}

TEST(SegmentIntegrity, UnknownIncompatibleBitIsNotSupported) {
  testing::TempDir dir;
  std::string b = BuildKv(dir.File("m"), CollectionKind::kMapping, 5, 5);
  sf::Header h;
  std::memcpy(&h, b.data(), sizeof(h));
  h.incompat_features |= uint64_t{1} << 40;
  h.header_checksum = 0;
  std::memcpy(b.data(), &h, sizeof(h));
  h.header_checksum = XXH3_64bits(b.data(), sizeof(h) + 32 * uint64_t{h.section_count});
  std::memcpy(b.data(), &h, sizeof(h));
  auto seg = Segment::FromMemory(b.data(), b.size(), "m");
  EXPECT_EQ(seg.status().code(), StatusCode::kNotSupported) << seg.status().ToString();
}

// All reads of a layout, as (what, bytes) pairs; errors as "error".
std::vector<std::string> ReadEverything(const SegmentLayout& l, uint64_t keys) {
  std::vector<std::string> out;
  auto add = [&out](const Result<internal::RawItem>& r) {
    out.push_back(r.ok() ? std::string(r->key) + "|" + std::string(r->record) : "error");
  };
  for (uint64_t i = 0; i < l.record_count; ++i) add(internal::ReadRecordItem(l, i));
  for (uint64_t o = 0; o < l.key_count; ++o) {
    add(internal::ReadEntryItem(l, o));
    if (l.ranges.present) {
      auto r = internal::RangeAt(l, o);
      std::string s = r.ok() ? "ids" : "error";
      if (r.ok()) {
        for (uint32_t j = 0; j < r->size(); ++j) s += " " + std::to_string((*r)[j]);
      }
      out.push_back(s);
    }
  }
  for (uint64_t k = 0; l.kind != CollectionKind::kArray && k < keys + 5; ++k) {
    auto o = internal::FindOrdinal(l, Name(k));
    out.push_back(!o.ok() ? "error" : o->has_value() ? std::to_string(**o) : "absent");
  }
  return out;
}

// Every single-byte flip between the header area and the checksum section
// of small segments: each read either fails or returns what the good file
// holds, and the flip is always noticed by some read.
TEST(SegmentIntegrity, SweepNoFlippedByteIsEverServed) {
  testing::TempDir dir;
  for (CollectionKind kind : {CollectionKind::kArray, CollectionKind::kMapping,
                              CollectionKind::kMultiMap, CollectionKind::kApproxMultiMap}) {
    SCOPED_TRACE(static_cast<int>(kind));
    const uint64_t keys = kind == CollectionKind::kMapping ? 12 : 5;
    const std::string good = BuildKv(dir.File("s"), kind, 12, keys);
    auto gl =
        internal::ParseLayout(reinterpret_cast<const uint8_t*>(good.data()), good.size(), "good");
    ASSERT_TRUE(gl.ok());
    const std::vector<std::string> want = ReadEverything(*gl, keys);
    ASSERT_EQ(std::count(want.begin(), want.end(), "error"), 0);
    uint64_t flips = 0, noticed = 0;
    for (uint64_t at = gl->schema.file_offset; at < gl->block_sums.file_offset; ++at) {
      std::string f = good;
      f[at] ^= 0x20;
      auto l = internal::ParseLayout(reinterpret_cast<const uint8_t*>(f.data()), f.size(), "f");
      ++flips;
      if (!l.ok()) {  // open compares the directory's ends with the counts
        EXPECT_TRUE(l.status().IsCorruption()) << l.status().ToString();
        ++noticed;
        continue;
      }
      const std::vector<std::string> got = ReadEverything(*l, keys);
      ASSERT_EQ(got.size(), want.size());
      bool any_error = false;
      for (size_t i = 0; i < got.size(); ++i) {
        if (got[i] == "error") {
          any_error = true;
        } else {
          ASSERT_EQ(got[i], want[i]) << "flip at " << at << " served, read " << i;
        }
      }
      if (any_error) ++noticed;
    }
    // The file is one block, shared with the schema: every flip is noticed.
    EXPECT_GT(flips, 0u);
    EXPECT_EQ(noticed, flips);
  }
}

}  // namespace
}  // namespace mapfs
