// Populating the daemon's code mappings; see code_residency.h.
#include "code_residency.h"

#include <sys/mman.h>

#include <cerrno>
#include <fstream>
#include <set>
#include <sstream>

namespace mapfs::fs {

namespace {

struct MapsLine {
  uintptr_t begin = 0;
  uintptr_t end = 0;
  std::string perms;
  std::string path;
};

bool ParseMapsLine(const std::string& line, MapsLine* out) {
  std::istringstream in(line);
  std::string range, offset, dev, inode;
  if (!(in >> range >> out->perms >> offset >> dev >> inode)) return false;
  const size_t dash = range.find('-');
  if (dash == std::string::npos || out->perms.size() < 4) return false;
  try {
    out->begin = static_cast<uintptr_t>(std::stoull(range.substr(0, dash), nullptr, 16));
    out->end = static_cast<uintptr_t>(std::stoull(range.substr(dash + 1), nullptr, 16));
  } catch (...) {
    return false;
  }
  // The path is the rest of the line: it may hold spaces.
  std::getline(in >> std::ws, out->path);
  return out->begin < out->end;
}

}  // namespace

std::vector<CodeMapping> CodeMappingsOf(const std::string& maps) {
  std::vector<MapsLine> lines;
  std::set<std::string> code_files;
  std::istringstream in(maps);
  std::string text;
  while (std::getline(in, text)) {
    MapsLine line;
    if (!ParseMapsLine(text, &line) || line.path.empty() || line.path[0] != '/') continue;
    if (line.perms[2] == 'x') code_files.insert(line.path);
    lines.push_back(std::move(line));
  }
  std::vector<CodeMapping> out;
  for (MapsLine& line : lines) {
    if (line.perms[0] != 'r' || line.perms[1] == 'w' || !code_files.count(line.path)) continue;
    out.push_back({line.begin, line.end, std::move(line.path)});
  }
  return out;
}

Result<size_t> KeepCodeResident() {
  std::ifstream in("/proc/self/maps");
  if (!in) return Status::IOError("cannot read /proc/self/maps", ENOENT);
  std::stringstream text;
  text << in.rdbuf();
  size_t populated = 0;
  for (const CodeMapping& m : CodeMappingsOf(text.str())) {
    // Linux 5.14 and later; on older kernels the code stays paged as before.
    if (::madvise(reinterpret_cast<void*>(m.begin), m.end - m.begin, MADV_POPULATE_READ) != 0) {
      if (errno == EINVAL) return Status::NotSupported("MADV_POPULATE_READ");
      continue;  // a mapping gone meanwhile (a library unloaded): nothing to keep
    }
    populated += m.end - m.begin;
  }
  return populated;
}

}  // namespace mapfs::fs
