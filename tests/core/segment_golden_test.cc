// Golden segment: a tiny mapping whose bytes are pinned, so that any change
// of the on-disk format shows up here (and must come with a version bump and
// an update of docs/format.md). The byte map below follows the spec.
#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "build_internal.h"
#include "segment_internal.h"
#include "test_util.h"

namespace mapfs {
namespace {

namespace sf = segment_format;

template <typename T>
T At(const std::string& b, size_t off) {
  T v;
  std::memcpy(&v, b.data() + off, sizeof(T));
  return v;
}

std::string BuildGolden(const std::string& path) {
  SegmentWriter::Params p;
  p.path = path;
  p.schema_json = "{\"structs\":[]}";
  p.kind = CollectionKind::kMapping;
  p.key_kind = KeyKind::kStr;
  auto w = SegmentWriter::Create(p);
  EXPECT_TRUE(w.ok());
  EXPECT_TRUE((*w)->Add("apple", "red").ok());
  EXPECT_TRUE((*w)->Add("kiwi", "green").ok());
  EXPECT_TRUE((*w)->Add("plum", "purple!!").ok());
  EXPECT_TRUE((*w)->Finish().ok());
  return testing::ReadFileOrDie(path);
}

TEST(SegmentGolden, ByteMapFollowsTheSpec) {
  testing::TempDir dir;
  const std::string b = BuildGolden(dir.File("g.mapfs"));
  // Header 0..128, table of 5 entries 128..288, schema 320, data 384 (three
  // 24-byte items), record offsets 512, directory 576, entries 640.
  EXPECT_EQ(b.substr(0, 8), "MAPFSSEG");
  EXPECT_EQ(At<uint16_t>(b, 8), 1);
  EXPECT_EQ(At<uint16_t>(b, 10), 1);
  EXPECT_EQ(At<uint32_t>(b, 12), 128u);
  EXPECT_EQ(At<uint64_t>(b, 32), b.size());
  EXPECT_EQ(b[40], 1);  // mapping
  EXPECT_EQ(b[41], 1);  // str keys
  EXPECT_EQ(b[42], 0);  // 2^0 buckets: 3 keys
  EXPECT_EQ(At<uint32_t>(b, 44), 5u);
  EXPECT_EQ(At<uint64_t>(b, 48), 3u);
  EXPECT_EQ(At<uint64_t>(b, 56), 3u);
  EXPECT_EQ(At<int32_t>(b, 64), 0);
  EXPECT_EQ(At<int32_t>(b, 68), -1);
  EXPECT_EQ(At<uint64_t>(b, 72), sf::kDefaultHashSeed);
  // Section table in file order: schema, data, record offsets, directory, entries.
  const uint32_t kinds[] = {1, 2, 3, 4, 5};
  const uint64_t offsets[] = {320, 384, 512, 576, 640};
  const uint64_t sizes[] = {14, 8 + 8 + 8 + 8 + 8 + 8 + 8 + 8 + 8, 24, 8, 24};
  for (int i = 0; i < 5; ++i) {
    const size_t e = 128 + 32 * i;
    EXPECT_EQ(At<uint32_t>(b, e), kinds[i]) << i;
    EXPECT_EQ(At<uint64_t>(b, e + 8), offsets[i]) << i;
    EXPECT_EQ(At<uint64_t>(b, e + 16), sizes[i]) << i;
    EXPECT_EQ(At<uint64_t>(b, e + 24), XXH3_64bits(b.data() + offsets[i], sizes[i])) << i;
  }
  EXPECT_EQ(b.substr(320, 14), "{\"structs\":[]}");
  // First item: key_size 5, record_size 3, "apple" + 3 zero bytes, "red" + 5 zero bytes.
  EXPECT_EQ(At<uint32_t>(b, 384), 5u);
  EXPECT_EQ(At<uint32_t>(b, 388), 3u);
  EXPECT_EQ(b.substr(392, 8), std::string("apple\0\0\0", 8));
  EXPECT_EQ(b.substr(400, 8), std::string("red\0\0\0\0\0", 8));
  // Record offsets: items at 0, 24, 48 of the data section.
  EXPECT_EQ(At<uint64_t>(b, 512), 0u);
  EXPECT_EQ(At<uint64_t>(b, 520), 24u);
  EXPECT_EQ(At<uint64_t>(b, 528), 48u);
  // Directory: one bucket holding all three entries.
  EXPECT_EQ(At<uint32_t>(b, 576), 0u);
  EXPECT_EQ(At<uint32_t>(b, 580), 3u);
  // Entries sorted by hash, each fp << 40 | item offset / 8.
  uint64_t prev_hash = 0;
  for (int i = 0; i < 3; ++i) {
    const uint64_t e = At<uint64_t>(b, 640 + 8 * i);
    const uint64_t item = (e & sf::kItemOffsetMask) * 8;
    const uint32_t key_size = At<uint32_t>(b, 384 + item);
    const uint64_t h = XXH3_64bits_withSeed(b.data() + 384 + item + 8, key_size,
                                            sf::kDefaultHashSeed);
    EXPECT_EQ(e >> 40, h >> 40) << i;  // k = 0: the fingerprint is the top 24 bits
    EXPECT_GE(h, prev_hash);
    prev_hash = h;
  }
  EXPECT_EQ(b.size(), 704u);  // 640 + 24, padded to 64
}

// Hex of b[from, to), for a failure message.
std::string Hex(const std::string& b, size_t from, size_t to) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = from; i < to && i < b.size(); ++i) {
    if (i > from) out += ' ';
    out += kHex[static_cast<uint8_t>(b[i]) >> 4];
    out += kHex[static_cast<uint8_t>(b[i]) & 15];
  }
  return out;
}

