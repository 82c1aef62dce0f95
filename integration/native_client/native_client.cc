// A native client of a mount: maps MNT/<coll>/@segment (plain mmap of a file
// served by the filesystem, so pages come through the kernel's page cache),
// opens it with Segment::FromMemory — no copy, no parsing beyond the header —
// and looks records up by key, printing their @json rendering.
//
//   mapfs_native_client MNT/people/@segment 'Ada Lovelace' 'Alan Turing'
//   mapfs_native_client MNT/points/@segment --index 0 7
//
// Each key prints one line: the record's JSON (a JSON array of records for
// multimaps), or "null" when there is no such key. Exit status 0 when all
// keys were found, 1 otherwise, 2 on errors.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "file_util.h"
#include "mapfs/record.h"
#include "mapfs/segment.h"

namespace {

using mapfs::Result;
using mapfs::Segment;
using mapfs::Status;
using mapfs::View;

Status PrintRecord(const Segment& seg, std::string_view record, std::string* out) {
  MAPFS_ASSIGN_OR_RETURN(View v, seg.ViewOf(record));
  return mapfs::RenderJson(v, out);
}

// Looks up one key (or index); appends its JSON; returns whether it exists.
Result<bool> Lookup(const Segment& seg, const std::string& key, bool by_index, std::string* out) {
  if (by_index || seg.kind() == mapfs::CollectionKind::kArray) {
    char* end = nullptr;
    const unsigned long long i = std::strtoull(key.c_str(), &end, 10);
    if (key.empty() || *end != '\0' || i >= seg.record_count()) return false;
    MAPFS_ASSIGN_OR_RETURN(std::string_view rec, seg.RecordBytes(i));
    MAPFS_RETURN_IF_ERROR(PrintRecord(seg, rec, out));
    return true;
  }
  Result<std::optional<Segment::Entry>> hit = std::optional<Segment::Entry>();
  if (seg.key_kind() == mapfs::KeyKind::kUInt) {
    char* end = nullptr;
    const unsigned long long u = std::strtoull(key.c_str(), &end, 10);
    if (key.empty() || *end != '\0') return false;
    hit = seg.Find(static_cast<uint64_t>(u));
  } else {
    hit = seg.Find(std::string_view(key));  // str keys: the raw bytes, zero-copy
  }
  if (!hit.ok()) return hit.status();
  if (!*hit) return false;
  if (seg.kind() == mapfs::CollectionKind::kMapping) {
    MAPFS_RETURN_IF_ERROR(PrintRecord(seg, (*hit)->record, out));
    return true;
  }
  MAPFS_ASSIGN_OR_RETURN(Segment::RecordIds ids, seg.RecordsAt((*hit)->ordinal));
  out->push_back('[');
  for (uint32_t i = 0; i < ids.size(); ++i) {
    if (i) out->push_back(',');
    MAPFS_ASSIGN_OR_RETURN(std::string_view rec, seg.RecordBytes(ids[i]));
    MAPFS_RETURN_IF_ERROR(PrintRecord(seg, rec, out));
  }
  out->push_back(']');
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MNT/<coll>/@segment [--index] KEY...\n", argv[0]);
    return 2;
  }
  const std::string path = argv[1];
  Result<mapfs::UniqueFd> fd = mapfs::UniqueFd::Open(path, O_RDONLY);
  if (!fd.ok()) {
    std::fprintf(stderr, "%s\n", fd.status().ToString().c_str());
    return 2;
  }
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) {
    std::perror(path.c_str());
    return 2;
  }
  Result<mapfs::MappedRegion> map = mapfs::MappedRegion::Map(
      fd->get(), static_cast<size_t>(st.st_size), PROT_READ, MAP_SHARED);
  if (!map.ok()) {
    std::fprintf(stderr, "%s\n", map.status().ToString().c_str());
    return 2;
  }
  // The mapping is borrowed: `map` outlives `seg`.
  Result<Segment> seg = Segment::FromMemory(map->addr(), map->size(), path);
  if (!seg.ok()) {
    std::fprintf(stderr, "%s\n", seg.status().ToString().c_str());
    return 2;
  }
  bool by_index = false;
  bool all_found = true;
  std::string out;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--index") == 0) {
      by_index = true;
      continue;
    }
    out.clear();
    Result<bool> found = Lookup(*seg, argv[i], by_index, &out);
    if (!found.ok()) {
      std::fprintf(stderr, "%s\n", found.status().ToString().c_str());
      return 2;
    }
    if (!*found) {
      out = "null";
      all_found = false;
    }
    out.push_back('\n');
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
  return all_found ? 0 : 1;
}
