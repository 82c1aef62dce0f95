// Crafting segments as an attacker would (docs/format.md, "Segments"): after
// editing bytes, make every checksum agree again so the edit reaches the
// reader's structure checks and record verifier. Used by tests and fuzzers.
#ifndef MAPFS_TESTS_SEGMENT_RESEAL_H_
#define MAPFS_TESTS_SEGMENT_RESEAL_H_

#include <xxhash.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "segment_format.h"

namespace mapfs::testing {

// Recomputes the block checksums (when the table holds a block checksum
// section of the right size), then every section checksum, then the header
// checksum. Returns false when the header or table is too broken to reseal.
inline bool ResealSegment(std::string* b) {
  namespace sf = mapfs::segment_format;
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

// Rewrites a 1.1 segment as the 1.0 file with the same sections: the block
// checksum section (always last) and its feature bit removed, the header
// checksum recomputed. False when the last section is not block checksums.
inline bool DowngradeSegmentTo10(std::string* b) {
  namespace sf = mapfs::segment_format;
  std::string& bytes = *b;
  if (bytes.size() < sizeof(sf::Header)) return false;
  sf::Header h;
  std::memcpy(&h, bytes.data(), sizeof(h));
  if (h.section_count == 0 || h.section_count > sf::kMaxSections) return false;
  const uint64_t last = sizeof(h) + 32 * uint64_t{h.section_count - 1};
  if (last + sizeof(sf::SectionEntry) > bytes.size()) return false;
  sf::SectionEntry e;
  std::memcpy(&e, bytes.data() + last, sizeof(e));
  if (e.kind != static_cast<uint32_t>(sf::SectionKind::kBlockChecksums) ||
      e.offset > bytes.size()) {
    return false;
  }
  bytes.resize(e.offset);
  std::memset(bytes.data() + last, 0, sizeof(e));
  h.minor_version = 0;
  h.incompat_features = 0;
  h.section_count -= 1;
  h.file_size = bytes.size();
  h.header_checksum = 0;
  std::memcpy(bytes.data(), &h, sizeof(h));
  h.header_checksum = XXH3_64bits(bytes.data(), sizeof(h) + 32 * uint64_t{h.section_count});
  std::memcpy(bytes.data(), &h, sizeof(h));
  return true;
}

}  // namespace mapfs::testing

#endif  // MAPFS_TESTS_SEGMENT_RESEAL_H_
