// Tests for the scalar text forms: Date, DateTime, Decimal (value.h) and the
// float, base64 and JSON string formatting of text_format.h. Expected strings
// are what CPython prints for the same values (repr(float), str(Decimal),
// base64.b64encode, datetime.fromisoformat).
#include "mapfs/text_format.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>

#include "mapfs/value.h"

namespace mapfs {
namespace {

// ------------------------------------------------------------------ Date

TEST(Date, EpochIsDayZero) {
  ASSERT_TRUE(Date::Parse("1970-01-01").ok());
  EXPECT_EQ(Date::Parse("1970-01-01")->days, 0);
  EXPECT_EQ(Date::Parse("1970-01-02")->days, 1);
  EXPECT_EQ(Date::Parse("1969-12-31")->days, -1);
}

TEST(Date, AcceptsTheWholeRange) {
  Result<Date> first = Date::Parse("0001-01-01");
  Result<Date> last = Date::Parse("9999-12-31");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(first->days, -719162);  // date(1,1,1).toordinal() - date(1970,1,1).toordinal()
  EXPECT_EQ(last->days, 2932896);
  EXPECT_EQ(first->ToString(), "0001-01-01");
  EXPECT_EQ(last->ToString(), "9999-12-31");
}

TEST(Date, LeapYearRules) {
  EXPECT_TRUE(Date::Parse("2000-02-29").ok());   // divisible by 400
  EXPECT_TRUE(Date::Parse("2024-02-29").ok());
  EXPECT_FALSE(Date::Parse("1900-02-29").ok());  // divisible by 100 only
  EXPECT_FALSE(Date::Parse("2023-02-29").ok());
  EXPECT_EQ(Date::Parse("2000-02-29")->days, 11016);
  EXPECT_EQ(Date::Parse("2000-03-01")->days, 11017);
}

TEST(Date, RejectsOutOfRangeParts) {
  EXPECT_EQ(Date::Parse("0000-01-01").status().message(), "year 0 out of range 1..9999");
  EXPECT_EQ(Date::Parse("2021-13-01").status().message(), "month 13 out of range 1..12");
  EXPECT_EQ(Date::Parse("2021-00-10").status().message(), "month 0 out of range 1..12");
  EXPECT_EQ(Date::Parse("2021-04-31").status().message(), "day 31 out of range for 2021-04");
  EXPECT_EQ(Date::Parse("2021-04-00").status().message(), "day 0 out of range for 2021-04");
  EXPECT_TRUE(Date::Parse("2021-04-31").status().IsInvalidArgument());
  EXPECT_FALSE(Date::FromYmd(10000, 1, 1).ok());
  EXPECT_FALSE(Date::FromYmd(0, 12, 31).ok());
}

TEST(Date, RejectsMalformedText) {
  for (const char* bad : {"", "10000-01-01", "2020-1-01", "2020-01-1", "2020/01/01", "2020-01-01x",
                          " 2020-01-01", "2020-01-01 ", "+020-01-01", "2020-0a-01", "20200101"}) {
    Result<Date> d = Date::Parse(bad);
    EXPECT_FALSE(d.ok()) << bad;
    EXPECT_EQ(d.status().message(), "date must be YYYY-MM-DD") << bad;
  }
}

TEST(Date, RoundTripsEveryThirteenthDay) {
  for (int32_t days = -719162; days <= 2932896; days += 13) {
    Date d{days};
    Result<Date> back = Date::Parse(d.ToString());
    ASSERT_TRUE(back.ok()) << d.ToString();
    ASSERT_EQ(back->days, days);
    int y, m, dd;
    d.ToYmd(&y, &m, &dd);
    ASSERT_EQ(Date::FromYmd(y, m, dd)->days, days);
  }
}

// ------------------------------------------------------------------ DateTime

constexpr int64_t k2020 = 1577836800000000;  // 2020-01-01T00:00:00Z in microseconds

TEST(DateTime, ParsesUtcAndNaive) {
  EXPECT_EQ(DateTime::Parse("2020-01-01T00:00:00Z")->micros, k2020);
  EXPECT_EQ(DateTime::Parse("2020-01-01T00:00:00z")->micros, k2020);
  EXPECT_EQ(DateTime::Parse("2020-01-01T00:00:00")->micros, k2020);  // naive is UTC
  EXPECT_EQ(DateTime::Parse("2020-01-01 00:00:00")->micros, k2020);  // space separator
  EXPECT_EQ(DateTime::Parse("1970-01-01T00:00:00Z")->micros, 0);
}

TEST(DateTime, ConvertsOffsetsToUtc) {
  EXPECT_EQ(DateTime::Parse("2020-01-01T05:30:00+05:30")->micros, k2020);
  EXPECT_EQ(DateTime::Parse("2020-01-01T05:30:00+0530")->micros, k2020);
  EXPECT_EQ(DateTime::Parse("2019-12-31T16:00:00-08:00")->micros, k2020);
  EXPECT_EQ(DateTime::Parse("2019-12-31T16:00:00-0800")->micros, k2020);
  EXPECT_EQ(DateTime::Parse("2020-01-01T00:00:00+00:00")->micros, k2020);
  EXPECT_EQ(DateTime::Parse("2020-01-01T00:00:00-00:00")->micros, k2020);
  EXPECT_EQ(DateTime::Parse("2020-01-01T00:00:00+05:30")->ToString(), "2019-12-31T18:30:00Z");
}

TEST(DateTime, KeepsMicrosecondsAndTruncatesFiner) {
  EXPECT_EQ(DateTime::Parse("2020-01-01T00:00:00.123456Z")->micros, k2020 + 123456);
  EXPECT_EQ(DateTime::Parse("2020-01-01T00:00:00.5")->micros, k2020 + 500000);
  EXPECT_EQ(DateTime::Parse("2020-01-01T00:00:00.000001")->micros, k2020 + 1);
  // Digits past the microsecond are truncated, never rounded up.
  EXPECT_EQ(DateTime::Parse("2020-01-01T00:00:00.1234569")->micros, k2020 + 123456);
  EXPECT_EQ(DateTime::Parse("2020-01-01T00:00:00.999999999")->micros, k2020 + 999999);
  EXPECT_EQ(DateTime::Parse("9999-12-31T23:59:59.999999999Z")->ToString(),
            "9999-12-31T23:59:59.999999Z");
}

TEST(DateTime, FormatsWithFractionOnlyWhenNonZero) {
  EXPECT_EQ(DateTime{k2020}.ToString(), "2020-01-01T00:00:00Z");
  EXPECT_EQ(DateTime{k2020 + 500000}.ToString(), "2020-01-01T00:00:00.500000Z");
  EXPECT_EQ(DateTime{k2020 + 1}.ToString(), "2020-01-01T00:00:00.000001Z");
  EXPECT_EQ(DateTime{-500000}.ToString(), "1969-12-31T23:59:59.500000Z");
  EXPECT_EQ(DateTime{-1}.ToString(), "1969-12-31T23:59:59.999999Z");
}

TEST(DateTime, EnforcesTheRangeAfterConversion) {
  EXPECT_TRUE(DateTime::Parse("0001-01-01T00:00:00Z").ok());
  EXPECT_TRUE(DateTime::Parse("9999-12-31T23:59:59.999999Z").ok());
  EXPECT_EQ(DateTime::Parse("0001-01-01T00:00:00Z")->ToString(), "0001-01-01T00:00:00Z");
  // Both are valid local times whose UTC instant falls outside the range.
  EXPECT_FALSE(DateTime::Parse("0001-01-01T00:30:00+01:00").ok());
  EXPECT_FALSE(DateTime::Parse("9999-12-31T23:59:59-00:01").ok());
  EXPECT_TRUE(DateTime::Parse("0001-01-01T01:00:00+01:00").ok());
}

TEST(DateTime, RejectsMalformedText) {
  for (const char* bad :
       {"", "2020-01-01", "2020-01-01T", "2020-01-01T00:00", "2020-01-01T24:00:00",
        "2020-01-01T00:60:00", "2020-01-01T00:00:60", "2020-01-01T00:00:00.",
        "2020-01-01T00:00:00.1234567890", "2020-01-01T00:00:00+05", "2020-01-01T00:00:00+5:30",
        "2020-01-01T00:00:00+24:00", "2020-01-01T00:00:00+05:60", "2020-01-01T00:00:00Zx",
        "2020-01-01T00:00:00 ", "2020-01-01X00:00:00", "2020-02-30T00:00:00",
        "2020-01-01T00:00:00+05:30:00", "2020-01-01T0:00:00"}) {
    Result<DateTime> dt = DateTime::Parse(bad);
    EXPECT_FALSE(dt.ok()) << bad;
    EXPECT_TRUE(dt.status().IsInvalidArgument()) << bad;
  }
}

TEST(DateTime, ToStringNeverCrashesOnExtremeValues) {
  EXPECT_FALSE(DateTime{std::numeric_limits<int64_t>::min()}.ToString().empty());
  EXPECT_FALSE(DateTime{std::numeric_limits<int64_t>::max()}.ToString().empty());
  EXPECT_FALSE(Date{std::numeric_limits<int32_t>::min()}.ToString().empty());
}

// ------------------------------------------------------------------ Decimal

Decimal Dec(const char* text) {
  Result<Decimal> d = Decimal::Parse(text);
  EXPECT_TRUE(d.ok()) << text << ": " << d.status().ToString();
  return d.ok() ? *d : Decimal();
}

TEST(Decimal, KeepsDigitsAndExponent) {
  Decimal d = Dec("1.50");
  EXPECT_EQ(d.digits, "150");
  EXPECT_EQ(d.exponent, -2);
  EXPECT_FALSE(d.negative);
  d = Dec("0.1");
  EXPECT_EQ(d.digits, "1");
  EXPECT_EQ(d.exponent, -1);
  d = Dec("000123.4500");
  EXPECT_EQ(d.digits, "1234500");
  EXPECT_EQ(d.exponent, -4);
  d = Dec("1E+3");
  EXPECT_EQ(d.digits, "1");
  EXPECT_EQ(d.exponent, 3);
}

TEST(Decimal, NegativeZeroKeepsSignAndExponent) {
  Decimal d = Dec("-0.00");
  EXPECT_TRUE(d.negative);
  EXPECT_EQ(d.digits, "0");
  EXPECT_EQ(d.exponent, -2);
  EXPECT_EQ(d.ToString(), "-0.00");
  EXPECT_EQ(Dec("-0").ToString(), "-0");
}

TEST(Decimal, SpecialValues) {
  EXPECT_EQ(Dec("NaN").kind, Decimal::Kind::kNaN);
  EXPECT_EQ(Dec("nan").ToString(), "NaN");
  EXPECT_EQ(Dec("-NaN").ToString(), "-NaN");
  EXPECT_EQ(Dec("Infinity").ToString(), "Infinity");
  EXPECT_EQ(Dec("inf").ToString(), "Infinity");
  EXPECT_EQ(Dec("-Infinity").ToString(), "-Infinity");
  EXPECT_EQ(Dec("-INF").ToString(), "-Infinity");
  EXPECT_EQ(Dec("+iNfInItY").kind, Decimal::Kind::kInfinity);
}

// str(Decimal(x)) in CPython, worked out with the to-scientific-string rules.
TEST(Decimal, ToStringMatchesPython) {
  const std::pair<const char*, const char*> cases[] = {
      {"0.1", "0.1"},          {"1.50", "1.50"},
      {"-0", "-0"},            {"1E+3", "1E+3"},
      {"1e3", "1E+3"},         {"1000", "1000"},
      {"0", "0"},              {"0.000001", "0.000001"},
      {"0.0000001", "1E-7"},   {"123.456e-10", "1.23456E-8"},
      {"12345e2", "1.2345E+6"}, {"1.23E+5", "1.23E+5"},
      {"0e5", "0E+5"},         {"0E-8", "0E-8"},
      {"0E-6", "0.000000"},    {".5", "0.5"},
      {"5.", "5"},             {"+1.0", "1.0"},
      {"-12.345", "-12.345"},  {"  7.25  ", "7.25"},
      {"1e-7", "1E-7"},        {"123456789012345678901234567890", "123456789012345678901234567890"},
      {"1e999999999999999999", "1E+999999999999999999"},
      {"-1.5e-3", "-0.0015"},  {"00.00e+2", "0"},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(Dec(in).ToString(), want) << in;
}

TEST(Decimal, ExponentMustFitInt64) {
  EXPECT_TRUE(Decimal::Parse("1e9223372036854775807").ok());
  EXPECT_TRUE(Decimal::Parse("1e-9223372036854775808").ok());
  EXPECT_EQ(Dec("1e-9223372036854775808").ToString(), "1E-9223372036854775808");
  // The adjusted exponent of "10e..." is one more than its exponent.
  EXPECT_FALSE(Decimal::Parse("10e9223372036854775807").ok());
  EXPECT_FALSE(Decimal::Parse("1e9223372036854775808").ok());
  Result<Decimal> huge = Decimal::Parse("1e" + std::string(5000, '9'));
  EXPECT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().message(), "decimal exponent out of range");
}

TEST(Decimal, RejectsMalformedText) {
  for (const char* bad : {"", " ", "abc", "1e", "1.2.3", "--1", "1e+", ".", "-.", "sNaN",
                          "NaN12", "1_000", "0x10", "1 2", "Infinit", "1e1.5", "e5", "+"}) {
    Result<Decimal> d = Decimal::Parse(bad);
    EXPECT_FALSE(d.ok()) << bad;
    EXPECT_TRUE(d.status().IsInvalidArgument()) << bad;
  }
}

TEST(Decimal, LongCoefficientsRoundTrip) {
  std::string digits = "9" + std::string(10000, '0') + "1";
  Decimal d = Dec(("-" + digits + "e-5000").c_str());
  EXPECT_EQ(d.digits, digits);
  EXPECT_EQ(Dec(d.ToString().c_str()), d);
}

// ------------------------------------------------------------------ floats

TEST(FormatDouble, MatchesPythonRepr) {
  const std::pair<double, const char*> cases[] = {
      {0.1, "0.1"},
      {1e16, "1e+16"},
      {1e-5, "1e-05"},
      {1.5e-5, "1.5e-05"},
      {123456789012345680.0, "1.2345678901234568e+17"},
      {5e-324, "5e-324"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {-0.0, "-0.0"},
      {0.0, "0.0"},
      {42.0, "42.0"},
      {1e15, "1000000000000000.0"},
      {9999999999999998.0, "9999999999999998.0"},
      {0.0001, "0.0001"},
      {123.456, "123.456"},
      {1e22, "1e+22"},
      {1e100, "1e+100"},
      {-1.5, "-1.5"},
      {1.0 / 3.0, "0.3333333333333333"},
      {12345678.9, "12345678.9"},
      {2.5e-308, "2.5e-308"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
      {std::numeric_limits<double>::infinity(), "Infinity"},
      {-std::numeric_limits<double>::infinity(), "-Infinity"},
  };
  for (const auto& [x, want] : cases) EXPECT_EQ(FormatDouble(x), want) << want;
}

TEST(FormatDouble, AppendsWithoutClobbering) {
  std::string out = "x=";
  AppendDouble(&out, 2.5);
  EXPECT_EQ(out, "x=2.5");
}

TEST(FormatDouble, RandomBitPatternsRoundTripExactly) {
  std::mt19937_64 rng(12345);
  for (int i = 0; i < 200000; ++i) {
    double x = std::bit_cast<double>(rng());
    if (std::isnan(x)) continue;
    std::string s = FormatDouble(x);
    if (std::isinf(x)) continue;
    double back = std::strtod(s.c_str(), nullptr);
    ASSERT_EQ(std::bit_cast<uint64_t>(back), std::bit_cast<uint64_t>(x)) << s;
  }
}

TEST(FormatFloat32, UsesFloat32ShortestDigits) {
  EXPECT_EQ(FormatFloat32(0.1f), "0.1");
  EXPECT_EQ(FormatFloat32(16777216.0f), "16777216.0");
  EXPECT_EQ(FormatFloat32(1e-5f), "1e-05");
  EXPECT_EQ(FormatFloat32(3.4028235e38f), "3.4028235e+38");
  EXPECT_EQ(FormatFloat32(1.4e-45f), "1e-45");
  EXPECT_EQ(FormatFloat32(-0.0f), "-0.0");
  EXPECT_EQ(FormatFloat32(1e16f), "1e+16");
  EXPECT_EQ(FormatFloat32(std::numeric_limits<float>::infinity()), "Infinity");
  EXPECT_EQ(FormatFloat32(std::numeric_limits<float>::quiet_NaN()), "NaN");
}

TEST(FormatFloat32, RandomBitPatternsRoundTripExactly) {
  std::mt19937 rng(777);
  for (int i = 0; i < 200000; ++i) {
    float x = std::bit_cast<float>(static_cast<uint32_t>(rng()));
    if (std::isnan(x) || std::isinf(x)) continue;
    std::string s = FormatFloat32(x);
    float back = std::strtof(s.c_str(), nullptr);
    ASSERT_EQ(std::bit_cast<uint32_t>(back), std::bit_cast<uint32_t>(x)) << s;
  }
}

// ------------------------------------------------------------------ base64

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> cases[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},        {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : cases) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    Result<std::string> back = Base64Decode(encoded);
    ASSERT_TRUE(back.ok()) << encoded;
    EXPECT_EQ(*back, plain);
  }
}

TEST(Base64, BinaryRoundTrip) {
  std::mt19937 rng(1);
  for (int len = 0; len < 300; ++len) {
    std::string bytes(len, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    Result<std::string> back = Base64Decode(Base64Encode(bytes));
    ASSERT_TRUE(back.ok());
    ASSERT_EQ(*back, bytes);
  }
  EXPECT_EQ(Base64Encode(std::string("\xff\xfe\xfd", 3)), "//79");
}

TEST(Base64, RejectsBadInput) {
  EXPECT_EQ(Base64Decode("Zg=").status().message(), "base64 length 3 is not a multiple of 4");
  EXPECT_EQ(Base64Decode("Zm9*").status().message(), "invalid base64 character at offset 3");
  EXPECT_EQ(Base64Decode("Zh==").status().message(), "base64 has non-zero bits before its padding");
  EXPECT_EQ(Base64Decode("Zg==Zg==").status().message(), "base64 padding '=' before the end");
  for (const char* bad : {"Zg", "Z===", "====", "Zm9v\n", "=Zg=", "Zm8 ", "Zm-_", "Zm9=",
                          "Zm9vYg=\n", "\xc3\xa9\xc3\xa9"}) {
    Result<std::string> r = Base64Decode(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_TRUE(r.status().IsInvalidArgument()) << bad;
  }
}

// ------------------------------------------------------------------ UTF-8 and JSON strings

std::string Json(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

TEST(IsValidUtf8, AcceptsWellFormedAndRejectsIllFormed) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80"));
  EXPECT_TRUE(IsValidUtf8(std::string_view("\0", 1)));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x9c"));          // truncated
}

TEST(AppendJsonString, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(Json("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(Json("\n\t\r\b\f"), R"("\n\t\r\b\f")");
  EXPECT_EQ(Json(std::string_view("\x01\x1f\0", 3)), R"("\u0001\u001f\u0000")");
  EXPECT_EQ(Json(""), "\"\"");
  EXPECT_EQ(Json("/\x7f"), "\"/\x7f\"");
}

TEST(AppendJsonString, PassesValidUtf8Through) {
  std::string s = "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80 \xe2\x80\xa8";
  EXPECT_EQ(Json(s), "\"" + s + "\"");
}

TEST(AppendJsonString, ReplacesInvalidUtf8PerMaximalSubpart) {
  const std::string kFffd = "\xef\xbf\xbd";
  EXPECT_EQ(Json("\xff"), "\"" + kFffd + "\"");
  EXPECT_EQ(Json("a\xe2\x9c"), "\"a" + kFffd + "\"");            // one truncated sequence
  EXPECT_EQ(Json("\xc0\xaf"), "\"" + kFffd + kFffd + "\"");      // bad lead, lone continuation
  EXPECT_EQ(Json("\xed\xa0\x80"), "\"" + kFffd + kFffd + kFffd + "\"");
  EXPECT_EQ(Json("\xf0\x9f\x98x"), "\"" + kFffd + "x\"");
  EXPECT_EQ(Json("\xf4\x90\x80\x80"), "\"" + kFffd + kFffd + kFffd + kFffd + "\"");
}

TEST(AppendJsonString, OutputIsAlwaysValidUtf8WithoutRawControls) {
  std::mt19937 rng(99);
  for (int i = 0; i < 5000; ++i) {
    std::string s(rng() % 40, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    std::string out = Json(s);
    ASSERT_TRUE(IsValidUtf8(out));
    for (unsigned char c : out) ASSERT_GE(c, 0x20);
    if (IsValidUtf8(s)) {
      ASSERT_GE(out.size(), s.size() + 2);
    }
  }
}

}  // namespace
}  // namespace mapfs
