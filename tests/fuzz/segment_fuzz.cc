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

// Recomputes the block checksums (when the table holds a block checksum
// section of the right size), then every section checksum, then the header
// checksum. Returns false when the header or table is too broken to reseal.
bool Reseal(std::string* b) {
  std::string& bytes = *b;
  if (bytes.size() < sizeof(sf::Header)) return false;
  sf::Header h;
  std::memcpy(&h, bytes.data(), sizeof(h));
  const uint64_t table_end = sizeof(sf::Header) + uint64_t{h.section_count} * 32;
  if (h.section_count > sf::kMaxSections || table_end > bytes.size()) return false;
  const uint64_t begin = sf::HeaderAreaSize(h.section_count);
  for (uint32_t i = 0; i < h.section_count; ++i) {
    sf::SectionEntry e;
    std::memcpy(&e, bytes.data() + sizeof(h) + 32 * i, sizeof(e));
    if (e.kind != static_cast<uint32_t>(sf::SectionKind::kBlockChecksums)) continue;
    if (e.offset > bytes.size() || e.offset < begin ||
        e.size != 8 * sf::ChecksumBlockCount(e.offset) || e.size > bytes.size() - e.offset) {
      continue;
    }
    for (uint64_t k = 0; k < e.size / 8; ++k) {
      const uint64_t lo = std::max(k * sf::kChecksumBlockSize, begin);
      const uint64_t hi = std::min((k + 1) * sf::kChecksumBlockSize, e.offset);
      const uint64_t sum = lo < hi ? XXH3_64bits(bytes.data() + lo, hi - lo) : 0;
      std::memcpy(bytes.data() + e.offset + 8 * k, &sum, 8);
    }
  }
  for (uint32_t i = 0; i < h.section_count; ++i) {
    const uint64_t at = sizeof(h) + 32 * i;
    sf::SectionEntry e;
    std::memcpy(&e, bytes.data() + at, sizeof(e));
    if (e.offset > bytes.size() || e.size > bytes.size() - e.offset) continue;
    e.checksum = XXH3_64bits(bytes.data() + e.offset, e.size);
    std::memcpy(bytes.data() + at, &e, sizeof(e));
  }
  h.header_checksum = 0;
  std::memcpy(bytes.data(), &h, sizeof(h));
  h.header_checksum = XXH3_64bits(bytes.data(), table_end);
  std::memcpy(bytes.data(), &h, sizeof(h));
  return true;
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
  if (Reseal(&bytes)) Exercise(bytes);
  return 0;
}
