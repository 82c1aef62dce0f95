// Python-style float text, base64 and JSON string escaping (text_format.h).
#include "mapfs/text_format.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace mapfs {
namespace {

// Lays out the output of std::to_chars(..., chars_format::scientific), which
// already holds the shortest round-trip digits ("-1.2345e+02"), the way
// Python's float repr does.
void AppendPythonFloat(std::string* out, const char* begin, const char* end) {
  const char* p = begin;
  if (*p == '-') {
    out->push_back('-');
    ++p;
  }
  char digits[32];
  int ndigits = 0;
  for (; p < end && *p != 'e'; ++p) {
    if (*p != '.') digits[ndigits++] = *p;
  }
  int exp = 0;
  std::from_chars(p + 1 + (p[1] == '+'), end, exp);  // to_chars writes "e+NN" or "e-NN"
  if (exp < -4 || exp >= 16) {
    out->push_back(digits[0]);
    if (ndigits > 1) {
      out->push_back('.');
      out->append(digits + 1, ndigits - 1);
    }
    out->push_back('e');
    out->push_back(exp < 0 ? '-' : '+');
    int a = exp < 0 ? -exp : exp;
    if (a < 10) out->push_back('0');  // Python prints at least two exponent digits
    char buf[8];
    auto res = std::to_chars(buf, buf + sizeof(buf), a);
    out->append(buf, res.ptr);
    return;
  }
  int decpt = exp + 1;  // digits before the decimal point
  if (decpt <= 0) {
    out->append("0.");
    out->append(static_cast<size_t>(-decpt), '0');
    out->append(digits, ndigits);
  } else if (decpt >= ndigits) {
    out->append(digits, ndigits);
    out->append(static_cast<size_t>(decpt - ndigits), '0');
    out->append(".0");
  } else {
    out->append(digits, decpt);
    out->push_back('.');
    out->append(digits + decpt, ndigits - decpt);
  }
}

template <typename F>
void AppendFloatRepr(std::string* out, F x) {
  if (std::isnan(x)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(x)) {
    out->append(x < 0 ? "-Infinity" : "Infinity");
    return;
  }
  char buf[48];
  auto res = std::to_chars(buf, buf + sizeof(buf), x, std::chars_format::scientific);
  AppendPythonFloat(out, buf, res.ptr);
}

constexpr char kBase64Chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// 0..63 for alphabet characters, 64 for everything else.
struct Base64Table {
  uint8_t value[256];
  constexpr Base64Table() : value() {
    for (int i = 0; i < 256; ++i) value[i] = 64;
    for (int i = 0; i < 64; ++i) value[static_cast<uint8_t>(kBase64Chars[i])] = static_cast<uint8_t>(i);
  }
};
constexpr Base64Table kBase64Table;

// Length of the UTF-8 sequence at p[0..avail) and whether it is well formed.
// For ill-formed input the length is that of the maximal subpart (at least
// one byte), which is what U+FFFD replacement counts per Unicode §3.9.
size_t Utf8Step(const uint8_t* p, size_t avail, bool* valid) {
  uint8_t b0 = p[0];
  *valid = false;
  if (b0 < 0x80) {
    *valid = true;
    return 1;
  }
  size_t need;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    if (b0 == 0xE0) lo = 0xA0;        // no overlongs
    else if (b0 == 0xED) hi = 0x9F;   // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    if (b0 == 0xF0) lo = 0x90;        // no overlongs
    else if (b0 == 0xF4) hi = 0x8F;   // nothing past U+10FFFF
  } else {
    return 1;
  }
  for (size_t i = 1; i <= need; ++i) {
    if (i >= avail) return i;
    uint8_t b = p[i];
    if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return i;
  }
  *valid = true;
  return need + 1;
}

// Bytes that AppendJsonString cannot copy verbatim without looking closer.
struct JsonEscapeTable {
  bool special[256];
  constexpr JsonEscapeTable() : special() {
    for (int i = 0; i < 256; ++i) special[i] = i < 0x20 || i == '"' || i == '\\' || i >= 0x80;
  }
};
constexpr JsonEscapeTable kJsonEscape;

}  // namespace

