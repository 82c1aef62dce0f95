// libFuzzer target for the segment reader: open any bytes with
// Segment::FromMemory, then look keys up and read records. Each input is tried
// as given, again with its header checksum recomputed, so that mutations
// reach the section table, and again with every block and section checksum
// recomputed too, so that mutations reach the index and records behind the
// block checksums (docs/format.md, "Block checksums").
#include <xxhash.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "mapfs/record.h"
#include "mapfs/segment.h"
#include "segment_format.h"
#include "segment_reseal.h"

namespace {

namespace sf = mapfs::segment_format;

void Exercise(const std::string& bytes) {
  auto seg = mapfs::Segment::FromMemory(bytes.data(), bytes.size(), "fuzz");
  if (!seg.ok()) return;
  std::string json;
  for (uint64_t i = 0; i < seg->record_count() && i < 8; ++i) {
    auto rec = seg->Record(i);
    if (rec.ok()) (void)mapfs::RenderJson(*rec, &json);
  }
  if (seg->kind() != mapfs::CollectionKind::kArray) {
    for (uint64_t o = 0; o < seg->key_count() && o < 8; ++o) {
      seg->PrefetchEntry(o + 1);  // hostile entries must not lead it astray
      auto e = seg->EntryAt(o);
      if (e.ok()) {
        auto hit = seg->Find(e->key);
        (void)hit;
        if (seg->key_kind() == mapfs::KeyKind::kGeneric) (void)seg->KeyView(e->key);
      }
      if (seg->kind() != mapfs::CollectionKind::kMapping) {
        auto ids = seg->RecordsAt(o);
        if (ids.ok()) {
          for (uint32_t j = 0; j < ids->size() && j < 4; ++j) (void)seg->Record((*ids)[j]);
        }
      }
    }
    const std::string probes[] = {"", "a", std::string(8, '\0'), bytes.substr(0, 16)};
    for (const std::string& k : probes) {
      (void)seg->Find(k);
      if (seg->kind() == mapfs::CollectionKind::kMultiMap) (void)seg->FindAll(k);
      if (seg->kind() == mapfs::CollectionKind::kApproxMultiMap) (void)seg->Candidates(k);
    }
  }
  (void)seg->Verify();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  Exercise(bytes);
  if (size >= sizeof(sf::Header)) {
    sf::Header h;
    std::memcpy(&h, bytes.data(), sizeof(h));
    const uint64_t table_end = sizeof(sf::Header) + uint64_t{h.section_count} * 32;
    if (h.section_count <= sf::kMaxSections && table_end <= size) {
      h.header_checksum = 0;
      std::memcpy(bytes.data(), &h, sizeof(h));
      h.header_checksum = XXH3_64bits(bytes.data(), table_end);
      std::memcpy(bytes.data(), &h, sizeof(h));
      Exercise(bytes);
    }
  }
  if (mapfs::testing::ResealSegment(&bytes)) Exercise(bytes);
  return 0;
}