// Empty when equal; else the first differing offset with 16 bytes of each
// side around it.
std::string FirstDifference(const std::string& expected, const std::string& actual) {
  size_t i = 0;
  while (i < expected.size() && i < actual.size() && expected[i] == actual[i]) ++i;
  if (i == expected.size() && i == actual.size()) return "";
  const size_t from = i < 8 ? 0 : i - 8;
  return "sizes " + std::to_string(expected.size()) + " (expected) and " +
         std::to_string(actual.size()) + " (actual); first difference at offset " +
         std::to_string(i) + "\n  expected [" + std::to_string(from) + ", ...): " +
         Hex(expected, from, from + 16) + "\n  actual   [" + std::to_string(from) + ", ...): " +
         Hex(actual, from, from + 16);
}

TEST(SegmentGolden, BytesArePinned) {
  testing::TempDir dir;
  const std::string b = BuildGolden(dir.File("g.mapfs"));
  // tests/data/segment_golden.mapfs holds the expected bytes; its hash pins
  // the file itself. Update both only together with a format version bump
  // and docs/format.md (MAPFS_WRITE_GOLDEN=<path> writes the new bytes).
  if (const char* out = std::getenv("MAPFS_WRITE_GOLDEN")) testing::WriteFileOrDie(out, b);
  const std::string expected =
      testing::ReadFileOrDie(std::string(MAPFS_TEST_DATA_DIR) + "/segment_golden.mapfs");
  EXPECT_EQ(XXH3_64bits(expected.data(), expected.size()), 0x8696a8b5a93033aull);
  EXPECT_EQ(FirstDifference(expected, b), "");
}

TEST(SegmentGolden, DifferencesNameTheirOffsetAndBytes) {
  const std::string a("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a", 11);
  std::string b = a;
  b[9] = '\xff';
  EXPECT_EQ(FirstDifference(a, a), "");
  EXPECT_EQ(FirstDifference(a, b),
            "sizes 11 (expected) and 11 (actual); first difference at offset 9\n"
            "  expected [1, ...): 01 02 03 04 05 06 07 08 09 0a\n"
            "  actual   [1, ...): 01 02 03 04 05 06 07 08 ff 0a");
  EXPECT_NE(FirstDifference(a, a.substr(0, 5)).find("first difference at offset 5"),
            std::string::npos);
}

}  // namespace
}  // namespace mapfs
