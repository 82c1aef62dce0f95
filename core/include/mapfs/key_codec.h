// Keys of a segment in their three forms, and the one lookup every keyed
// kind shares (docs/format.md, "Keys").
//
//   raw   the bytes the index stores: a str key's UTF-8, a uint key's 8 bytes
//         little-endian, a generic key packed by RecordPacker::PackValue
//   text  what a user types: a str key as is, a uint key in decimal, a
//         generic key as JSON (a bare string where the key type takes one)
//   Value the key as a Value of the key field's type
//
// EncodeUIntKey, ParseArrayIndex, FindRecords and ContainsKey belong to the
// reader (mapfs_segment); KeyCodec parses JSON, so it sits above the JSON
// input (mapfs_key). `mapfs get` and the mount both resolve keys here.
//
//   MAPFS_ASSIGN_OR_RETURN(Segment seg, Segment::Open("people_by_name.mapfs"));
//   KeyCodec codec(seg);
//   MAPFS_ASSIGN_OR_RETURN(std::string raw, codec.FromText("Ada"));
//   MAPFS_ASSIGN_OR_RETURN(std::vector<uint64_t> ids, FindRecords(seg, raw));
#ifndef MAPFS_KEY_CODEC_H_
#define MAPFS_KEY_CODEC_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mapfs/segment.h"
#include "mapfs/status.h"
#include "mapfs/value.h"

namespace mapfs {

// The raw bytes of a uint key: 8 bytes, little-endian (docs/format.md, "Keys").
inline std::array<char, 8> EncodeUIntKey(uint64_t v) {
  std::array<char, 8> out;
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}
inline std::string_view UIntKeyView(const std::array<char, 8>& bytes) {
  return std::string_view(bytes.data(), bytes.size());
}
// The inverse; nullopt unless `raw` is exactly 8 bytes.
inline std::optional<uint64_t> DecodeUIntKey(std::string_view raw) {
  if (raw.size() != 8) return std::nullopt;
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(raw[i]);
  return v;
}

// The key kind a segment gets for a key field of type `t`: strings and
// unsigned integers have their own raw encodings, every other type is
// generic (docs/format.md, "Keys").
KeyKind KeyKindOf(const Type& t);

// An array's record index from its text: decimal, or negative counting from
// the end (-1 is the last record). NotFound when outside [0, record_count),
// InvalidArgument when not a decimal integer.
Result<uint64_t> ParseArrayIndex(std::string_view text, uint64_t record_count);

// The record ids of raw key `raw`, in input order: 0 or 1 for mappings, all of
// the key's records for multimaps and, for approximate multimaps, the hash
// candidates whose key field equals the key (all candidates when the segment
// has no key field to compare). InvalidArgument for arrays.
Result<std::vector<uint64_t>> FindRecords(const Segment& seg, std::string_view raw);
// True if FindRecords would find at least one record.
Result<bool> ContainsKey(const Segment& seg, std::string_view raw);

// Converts keys of one keyed segment between raw bytes, text and Values.
// Borrows the segment, which must outlive the codec. Not thread-safe (it
// keeps a packer and a JSON parser); one per thread.
class KeyCodec {
 public:
  explicit KeyCodec(const Segment& seg);
  ~KeyCodec();
  KeyCodec(const KeyCodec&) = delete;
  KeyCodec& operator=(const KeyCodec&) = delete;

  // Raw key of a Value of the key field's type (an int Value >= 0 serves a
  // uint key). InvalidArgument when it cannot be a key of this segment.
  Result<std::string> FromValue(const Value& key);
  // Raw key of the text a user types. Errors are InvalidArgument and quote
  // the text: "key 'x': expected a JSON value of type tuple<str, int64>".
  Result<std::string> FromText(std::string_view text);
  // The inverse of FromText: a str key itself, a uint key in decimal, a
  // generic key's JSON rendering. Corruption for malformed raw bytes.
  Result<std::string> ToText(std::string_view raw);
  // The raw key as a Value of the key field's type.
  Result<Value> ToValue(std::string_view raw);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mapfs

#endif  // MAPFS_KEY_CODEC_H_
