// Key <-> file name escaping: reversible, canonical, and within NAME_MAX.
#include "name_escape.h"

#include <gtest/gtest.h>

namespace mapfs::fs {
namespace {

TEST(NameEscape, EscapesSlashPercentNulAndLeadingDotOrAt) {
  EXPECT_EQ(EscapeName("a/b"), "a%2Fb");
  EXPECT_EQ(EscapeName("/a/"), "%2Fa%2F");
  EXPECT_EQ(EscapeName("abc"), "abc");
  EXPECT_EQ(EscapeName("100%"), "100%25");
  EXPECT_EQ(EscapeName(std::string("a\0b", 3)), "a%00b");
  EXPECT_EQ(EscapeName("."), "%2E");
  EXPECT_EQ(EscapeName(".."), "%2E.");
  EXPECT_EQ(EscapeName("@x"), "%40x");
  EXPECT_EQ(EscapeName("x.@"), "x.@");
  EXPECT_EQ(EscapeName(""), "%");
}

TEST(NameEscape, KeepsNewlinesAndNonUtf8Bytes) {
  EXPECT_EQ(EscapeName("a\nb"), "a\nb");
  EXPECT_EQ(EscapeName("\xff\xfe"), "\xff\xfe");
}

TEST(NameEscape, RoundTripsHostileKeys) {
  const std::string keys[] = {"/", "%", ".", "..", "@x", "", std::string(1, '\0'), "a\nb",
                              "\xc3\x28", "%2F", "%%", "/./", std::string(300, 'k')};
  for (const std::string& key : keys) {
    std::optional<std::string> back = UnescapeName(EscapeName(key));
    ASSERT_TRUE(back.has_value()) << key;
    EXPECT_EQ(*back, key);
  }
}

TEST(NameEscape, RejectsNonCanonicalNames) {
  EXPECT_FALSE(UnescapeName("%41"));   // 'A' needs no escape
  EXPECT_FALSE(UnescapeName("%2f"));   // lower-case hex
  EXPECT_FALSE(UnescapeName("%2"));    // truncated escape
  EXPECT_FALSE(UnescapeName(".x"));    // leading '.' must be escaped
  EXPECT_FALSE(UnescapeName("@json"));
  EXPECT_FALSE(UnescapeName("a%~1.0123456789abcdef"));
  EXPECT_FALSE(UnescapeName(""));
  EXPECT_FALSE(UnescapeName("x%2E"));  // only a leading . is escaped
}

TEST(NameEscape, LongKeysGetIndexedNamesWithinNameMax) {
  const std::string key(300, 'k');
  const std::string name = KeyName(key, 42);
  EXPECT_LE(name.size(), kMaxNameBytes);
  EXPECT_EQ(ParseIndexedName(name), 42u);
  EXPECT_EQ(name.substr(0, kIndexedPrefixBytes), std::string(kIndexedPrefixBytes, 'k'));
}

TEST(NameEscape, IndexedNamesNeverCutAnEscape) {
  const std::string key = std::string(199, 'a') + std::string(100, '/');
  const std::string name = KeyName(key, 7);
  const size_t marker = name.find("%~");
  ASSERT_NE(marker, std::string::npos);
  EXPECT_TRUE(UnescapeName(name.substr(0, marker)).has_value());
}

TEST(NameEscape, ParsesStrictDecimals) {
  EXPECT_EQ(ParseDecimal("0"), 0u);
  EXPECT_EQ(ParseDecimal("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(ParseDecimal("18446744073709551616"));
  EXPECT_FALSE(ParseDecimal("01"));
  EXPECT_FALSE(ParseDecimal("+1"));
  EXPECT_FALSE(ParseDecimal(""));
  EXPECT_FALSE(ParseDecimal("1a"));
}

}  // namespace
}  // namespace mapfs::fs
