// Text forms of the calendar and decimal scalars declared in value.h: Date
// (proleptic Gregorian, years 1..9999), DateTime (UTC microseconds) and
// Decimal (Python decimal.Decimal's string syntax and str()).
//
// Parse errors are InvalidArgument with a message giving only the reason
// ("day 30 out of range for 2021-02"); callers add the offending text and the
// place, since they know how to name both.
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "mapfs/value.h"

namespace mapfs {
namespace {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kSecondsPerDay = 86400;
constexpr int64_t kMicrosPerDay = kSecondsPerDay * kMicrosPerSecond;

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
// days_from_civil). Valid for any year representable in int64 arithmetic.
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// Inverse of DaysFromCivil.
void CivilFromDays(int64_t z, int64_t* year, int* month, int* day) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *year = yoe + era * 400 + (*month <= 2);
}

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

// Floor division and modulo (C++ rounds toward zero; dates before 1970 need floor).
int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` ASCII digits at s[pos...]; false if any is not a digit.
bool ReadDigits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// Appends `v` zero-padded to at least `width` digits (a '-' first if negative).
void AppendPadded(std::string* out, int64_t v, int width) {
  if (v < 0) {
    out->push_back('-');
    v = -v;  // callers never pass INT64_MIN
  }
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  for (int n = static_cast<int>(res.ptr - buf); n < width; ++n) out->push_back('0');
  out->append(buf, res.ptr);
}

// Parses the "YYYY-MM-DD" prefix of `s` into days; the rest is the caller's.
Status ParseDatePart(std::string_view s, int64_t* days) {
  int y, m, d;
  if (s.size() < 10 || !ReadDigits(s, 0, 4, &y) || s[4] != '-' || !ReadDigits(s, 5, 2, &m) ||
      s[7] != '-' || !ReadDigits(s, 8, 2, &d)) {
    return Status::InvalidArgument("date must be YYYY-MM-DD");
  }
  MAPFS_ASSIGN_OR_RETURN(Date date, Date::FromYmd(y, m, d));
  *days = date.days;
  return Status::OK();
}

// Smallest and largest DateTime (0001-01-01T00:00:00Z, 9999-12-31T23:59:59.999999Z).
constexpr int64_t kMinDays = -719162;  // DaysFromCivil(1, 1, 1)
constexpr int64_t kMaxDays = 2932896;  // DaysFromCivil(9999, 12, 31)
constexpr int64_t kMinMicros = kMinDays * kMicrosPerDay;
constexpr int64_t kMaxMicros = (kMaxDays + 1) * kMicrosPerDay - 1;

void AppendInt128(std::string* out, __int128 v) {
  if (v < 0) {
    out->push_back('-');
    v = -v;
  }
  char buf[48];
  char* p = buf + sizeof(buf);
  do {
    *--p = static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  } while (v != 0);
  out->append(p, buf + sizeof(buf));
}

bool EqualsIgnoreCase(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

}  // namespace

// ---------------------------------------------------------------- Date

Result<Date> Date::FromYmd(int year, int month, int day) {
  if (year < 1 || year > 9999) {
    return Status::InvalidArgument("year " + std::to_string(year) + " out of range 1..9999");
  }
  if (month < 1 || month > 12) {
    return Status::InvalidArgument("month " + std::to_string(month) + " out of range 1..12");
  }
  if (day < 1 || day > DaysInMonth(year, month)) {
    std::string msg = "day " + std::to_string(day) + " out of range for ";
    AppendPadded(&msg, year, 4);
    msg.push_back('-');
    AppendPadded(&msg, month, 2);
    return Status::InvalidArgument(std::move(msg));
  }
  return Date{static_cast<int32_t>(DaysFromCivil(year, month, day))};
}

Result<Date> Date::Parse(std::string_view iso) {
  int64_t days;
  if (iso.size() != 10) return Status::InvalidArgument("date must be YYYY-MM-DD");
  MAPFS_RETURN_IF_ERROR(ParseDatePart(iso, &days));
  return Date{static_cast<int32_t>(days)};
}

void Date::ToYmd(int* year, int* month, int* day) const {
  int64_t y;
  CivilFromDays(days, &y, month, day);
  *year = static_cast<int>(y);  // |days| < 2^31 keeps |y| < 6 million
}

std::string Date::ToString() const {
  int y, m, d;
  ToYmd(&y, &m, &d);
  std::string out;
  out.reserve(10);
  AppendPadded(&out, y, 4);
  out.push_back('-');
  AppendPadded(&out, m, 2);
  out.push_back('-');
  AppendPadded(&out, d, 2);
  return out;
}

// ---------------------------------------------------------------- DateTime

// Grammar: YYYY-MM-DD('T'|'t'|' ')HH:MM:SS[.f{1,9}][Z|z|(+|-)HH:MM|(+|-)HHMM].
// Fractions beyond microseconds are truncated (as Python's fromisoformat
// does), never rounded, so a value never moves into the next second or day.
Result<DateTime> DateTime::Parse(std::string_view iso) {
  static constexpr std::string_view kForm =
      "datetime must be YYYY-MM-DDTHH:MM:SS[.ffffff][Z|+HH:MM|-HH:MM]";
  int64_t days;
  MAPFS_RETURN_IF_ERROR(ParseDatePart(iso, &days));
  int hh, mm, ss;
  if (iso.size() < 19 || (iso[10] != 'T' && iso[10] != 't' && iso[10] != ' ') ||
      !ReadDigits(iso, 11, 2, &hh) || iso[13] != ':' || !ReadDigits(iso, 14, 2, &mm) ||
      iso[16] != ':' || !ReadDigits(iso, 17, 2, &ss)) {
    return Status::InvalidArgument(std::string(kForm));
  }
  if (hh > 23) return Status::InvalidArgument("hour " + std::to_string(hh) + " out of range 0..23");
  if (mm > 59) return Status::InvalidArgument("minute " + std::to_string(mm) + " out of range 0..59");
  if (ss > 59) return Status::InvalidArgument("second " + std::to_string(ss) + " out of range 0..59");

  size_t pos = 19;
  int64_t frac_micros = 0;
  if (pos < iso.size() && iso[pos] == '.') {
    ++pos;
    size_t n = 0;
    while (pos < iso.size() && IsDigit(iso[pos])) {
      if (n < 6) frac_micros = frac_micros * 10 + (iso[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0 || n > 9) {
      return Status::InvalidArgument("datetime fraction must have 1 to 9 digits");
    }
    for (size_t i = n; i < 6; ++i) frac_micros *= 10;
  }

  int64_t offset_seconds = 0;
  if (pos < iso.size()) {
    char c = iso[pos];
    if ((c == 'Z' || c == 'z') && pos + 1 == iso.size()) {
      pos += 1;
    } else if (c == '+' || c == '-') {
      int oh, om;
      std::string_view rest = iso.substr(pos + 1);
      bool ok = false;
      if (rest.size() == 5 && rest[2] == ':') {
        ok = ReadDigits(rest, 0, 2, &oh) && ReadDigits(rest, 3, 2, &om);
      } else if (rest.size() == 4) {
        ok = ReadDigits(rest, 0, 2, &oh) && ReadDigits(rest, 2, 2, &om);
      }
      if (!ok) return Status::InvalidArgument("datetime offset must be Z, +HH:MM or +HHMM");
      if (oh > 23 || om > 59) {
        return Status::InvalidArgument("datetime offset " + std::string(iso.substr(pos)) +
                                       " out of range");
      }
      offset_seconds = (oh * 3600 + om * 60) * (c == '-' ? -1 : 1);
      pos = iso.size();
    } else {
      return Status::InvalidArgument(std::string(kForm));
    }
  }
  if (pos != iso.size()) return Status::InvalidArgument(std::string(kForm));

  // Local time minus its offset is UTC. No overflow: |days| <= ~3e6.
  int64_t seconds = days * kSecondsPerDay + hh * 3600 + mm * 60 + ss - offset_seconds;
  int64_t micros = seconds * kMicrosPerSecond + frac_micros;
  if (micros < kMinMicros || micros > kMaxMicros) {
    return Status::InvalidArgument(
        "datetime out of range 0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999Z in UTC");
  }
  return DateTime{micros};
}

std::string DateTime::ToString() const {
  int64_t days = FloorDiv(micros, kMicrosPerDay);
  int64_t in_day = micros % kMicrosPerDay;  // no overflow even for INT64_MIN
  if (in_day < 0) in_day += kMicrosPerDay;
  int64_t y;
  int m, d;
  CivilFromDays(days, &y, &m, &d);
  int64_t secs = in_day / kMicrosPerSecond;
  int64_t frac = in_day % kMicrosPerSecond;
  std::string out;
  out.reserve(27);
  AppendPadded(&out, y, 4);
  out.push_back('-');
  AppendPadded(&out, m, 2);
  out.push_back('-');
  AppendPadded(&out, d, 2);
  out.push_back('T');
  AppendPadded(&out, secs / 3600, 2);
  out.push_back(':');
  AppendPadded(&out, secs / 60 % 60, 2);
  out.push_back(':');
  AppendPadded(&out, secs % 60, 2);
  if (frac != 0) {
    out.push_back('.');
    AppendPadded(&out, frac, 6);
  }
  out.push_back('Z');
  return out;
}

// ---------------------------------------------------------------- Decimal

// Python's decimal grammar (without NaN payloads, sNaN or '_' separators):
//   [sign] (digits ['.' [digits]] | '.' digits) [('e'|'E') [sign] digits]
//   [sign] ('Inf' | 'Infinity' | 'NaN')        (case-insensitive)
// Surrounding whitespace is ignored, as Decimal(" 1.5 ") does.
Result<Decimal> Decimal::Parse(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  Decimal dec;
  size_t pos = 0;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    dec.negative = text[pos] == '-';
    ++pos;
  }
  std::string_view body = text.substr(pos);
  if (EqualsIgnoreCase(body, "inf") || EqualsIgnoreCase(body, "infinity")) {
    dec.kind = Kind::kInfinity;
    return dec;
  }
  if (EqualsIgnoreCase(body, "nan")) {
    dec.kind = Kind::kNaN;
    return dec;
  }

  static constexpr std::string_view kBad = "not a decimal number";
  size_t int_begin = pos;
  while (pos < text.size() && IsDigit(text[pos])) ++pos;
  size_t int_end = pos;
  size_t frac_begin = pos, frac_end = pos;
  if (pos < text.size() && text[pos] == '.') {
    frac_begin = ++pos;
    while (pos < text.size() && IsDigit(text[pos])) ++pos;
    frac_end = pos;
  }
  if (int_end == int_begin && frac_end == frac_begin) return Status::InvalidArgument(std::string(kBad));

  // The exponent is accumulated in 128 bits, saturating, so absurdly long
  // exponents are rejected below instead of wrapping around.
  __int128 exp = 0;
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
    bool exp_negative = false;
    if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
      exp_negative = text[pos] == '-';
      ++pos;
    }
    size_t exp_begin = pos;
    constexpr __int128 kSaturate = static_cast<__int128>(1) << 100;
    while (pos < text.size() && IsDigit(text[pos])) {
      if (exp < kSaturate) exp = exp * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos == exp_begin) return Status::InvalidArgument(std::string(kBad));
    if (exp_negative) exp = -exp;
  }
  if (pos != text.size()) return Status::InvalidArgument(std::string(kBad));

  // Coefficient: all digits without the point, leading zeros stripped.
  std::string digits;
  digits.reserve(int_end - int_begin + frac_end - frac_begin);
  digits.append(text.substr(int_begin, int_end - int_begin));
  digits.append(text.substr(frac_begin, frac_end - frac_begin));
  size_t first_nonzero = digits.find_first_not_of('0');
  if (first_nonzero == std::string::npos) {
    digits.assign("0");
  } else if (first_nonzero > 0) {
    digits.erase(0, first_nonzero);
  }
  exp -= static_cast<__int128>(frac_end - frac_begin);
  // Both the exponent and the adjusted exponent (of the leading digit) must
  // fit int64 so that every later computation on them is exact.
  __int128 adjusted = exp + static_cast<__int128>(digits.size()) - 1;
  if (exp < INT64_MIN || exp > INT64_MAX || adjusted < INT64_MIN || adjusted > INT64_MAX) {
    return Status::InvalidArgument("decimal exponent out of range");
  }
  dec.digits = std::move(digits);
  dec.exponent = static_cast<int64_t>(exp);
  return dec;
}

// Python's Decimal.__str__ (the "to-scientific-string" of the General
// Decimal Arithmetic spec): plain notation when the exponent is <= 0 and the
// adjusted exponent is >= -6, otherwise one digit before the point and E±n.
std::string Decimal::ToString() const {
  std::string out;
  if (negative) out.push_back('-');
  if (kind == Kind::kInfinity) return out + "Infinity";
  if (kind == Kind::kNaN) return out + "NaN";
  std::string_view coeff = digits.empty() ? std::string_view("0") : std::string_view(digits);
  const __int128 len = static_cast<__int128>(coeff.size());
  const __int128 leftdigits = static_cast<__int128>(exponent) + len;
  __int128 dotplace;
  if (exponent <= 0 && leftdigits > -6) {
    dotplace = leftdigits;
  } else {
    dotplace = 1;
  }
  out.reserve(out.size() + coeff.size() + 10);
  if (dotplace <= 0) {
    out.append("0.");
    out.append(static_cast<size_t>(-dotplace), '0');  // at most 6 zeros here
    out.append(coeff);
  } else if (dotplace >= len) {
    out.append(coeff);
    out.append(static_cast<size_t>(dotplace - len), '0');  // plain only when exponent <= 0
  } else {
    out.append(coeff.substr(0, static_cast<size_t>(dotplace)));
    out.push_back('.');
    out.append(coeff.substr(static_cast<size_t>(dotplace)));
  }
  if (leftdigits != dotplace) {
    __int128 e = leftdigits - dotplace;
    out.push_back('E');
    out.push_back(e < 0 ? '-' : '+');
    AppendInt128(&out, e < 0 ? -e : e);
  }
  return out;
}

}  // namespace mapfs
