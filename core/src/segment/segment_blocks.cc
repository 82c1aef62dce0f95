// Checking what a read touches: the block checksums of a 1.1 segment (one
// xxh3-64 per 64 KiB block, docs/format.md "Block checksums"), or each whole
// section of a 1.0 segment, hashed the first time a read touches it. A
// bitmap of proven units makes the second touch a bit test, so no byte is
// served before its checksum matched and no read costs more than the blocks
// it touches.
#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstring>

#include "segment_internal.h"

namespace mapfs::internal {

namespace sf = segment_format;

namespace {

std::atomic<bool> g_checks_on{true};

bool IsChecked(const CheckedUnits& c, uint64_t unit) {
  return (c.verified[unit >> 6].load(std::memory_order_acquire) >> (unit & 63)) & 1;
}

void MarkChecked(const CheckedUnits& c, uint64_t unit) {
  c.verified[unit >> 6].fetch_or(uint64_t{1} << (unit & 63), std::memory_order_release);
}

// Hashes block `b` of a 1.1 file against its stored checksum.
Status CheckBlock(const SegmentLayout& l, const CheckedUnits& c, uint64_t b) {
  const uint64_t begin = std::max(b << sf::kChecksumBlockBits, c.covered_begin);
  const uint64_t end = std::min((b + 1) << sf::kChecksumBlockBits, c.covered_end);
  uint64_t expected;
  std::memcpy(&expected, l.block_sums.data + 8 * b, 8);
  if (XXH3_64bits(l.base + begin, end - begin) != expected) {
    return SegmentCorruption(l, begin,
                             "checksum mismatch in block " + std::to_string(b) + " (bytes " +
                                 std::to_string(begin) + ".." + std::to_string(end) + ")");
  }
  MarkChecked(c, b);
  return Status::OK();
}

// Hashes section unit `i` of a 1.0 file whole against its table checksum.
Status CheckSectionUnit(const SegmentLayout& l, const CheckedUnits& c, uint64_t i) {
  const CheckedUnits::Unit& u = c.sections[i];
  if (XXH3_64bits(l.base + u.begin, u.end - u.begin) != u.checksum) {
    return SegmentCorruption(l, u.begin,
                             "checksum mismatch in the section at bytes " +
                                 std::to_string(u.begin) + ".." + std::to_string(u.end));
  }
  MarkChecked(c, i);
  return Status::OK();
}

}  // namespace

Status CheckRange(const SegmentLayout& l, uint64_t file_offset, uint64_t size) {
  if (file_offset > l.size || size > l.size - file_offset) {
    return SegmentCorruption(l, file_offset,
                             "read of " + std::to_string(size) + " bytes past the end of the file");
  }
  if (size == 0 || !g_checks_on.load(std::memory_order_relaxed)) return Status::OK();
  const CheckedUnits& c = *l.checked;
  const uint64_t end = file_offset + size;
  if (c.blocks) {
    const uint64_t begin = std::max(file_offset, c.covered_begin);
    const uint64_t stop = std::min(end, c.covered_end);
    if (begin >= stop) return Status::OK();
    const uint64_t last = (stop - 1) >> sf::kChecksumBlockBits;
    for (uint64_t b = begin >> sf::kChecksumBlockBits; b <= last; ++b) {
      if (!IsChecked(c, b)) MAPFS_RETURN_IF_ERROR(CheckBlock(l, c, b));
    }
    return Status::OK();
  }
  for (uint64_t i = 0; i < c.sections.size(); ++i) {
    const CheckedUnits::Unit& u = c.sections[i];
    if (u.begin >= end) break;  // file order
    if (u.end > file_offset && !IsChecked(c, i)) MAPFS_RETURN_IF_ERROR(CheckSectionUnit(l, c, i));
  }
  return Status::OK();
}

Status CheckSection(const SegmentLayout& l, const SectionSpan& s) {
  if (!g_checks_on.load(std::memory_order_relaxed)) return Status::OK();
  if (XXH3_64bits(s.data, s.size) != s.checksum) {
    return SegmentCorruption(l, s.file_offset,
                             "checksum mismatch in the section at bytes " +
                                 std::to_string(s.file_offset) + ".." +
                                 std::to_string(s.file_offset + s.size));
  }
  return Status::OK();
}

void SetRangeChecksForBenchmark(bool on) { g_checks_on.store(on); }

Status SetUpChecks(SegmentLayout* layout) {
  SegmentLayout& l = *layout;
  auto c = std::make_shared<CheckedUnits>();
  const bool blocks = (l.incompat_features & sf::kFeatureBlockChecksums) != 0;
  const SectionSpan& s = l.block_sums;
  if (blocks != s.present) {
    return SegmentCorruption(l, offsetof(sf::Header, incompat_features),
                             blocks ? "block checksums announced but no block checksum section"
                                    : "block checksum section without its feature bit");
  }
  const SectionSpan* spans[] = {&l.schema,  &l.data,   &l.record_offsets, &l.directory,
                                &l.entries, &l.ranges, &l.postings};
  if (blocks) {
    c->blocks = true;
    c->covered_begin = sf::HeaderAreaSize(l.section_count);
    c->covered_end = s.file_offset;
    for (const SectionSpan* span : spans) {
      if (span->present && span->file_offset + span->size > s.file_offset) {
        return SegmentCorruption(l, s.file_offset,
                                 "block checksum section is not the last section");
      }
    }
    c->unit_count = sf::ChecksumBlockCount(c->covered_end);
    if (s.size != 8 * c->unit_count) {
      return SegmentCorruption(l, s.file_offset,
                               "block checksum section has size " + std::to_string(s.size) +
                                   ", expected " + std::to_string(8 * c->unit_count));
    }
    // O(file size / 8192): 8 bytes per 64 KiB block.
    if (XXH3_64bits(s.data, s.size) != s.checksum) {
      return SegmentCorruption(l, s.file_offset, "checksum mismatch in the block checksums");
    }
  } else {
    for (const SectionSpan* span : spans) {
      if (span->present) {
        c->sections.push_back({span->file_offset, span->file_offset + span->size, span->checksum});
      }
    }
    std::sort(
        c->sections.begin(), c->sections.end(),
        [](const CheckedUnits::Unit& a, const CheckedUnits::Unit& b) { return a.begin < b.begin; });
    c->unit_count = c->sections.size();
  }
  const uint64_t words = (c->unit_count + 63) / 64;
  c->verified = std::make_unique<std::atomic<uint64_t>[]>(words);
  for (uint64_t i = 0; i < words; ++i) c->verified[i].store(0, std::memory_order_relaxed);
  l.checked = std::move(c);
  return Status::OK();
}

Status VerifyAllUnits(const SegmentLayout& l) {
  const CheckedUnits& c = *l.checked;
  for (uint64_t i = 0; i < c.unit_count; ++i) {
    MAPFS_RETURN_IF_ERROR(c.blocks ? CheckBlock(l, c, i) : CheckSectionUnit(l, c, i));
  }
  return Status::OK();
}

uint64_t CheckedUnitCount(const SegmentLayout& l) {
  const CheckedUnits& c = *l.checked;
  uint64_t n = 0;
  for (uint64_t i = 0; i < (c.unit_count + 63) / 64; ++i) {
    n += static_cast<uint64_t>(std::popcount(c.verified[i].load(std::memory_order_relaxed)));
  }
  return n;
}

size_t CheckedBitmapBytes(const SegmentLayout& l) {
  return static_cast<size_t>((l.checked->unit_count + 63) / 64 * 8);
}

}  // namespace mapfs::internal