std::string FormatDouble(double x) {
  std::string out;
  AppendDouble(&out, x);
  return out;
}

void AppendDouble(std::string* out, double x) { AppendFloatRepr(out, x); }

std::string FormatFloat32(float x) {
  std::string out;
  AppendFloat32(&out, x);
  return out;
}

void AppendFloat32(std::string* out, float x) { AppendFloatRepr(out, x); }

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  AppendBase64(&out, bytes);
  return out;
}

void AppendBase64(std::string* out, std::string_view bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t n = bytes.size();
  size_t start = out->size();
  out->resize(start + (n + 2) / 3 * 4);
  char* w = out->data() + start;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    *w++ = kBase64Chars[v >> 18];
    *w++ = kBase64Chars[(v >> 12) & 63];
    *w++ = kBase64Chars[(v >> 6) & 63];
    *w++ = kBase64Chars[v & 63];
  }
  if (i + 1 == n) {
    uint32_t v = uint32_t{p[i]} << 16;
    *w++ = kBase64Chars[v >> 18];
    *w++ = kBase64Chars[(v >> 12) & 63];
    *w++ = '=';
    *w++ = '=';
  } else if (i + 2 == n) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    *w++ = kBase64Chars[v >> 18];
    *w++ = kBase64Chars[(v >> 12) & 63];
    *w++ = kBase64Chars[(v >> 6) & 63];
    *w++ = '=';
  }
}

Result<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return Status::InvalidArgument("base64 length " + std::to_string(text.size()) +
                                   " is not a multiple of 4");
  }
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') pad = text[text.size() - 2] == '=' ? 2 : 1;
  size_t body = text.size() - pad;
  std::string out;
  out.resize(text.size() / 4 * 3 - pad);
  uint8_t* w = reinterpret_cast<uint8_t*>(out.data());
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < body; ++i) {
    uint8_t v = kBase64Table.value[p[i]];
    if (v == 64) {
      if (p[i] == '=') return Status::InvalidArgument("base64 padding '=' before the end");
      return Status::InvalidArgument("invalid base64 character at offset " + std::to_string(i));
    }
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *w++ = static_cast<uint8_t>(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  if (acc != 0) return Status::InvalidArgument("base64 has non-zero bits before its padding");
  return out;
}

bool IsValidUtf8(std::string_view s) {
  // Most strings in records are short and ASCII: an 8-bytes-at-a-time check
  // settles them without the fixed start-up cost of the vector validator.
  if (s.size() <= 64) {
    const char* p = s.data();
    size_t n = s.size(), i = 0;
    uint64_t high = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      high |= w;
    }
    for (; i < n; ++i) high |= static_cast<uint8_t>(p[i]);
    if ((high & 0x8080808080808080ULL) == 0) return true;
  }
  return simdjson::validate_utf8(s.data(), s.size());
}

void AppendJsonString(std::string* out, std::string_view utf8) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto* p = reinterpret_cast<const uint8_t*>(utf8.data());
  const size_t n = utf8.size();
  out->reserve(out->size() + n + 2);
  out->push_back('"');
  size_t run = 0;  // start of the pending verbatim run
  size_t i = 0;
  while (i < n) {
    uint8_t c = p[i];
    if (!kJsonEscape.special[c]) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      bool valid;
      size_t len = Utf8Step(p + i, n - i, &valid);
      if (valid) {
        i += len;  // stays in the verbatim run
        continue;
      }
      out->append(utf8.data() + run, i - run);
      out->append("\xEF\xBF\xBD");
      i += len;
      run = i;
      continue;
    }
    out->append(utf8.data() + run, i - run);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default: {
        char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out->append(esc, 6);
      }
    }
    ++i;
    run = i;
  }
  out->append(utf8.data() + run, n - run);
  out->push_back('"');
}

}  // namespace mapfs
