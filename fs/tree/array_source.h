// Shared arrays (docs/arrays.md) as mount sources: a `shm://name` or
// `file://path` URI, a plain path to a shared-array file, or such a file
// inside a directory source. Each appears as one file `<name>.npy` whose
// bytes are the .npy header then the array's data, read live (docs/layout.md,
// "Shared arrays").
#ifndef MAPFS_FS_ARRAY_SOURCE_H_
#define MAPFS_FS_ARRAY_SOURCE_H_

#include <memory>
#include <string>
#include <string_view>

#include "tree_internal.h"

namespace mapfs::fs {

// True if `source` is spelled as a shared-array URI (shm:// or file://).
bool IsArrayUri(std::string_view source);

// True if `path` is a regular file that starts with the shared-array magic.
// Only a hint: the header is validated when the array is attached.
bool HasArrayMagic(const std::string& path);

// The file name an array appears under: the shm name, or the file's base
// name without its extension, plus ".npy".
std::string ArrayFileName(const SharedArrayUri& uri);

// Attaches `uri` read-only as a source named ArrayFileName(uri). A failure
// is kept in the source's status (never null). The mtime is the object's.
std::unique_ptr<Tree::Source> OpenArraySource(const SharedArrayUri& uri);

}  // namespace mapfs::fs

#endif  // MAPFS_FS_ARRAY_SOURCE_H_
