// Key <-> file name escaping; the rule is written down in docs/layout.md.
#include "name_escape.h"

#include <xxhash.h>

#include <algorithm>
#include <cstdio>

namespace mapfs::fs {

namespace {

constexpr char kHex[] = "0123456789ABCDEF";
constexpr std::string_view kIndexedMarker = "%~";

bool NeedsEscape(unsigned char c, bool first) {
  return c == '/' || c == '%' || c == '\0' || (first && (c == '.' || c == '@'));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // lower case is not canonical
}

}  // namespace

void AppendEscapedName(std::string* out, std::string_view key) {
  if (key.empty()) {
    out->push_back('%');
    return;
  }
  // Most keys need no escape: one scan, then one append (listings of
  // millions of keys spend their time here otherwise).
  size_t clean = NeedsEscape(static_cast<unsigned char>(key[0]), true) ? 0 : 1;
  if (clean == 1) {
    while (clean < key.size() && !NeedsEscape(static_cast<unsigned char>(key[clean]), false)) {
      ++clean;
    }
  }
  out->append(key.data(), clean);
  for (size_t i = clean; i < key.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(key[i]);
    if (NeedsEscape(c, i == 0)) {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
}

std::string EscapeName(std::string_view key) {
  std::string out;
  out.reserve(key.size() + 2);
  AppendEscapedName(&out, key);
  return out;
}

std::optional<std::string> UnescapeName(std::string_view name) {
  if (name.empty()) return std::nullopt;
  if (name == "%") return std::string();
  std::string key;
  key.reserve(name.size());
  for (size_t i = 0; i < name.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    if (c != '%') {
      if (NeedsEscape(c, key.empty())) return std::nullopt;
      key.push_back(static_cast<char>(c));
      continue;
    }
    if (i + 2 >= name.size()) return std::nullopt;
    const int hi = HexValue(name[i + 1]);
    const int lo = HexValue(name[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    const unsigned char b = static_cast<unsigned char>(hi * 16 + lo);
    // Only bytes that must be escaped may be: one spelling per key.
    if (!NeedsEscape(b, key.empty())) return std::nullopt;
    key.push_back(static_cast<char>(b));
    i += 2;
  }
  return key;
}

std::string IndexedName(std::string_view escaped, uint64_t ordinal, std::string_view key) {
  size_t cut = std::min(escaped.size(), kIndexedPrefixBytes);
  // An escape is '%' and two hex digits: never keep only part of one.
  if (cut >= 1 && cut < escaped.size() && escaped[cut - 1] == '%') {
    cut -= 1;
  } else if (cut >= 2 && cut < escaped.size() && escaped[cut - 2] == '%') {
    cut -= 2;
  }
  char suffix[64];
  const int n = std::snprintf(suffix, sizeof(suffix), "%%~%llu.%016llx",
                              static_cast<unsigned long long>(ordinal),
                              static_cast<unsigned long long>(XXH3_64bits(key.data(), key.size())));
  std::string out(escaped.substr(0, cut));
  out.append(suffix, static_cast<size_t>(n));
  return out;
}

std::optional<uint64_t> ParseIndexedName(std::string_view name) {
  const size_t at = name.rfind(kIndexedMarker);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = name.substr(at + kIndexedMarker.size());
  const size_t dot = rest.find('.');
  if (dot == std::string_view::npos || rest.size() - dot - 1 != 16) return std::nullopt;
  return ParseDecimal(rest.substr(0, dot));
}

std::string KeyName(std::string_view key, uint64_t ordinal) {
  std::string name = EscapeName(key);
  if (name.size() <= kMaxNameBytes) return name;
  return IndexedName(name, ordinal, key);
}

std::optional<uint64_t> ParseDecimal(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

}  // namespace mapfs::fs
