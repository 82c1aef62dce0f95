// Number and text helpers of the JSONL reader (json_input.cc and
// json_ndarray.cc): JSON number tokens checked and converted exactly, and
// the words of error messages. Private to core.
#ifndef MAPFS_CORE_JSON_SCALARS_H_
#define MAPFS_CORE_JSON_SCALARS_H_

#include <simdjson.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "mapfs/types.h"
#include "mapfs/value.h"

namespace mapfs::json_detail {

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// `s` without trailing JSON whitespace.
std::string_view TrimJsonSpace(std::string_view s);

// True if `t` is a JSON number token; *integer when it has no fraction or
// exponent. On-Demand does not check tokens it is not asked to convert.
bool ScanJsonNumber(std::string_view t, bool* integer);

// A JSON integer token as int64 (kSigned) or, above INT64_MAX, uint64.
enum class IntClass { kSigned, kUnsigned, kOverflow };
IntClass ParseJsonInt(std::string_view t, int64_t* s, uint64_t* u);

// True if an integer of class `c` and value `s` fits integer kind `k`.
bool IntFits(TypeKind k, IntClass c, int64_t s);

// Correctly rounded text-to-float for a JSON number token. A magnitude below
// the smallest subnormal becomes a signed zero (as Python's float() does);
// false only when it is too large for F.
template <typename F>
inline bool ParseJsonFloat(std::string_view t, F* out) {
  auto r = std::from_chars(t.data(), t.data() + t.size(), *out);
  if (r.ec == std::errc()) return true;
  // Out of range: decide the direction from the adjusted decimal exponent.
  Result<Decimal> d = Decimal::Parse(t);
  if (!d.ok() || d->digits == "0") return false;
  if (d->exponent + static_cast<int64_t>(d->digits.size()) - 1 >= 0) return false;
  *out = t[0] == '-' ? -F(0) : F(0);
  return true;
}

// "NaN", "Infinity", "-Infinity": the string forms floats accept.
bool ParseFloatWord(std::string_view s, double* out);

template <typename T>
inline void AppendLittleEndian(std::string* out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  if constexpr (std::endian::native == std::endian::big) std::reverse(b, b + sizeof(T));
  out->append(b, sizeof(T));
}

// `s` as a JSON string literal, for messages.
std::string Quote(std::string_view s);

// What a simdjson error means for a line, in words.
std::string_view DescribeJsonError(simdjson::error_code e);

}  // namespace mapfs::json_detail

#endif  // MAPFS_CORE_JSON_SCALARS_H_
