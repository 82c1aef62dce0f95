// Text forms shared by the JSON input, the @json rendering and field files
// (docs/layout.md, "Field files"): Python-style float text, base64 and JSON string escaping.
//
// These sit on hot paths (every rendered field goes through them), so each
// has an Append* form that writes into a caller's buffer without temporaries.
//
//   std::string s = FormatDouble(0.1);      // "0.1"
//   FormatDouble(1e16);                     // "1e+16"
//   AppendJsonString(&out, "a\"b");         // out += "\"a\\\"b\""
#ifndef MAPFS_TEXT_FORMAT_H_
#define MAPFS_TEXT_FORMAT_H_

#include <string>
#include <string_view>

#include "mapfs/status.h"

namespace mapfs {

// Python's repr() of a float: the shortest digits that read back to the same
// double; fixed notation when the decimal exponent is in [-4, 16) (integral
// values keep ".0": "42.0"), scientific otherwise ("1e+16", "1.5e-05",
// "5e-324"). Special values: "NaN", "Infinity", "-Infinity"; -0.0 is "-0.0".
std::string FormatDouble(double x);
void AppendDouble(std::string* out, double x);

// The same rules with float32's shortest round-trip digits (0.1f is "0.1").
std::string FormatFloat32(float x);
void AppendFloat32(std::string* out, float x);

// Standard base64 (RFC 4648 §4: "+/" alphabet, "=" padding).
std::string Base64Encode(std::string_view bytes);
void AppendBase64(std::string* out, std::string_view bytes);
// Strict inverse of Base64Encode: the length must be a multiple of 4, only
// alphabet characters, "=" only as the last one or two characters, and the
// unused bits before the padding must be zero (so every byte string has
// exactly one accepted encoding). No whitespace. Errors are InvalidArgument.
Result<std::string> Base64Decode(std::string_view text);

// True if `s` is well-formed UTF-8 (no overlongs, surrogates or code points
// past U+10FFFF).
bool IsValidUtf8(std::string_view s);

// Appends `utf8` as a JSON string literal, quotes included. '"' and '\' are
// escaped; control characters use \b \f \n \r \t or \u00XX; everything else,
// including valid non-ASCII UTF-8, is copied as is. Invalid UTF-8 is replaced
// by U+FFFD (one per maximal ill-formed subsequence, as Unicode recommends),
// so the output is always valid JSON even for str values holding bad bytes.
void AppendJsonString(std::string* out, std::string_view utf8);

}  // namespace mapfs

#endif  // MAPFS_TEXT_FORMAT_H_
