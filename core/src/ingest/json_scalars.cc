// Number and text helpers of the JSONL reader; see json_scalars.h.
#include "json_scalars.h"

#include "mapfs/text_format.h"

namespace mapfs::json_detail {

std::string_view TrimJsonSpace(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool ScanJsonNumber(std::string_view t, bool* integer) {
  size_t i = 0, n = t.size();
  if (i < n && t[i] == '-') ++i;
  if (i >= n) return false;
  if (t[i] == '0') {
    ++i;
  } else if (IsDigit(t[i])) {
    while (i < n && IsDigit(t[i])) ++i;
  } else {
    return false;
  }
  *integer = true;
  if (i < n && t[i] == '.') {
    *integer = false;
    size_t b = ++i;
    while (i < n && IsDigit(t[i])) ++i;
    if (i == b) return false;
  }
  if (i < n && (t[i] == 'e' || t[i] == 'E')) {
    *integer = false;
    ++i;
    if (i < n && (t[i] == '+' || t[i] == '-')) ++i;
    size_t b = i;
    while (i < n && IsDigit(t[i])) ++i;
    if (i == b) return false;
  }
  return i == n;
}

IntClass ParseJsonInt(std::string_view t, int64_t* s, uint64_t* u) {
  const char* end = t.data() + t.size();
  if (t[0] == '-') {
    auto r = std::from_chars(t.data(), end, *s);
    return r.ec == std::errc() ? IntClass::kSigned : IntClass::kOverflow;
  }
  auto r = std::from_chars(t.data(), end, *u);
  if (r.ec != std::errc()) return IntClass::kOverflow;
  if (*u > static_cast<uint64_t>(INT64_MAX)) return IntClass::kUnsigned;
  *s = static_cast<int64_t>(*u);
  return IntClass::kSigned;
}

bool IntFits(TypeKind k, IntClass c, int64_t s) {
  if (c == IntClass::kOverflow) return false;
  if (c == IntClass::kUnsigned) return k == TypeKind::kUInt64;
  switch (k) {
    case TypeKind::kInt8: return s >= INT8_MIN && s <= INT8_MAX;
    case TypeKind::kInt16: return s >= INT16_MIN && s <= INT16_MAX;
    case TypeKind::kInt32: return s >= INT32_MIN && s <= INT32_MAX;
    case TypeKind::kInt64: return true;
    case TypeKind::kUInt8: return s >= 0 && s <= UINT8_MAX;
    case TypeKind::kUInt16: return s >= 0 && s <= UINT16_MAX;
    case TypeKind::kUInt32: return s >= 0 && s <= UINT32_MAX;
    case TypeKind::kUInt64: return s >= 0;
    default: return false;
  }
}

bool ParseFloatWord(std::string_view s, double* out) {
  if (s == "NaN") *out = std::numeric_limits<double>::quiet_NaN();
  else if (s == "Infinity") *out = std::numeric_limits<double>::infinity();
  else if (s == "-Infinity") *out = -std::numeric_limits<double>::infinity();
  else return false;
  return true;
}

std::string Quote(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

std::string_view DescribeJsonError(simdjson::error_code e) {
  switch (e) {
    case simdjson::EMPTY: return "empty line";
    case simdjson::TAPE_ERROR: return "unexpected character or misplaced separator";
    case simdjson::INCOMPLETE_ARRAY_OR_OBJECT: return "unterminated array or object";
    case simdjson::UNCLOSED_STRING: return "unterminated string";
    case simdjson::STRING_ERROR: return "bad escape in string";
    case simdjson::UNESCAPED_CHARS: return "unescaped control character in string";
    case simdjson::UTF8_ERROR: return "invalid UTF-8";
    case simdjson::NUMBER_ERROR: return "bad number";
    case simdjson::T_ATOM_ERROR: case simdjson::F_ATOM_ERROR: case simdjson::N_ATOM_ERROR:
      return "bad literal";
    case simdjson::DEPTH_ERROR: return "nesting too deep";
    case simdjson::CAPACITY: return "line too long";
    default: return simdjson::error_message(e);
  }
}

}  // namespace mapfs::json_detail
