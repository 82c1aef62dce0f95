// Key text <-> file name: the one reversible escaping rule of a mount
// (docs/layout.md, "Names"). Keys may hold any bytes; file names may not hold
// '/' or NUL, must not be empty, "." or "..", must not collide with the
// reserved '@' entries, and are limited to 255 bytes.
//
//   EscapeName("a/b")   == "a%2Fb"
//   EscapeName("")      == "%"
//   UnescapeName("%2E") == "."
#ifndef MAPFS_FS_NAME_ESCAPE_H_
#define MAPFS_FS_NAME_ESCAPE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mapfs::fs {

// The kernel's limit on one path component (NAME_MAX).
constexpr size_t kMaxNameBytes = 255;
// How much of an escaped key an indexed name keeps before its "%~" suffix.
constexpr size_t kIndexedPrefixBytes = 200;

// Percent-escapes '/', '%' and NUL anywhere, and '.' or '@' as the first byte;
// the empty key becomes "%". Every other byte (newlines, non-UTF-8) is kept.
// The result may be longer than kMaxNameBytes: see IndexedName.
std::string EscapeName(std::string_view key);
void AppendEscapedName(std::string* out, std::string_view key);

// The key a canonical escaped name stands for; nullopt when `name` is not
// exactly what EscapeName produces for some key (bad or needless escapes,
// lower-case hex, an indexed name).
std::optional<std::string> UnescapeName(std::string_view name);

// The name of a key whose escaped form `escaped` is too long: its first
// kIndexedPrefixBytes bytes (never cutting an escape), "%~", the key's
// position `ordinal` in its directory, ".", and 16 hex digits of the xxh3
// hash of the key text. Resolving one reads the entry at `ordinal` and checks
// that it renders to the same name, so lookups stay O(1).
std::string IndexedName(std::string_view escaped, uint64_t ordinal, std::string_view key);

// The ordinal of an indexed name, or nullopt if `name` is not one.
std::optional<uint64_t> ParseIndexedName(std::string_view name);

// The file name of a key: EscapeName, or IndexedName when that is too long.
std::string KeyName(std::string_view key, uint64_t ordinal);

// Strict decimal (no sign, no leading zeros except "0", fits uint64): how
// array indices and uint keys are named.
std::optional<uint64_t> ParseDecimal(std::string_view text);

}  // namespace mapfs::fs

#endif  // MAPFS_FS_NAME_ESCAPE_H_
