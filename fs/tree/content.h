// What the files of a mount contain (docs/layout.md): the text of
// scalar fields, the .npy header of ndarrays, the names of dict keys and set
// elements, and the @info document. Pure functions of views; no FUSE here.
#ifndef MAPFS_FS_CONTENT_H_
#define MAPFS_FS_CONTENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mapfs/dataset.h"
#include "mapfs/record.h"
#include "mapfs/segment.h"
#include "mapfs/status.h"

namespace mapfs::fs {

// True for values shown as directories: structs, lists, tuples, frozensets
// and dicts (an `object` value by its run-time type).
bool IsDirectoryValue(const View& v);

// How a file value's bytes are produced.
enum class FileForm : uint8_t {
  kText,     // rendered text (ints, floats, bools, dates, decimals) + "\n"
  kRaw,      // str and bytes: the bytes in the segment, as they are
  kNdArray,  // a .npy v1.0 header followed by the raw data in the segment
};
FileForm FileFormOf(const View& v);

// Appends the text file content of a kText value, "\n" included.
Status AppendFieldText(const View& v, std::string* out);

// The .npy v1.0 header of an ndarray value: magic, version, length and the
// dict, padded with spaces to a multiple of 64 bytes and ending in "\n".
std::string NpyHeader(const View& v);

// The file size of a non-directory value, computed without copying str,
// bytes or ndarray data, and without rendering text whose length follows
// from the value (TextSizeOf).
Result<uint64_t> FileSize(const View& v);

// The length of a kText value's text without its "\n", when it follows from
// the value without rendering it: ints, bools, and dates and datetimes of
// years 0..9999. nullopt otherwise (floats, decimals, other years).
std::optional<uint64_t> TextSizeOf(const View& v);

// Appends the text a dict key or set element is named by: str and bytes as
// their bytes, ints in decimal, floats, bools, dates, datetimes and decimals
// as in their files (without "\n"), anything else as compact JSON.
Status AppendKeyText(const View& v, std::string* out);

// The @info document: kind, key type, counts, format version, size and
// checksum, as one line of JSON + "\n".
std::string InfoJson(const Segment& seg);

// A dataset's @info: the same fields for the whole dataset (counts and
// sizes summed over its shards, the format version of shard 0, the checksum
// the XXH3-64 of its manifest, which holds every shard's header checksum),
// then "shards": N.
std::string DatasetInfoJson(const Dataset& ds, std::string_view manifest);

}  // namespace mapfs::fs

#endif  // MAPFS_FS_CONTENT_H_
