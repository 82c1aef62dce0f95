// Keeps the daemon's own code in memory, mapped.
//
// A page of code the daemon has not run yet is read from disk at its first
// use, one fault at a time, and the kernel drops every page cache page no
// process maps when memory is reclaimed. So the first requests after a mount
// (or after the cache was dropped) each waited on the disk for the code that
// serves them: a cold `stat` of the mount root took 3.7 ms, 20 times its
// round trip. Populating the page tables of the code once, at start, maps
// those pages, and mapped pages stay.
#ifndef MAPFS_FS_CODE_RESIDENCY_H_
#define MAPFS_FS_CODE_RESIDENCY_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "mapfs/status.h"

namespace mapfs::fs {

// A mapping of /proc/<pid>/maps.
struct CodeMapping {
  uintptr_t begin = 0;
  uintptr_t end = 0;
  std::string path;
};

// Maps every page of the process's code: each file with an executable
// mapping (the program and its shared libraries), all of its read-only
// mappings (code, constants, unwind tables). Writable mappings, and files
// mapped without execute permission (a served segment), are left alone.
// Returns the bytes populated. Called after any fork: a child gets no
// page tables of its parent's file mappings.
Result<size_t> KeepCodeResident();

// The mappings KeepCodeResident populates, from the text of a maps file.
std::vector<CodeMapping> CodeMappingsOf(const std::string& maps);

}  // namespace mapfs::fs

#endif  // MAPFS_FS_CODE_RESIDENCY_H_
