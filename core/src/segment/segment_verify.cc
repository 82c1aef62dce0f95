// Full verification of a segment's layout: checksums, zero padding, the index
// order and every item, range and posting. Linear in the file size; what
// `mapfs verify` runs (records themselves are checked by Segment::Verify).
#include <xxhash.h>

#include <cstring>
#include <string>
#include <vector>

#include "segment_internal.h"

namespace mapfs::internal {

namespace sf = segment_format;

namespace {

template <typename T>
T Load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

Status CheckZero(const SegmentLayout& l, uint64_t begin, uint64_t end) {
  for (uint64_t i = begin; i < end; ++i) {
    if (l.base[i] != 0) return SegmentCorruption(l, i, "padding is not zero");
  }
  return Status::OK();
}

Status VerifyItems(const SegmentLayout& l) {
  const bool keys_stored =
      l.kind == CollectionKind::kMapping || l.kind == CollectionKind::kMultiMap;
  for (uint64_t i = 0; i < l.record_count; ++i) {
    MAPFS_ASSIGN_OR_RETURN(RawItem item, ReadRecordItem(l, i));
    if (!keys_stored && !item.key.empty()) {
      return SegmentCorruption(l, l.record_offsets.file_offset + 8 * i,
                               "item has a key in a collection without stored keys");
    }
    if (l.key_kind == KeyKind::kUInt && item.key.size() != 8) {
      return SegmentCorruption(l, l.record_offsets.file_offset + 8 * i, "uint key not 8 bytes");
    }
  }
  return Status::OK();
}

Status VerifyIndex(const SegmentLayout& l) {
  const uint32_t k = l.index_bits;
  const uint64_t buckets = uint64_t{1} << k;
  const bool approx = l.kind == CollectionKind::kApproxMultiMap;
  for (uint64_t b = 0; b < buckets; ++b) {
    const uint32_t lo = Load<uint32_t>(l.directory.data + 4 * b);
    const uint32_t hi = Load<uint32_t>(l.directory.data + 4 * b + 4);
    if (lo > hi || hi > l.key_count) {
      return SegmentCorruption(l, l.directory.file_offset + 4 * b, "directory out of order");
    }
    uint32_t prev_fp = 0;
    for (uint64_t e = lo; e < hi; ++e) {
      const uint64_t entry_at = l.entries.file_offset + 8 * e;
      const uint64_t v = Load<uint64_t>(l.entries.data + 8 * e);
      const uint32_t fp = sf::EntryFingerprint(v);
      if (fp < prev_fp || (approx && e > lo && fp == prev_fp)) {
        return SegmentCorruption(l, entry_at, "index entries out of order");
      }
      prev_fp = fp;
      MAPFS_ASSIGN_OR_RETURN(RawItem item, ReadItem(l, sf::EntryItemOffset(v)));
      if (approx) continue;
      const uint64_t hash = KeyHash(item.key.data(), item.key.size(), l.hash_seed);
      if (sf::BucketOf(hash, k) != b || sf::FingerprintOf(hash, k) != fp) {
        return SegmentCorruption(l, entry_at, "index entry does not match its key's hash");
      }
      // Keys are unique: compare with the earlier entries of this fingerprint.
      for (uint64_t p = e; p-- > lo;) {
        const uint64_t pv = Load<uint64_t>(l.entries.data + 8 * p);
        if (sf::EntryFingerprint(pv) != fp) break;
        MAPFS_ASSIGN_OR_RETURN(RawItem other, ReadItem(l, sf::EntryItemOffset(pv)));
        if (other.key == item.key) return SegmentCorruption(l, entry_at, "duplicate key");
      }
    }
  }
  return Status::OK();
}

// A mapping's record i must be the item the index entry of its own key
// names. Items are written in input order and never shared (keys are
// unique), so the record offsets strictly increase, which MappingRecordAt's
// binary search relies on; and every entry must name one of those items.
// With key_count = record_count and unique keys (VerifyIndex), entries and
// record ids are then one-to-one: no record id reaches another key's record.
// A bitmap of the data section's item starts keeps the check linear.
Status VerifyMappingRecords(const SegmentLayout& l) {
  std::vector<bool> is_record(l.data.size / sf::kItemAlign + 1);
  uint64_t prev = 0;
  for (uint64_t i = 0; i < l.record_count; ++i) {
    const uint64_t at = Load<uint64_t>(l.record_offsets.data + 8 * i);
    if (i > 0 && at <= prev) {
      return SegmentCorruption(l, l.record_offsets.file_offset + 8 * i,
                               "record " + std::to_string(i) +
                                   ": a mapping's record offsets must strictly increase (each "
                                   "record is its own key's item)");
    }
    prev = at;
    // In bounds: VerifyItems read every record's item.
    is_record[at / sf::kItemAlign] = true;
  }
  for (uint64_t e = 0; e < l.key_count; ++e) {
    const uint64_t item = sf::EntryItemOffset(Load<uint64_t>(l.entries.data + 8 * e));
    if (item / sf::kItemAlign >= is_record.size() || !is_record[item / sf::kItemAlign]) {
      return SegmentCorruption(l, l.entries.file_offset + 8 * e,
                               "index entry names an item that no record id points at");
    }
  }
  return Status::OK();
}

Status VerifyRanges(const SegmentLayout& l) {
  uint64_t next = 0;
  std::vector<bool> seen(l.record_count);
  for (uint64_t e = 0; e < l.key_count; ++e) {
    const uint64_t at = l.ranges.file_offset + 8 * e;
    const sf::Range r = Load<sf::Range>(l.ranges.data + 8 * e);
    if (r.first != next || r.count == 0 || uint64_t{r.first} + r.count > l.record_count) {
      return SegmentCorruption(l, at, "ranges do not partition the postings");
    }
    next += r.count;
    MAPFS_ASSIGN_OR_RETURN(RawItem first, ReadEntryItem(l, e));
    // The entry names its key's first record's item (docs/format.md, "The
    // hash index"), so that record is reached from its own key only.
    const uint32_t first_id = Load<uint32_t>(l.postings.data + 4 * uint64_t{r.first});
    if (first_id >= l.record_count ||
        sf::EntryItemOffset(Load<uint64_t>(l.entries.data + 8 * e)) !=
            Load<uint64_t>(l.record_offsets.data + 8 * uint64_t{first_id})) {
      return SegmentCorruption(l, l.entries.file_offset + 8 * e,
                               "index entry does not name its first record's item");
    }
    uint32_t prev = 0;
    for (uint32_t j = 0; j < r.count; ++j) {
      const uint64_t pat = l.postings.file_offset + 4 * (uint64_t{r.first} + j);
      const uint32_t id = Load<uint32_t>(l.postings.data + 4 * (uint64_t{r.first} + j));
      if (id >= l.record_count || seen[id] || (j > 0 && id <= prev)) {
        return SegmentCorruption(l, pat, "posting out of range, repeated or out of order");
      }
      seen[id] = true;
      prev = id;
      if (l.kind == CollectionKind::kMultiMap) {
        MAPFS_ASSIGN_OR_RETURN(RawItem item, ReadRecordItem(l, id));
        if (item.key != first.key) return SegmentCorruption(l, pat, "posting under a wrong key");
      }
    }
  }
  if (next != l.record_count) {
    return SegmentCorruption(l, l.ranges.file_offset, "ranges do not cover every record");
  }
  return Status::OK();
}

}  // namespace

Status VerifySections(const SegmentLayout& l) {
  sf::Header h;
  std::memcpy(&h, l.base, sizeof(h));
  if (h.reserved0 != 0) return SegmentCorruption(l, 43, "reserved header byte is not zero");
  for (size_t i = 0; i < sizeof(h.reserved); ++i) {
    if (h.reserved[i] != 0) return SegmentCorruption(l, 80 + i, "reserved header byte not zero");
  }
  uint64_t prev_end = sizeof(sf::Header) + uint64_t{l.section_count} * sizeof(sf::SectionEntry);
  for (uint32_t i = 0; i < l.section_count; ++i) {
    const uint64_t at = sizeof(sf::Header) + uint64_t{i} * sizeof(sf::SectionEntry);
    sf::SectionEntry e;
    std::memcpy(&e, l.base + at, sizeof(e));
    if (e.flags != 0) return SegmentCorruption(l, at + 4, "section flags are not zero");
    MAPFS_RETURN_IF_ERROR(CheckZero(l, prev_end, e.offset));
    if (XXH3_64bits(l.base + e.offset, e.size) != e.checksum) {
      return SegmentCorruption(l, e.offset,
                               "checksum mismatch in section " + std::to_string(i) + " (kind " +
                                   std::to_string(e.kind) + ")");
    }
    prev_end = e.offset + e.size;
  }
  MAPFS_RETURN_IF_ERROR(CheckZero(l, prev_end, l.size));
  // Block checksums are checked one by one too: a block whose stored sum is
  // wrong would fail reads although every section checksum matches.
  return l.checked->blocks ? VerifyAllUnits(l) : Status::OK();
}

Status VerifyLayout(const SegmentLayout& l) {
  MAPFS_RETURN_IF_ERROR(VerifySections(l));
  MAPFS_RETURN_IF_ERROR(VerifyItems(l));
  if (l.kind != CollectionKind::kArray) MAPFS_RETURN_IF_ERROR(VerifyIndex(l));
  if (l.kind == CollectionKind::kMapping) MAPFS_RETURN_IF_ERROR(VerifyMappingRecords(l));
  if (l.ranges.present) MAPFS_RETURN_IF_ERROR(VerifyRanges(l));
  return Status::OK();
}

}  // namespace mapfs::internal
