// Opening a segment: the O(sections) validation of header and section table,
// and the bounds-checked reads that lookups are made of. Schema-free; the
// layout is specified in docs/format.md ("Segments").
#include <xxhash.h>

#include <atomic>
#include <cstring>

#include "binary_search.h"
#include "segment_internal.h"

namespace mapfs {

namespace sf = segment_format;

std::string_view CollectionKindName(CollectionKind k) {
  switch (k) {
    case CollectionKind::kArray: return "array";
    case CollectionKind::kMapping: return "mapping";
    case CollectionKind::kMultiMap: return "multimap";
    case CollectionKind::kApproxMultiMap: return "approximate multimap";
  }
  return "unknown";
}

std::string_view KeyKindName(KeyKind k) {
  switch (k) {
    case KeyKind::kNone: return "none";
    case KeyKind::kStr: return "str";
    case KeyKind::kUInt: return "uint";
    case KeyKind::kGeneric: return "generic";
  }
  return "unknown";
}

namespace internal {
namespace {

std::atomic<KeyHashFn> g_hash_override{nullptr};

template <typename T>
T Load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

uint64_t KeyHash(const void* data, size_t size, uint64_t seed) {
  KeyHashFn fn = g_hash_override.load(std::memory_order_relaxed);
  if (__builtin_expect(fn != nullptr, 0)) return fn(data, size, seed);
  return XXH3_64bits_withSeed(data, size, seed);
}

void SetKeyHashForTesting(KeyHashFn fn) { g_hash_override.store(fn); }

Status SegmentCorruption(const SegmentLayout& l, uint64_t file_offset, std::string_view reason) {
  return Status::Corruption(l.name + ": offset " + std::to_string(file_offset) + ": " +
                            std::string(reason));
}

namespace {

// Step 1: the fixed header — size, magic, version, checksum (over the header
// and section table), features, file size and kinds — into `*h`.
Status CheckHeader(const SegmentLayout& l, const uint8_t* data, size_t size, sf::Header* out) {
  sf::Header& h = *out;
  if (size < sizeof(sf::kMagic) || std::memcmp(data, sf::kMagic, sizeof(sf::kMagic)) != 0) {
    return Status::Corruption(l.name + ": not a mapfs segment (no magic)");
  }
  if (size < sizeof(sf::Header)) {
    return SegmentCorruption(l, size, "file shorter than the 128-byte header");
  }
  std::memcpy(&h, data, sizeof(h));
  if (h.major_version != sf::kMajorVersion) {
    return Status::NotSupported(l.name + ": format version " + std::to_string(h.major_version) +
                                "." + std::to_string(h.minor_version) + " (this reader knows " +
                                std::to_string(sf::kMajorVersion) + ".x)");
  }
  if (h.header_size != sizeof(sf::Header)) {
    return SegmentCorruption(l, offsetof(sf::Header, header_size), "bad header size");
  }
  if (h.section_count > sf::kMaxSections) {
    return SegmentCorruption(l, offsetof(sf::Header, section_count), "too many sections");
  }
  const uint64_t table_end = sizeof(sf::Header) + uint64_t{h.section_count} * 32;
  if (table_end > size) return SegmentCorruption(l, size, "section table runs past the file");
  {
    sf::Header zeroed = h;
    zeroed.header_checksum = 0;
    XXH3_state_t* st = XXH3_createState();
    XXH3_64bits_reset(st);
    XXH3_64bits_update(st, &zeroed, sizeof(zeroed));
    XXH3_64bits_update(st, data + sizeof(sf::Header), table_end - sizeof(sf::Header));
    const uint64_t sum = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    if (sum != h.header_checksum) {
      return SegmentCorruption(l, offsetof(sf::Header, header_checksum),
                               "header checksum mismatch");
    }
  }
  if (h.incompat_features & ~sf::kKnownIncompatFeatures) {
    return Status::NotSupported(l.name + ": unknown incompatible feature bits " +
                                std::to_string(h.incompat_features & ~sf::kKnownIncompatFeatures));
  }
  if (h.file_size != size) {
    return SegmentCorruption(l, offsetof(sf::Header, file_size),
                             "file size " + std::to_string(size) + " but header says " +
                                 std::to_string(h.file_size));
  }
  if (size % sf::kSectionAlign != 0) {
    return SegmentCorruption(l, size, "file size is not a multiple of 64");
  }
  if (h.collection_kind > 3 || h.key_kind > 3) {
    return SegmentCorruption(l, offsetof(sf::Header, collection_kind), "unknown collection kind");
  }
  return Status::OK();
}

// Step 2: the header's fields, as checked, into the layout.
void CopyHeader(const sf::Header& h, SegmentLayout* layout) {
  SegmentLayout& l = *layout;
  l.major_version = h.major_version;
  l.minor_version = h.minor_version;
  l.incompat_features = h.incompat_features;
  l.compat_features = h.compat_features;
  l.kind = static_cast<CollectionKind>(h.collection_kind);
  l.key_kind = static_cast<KeyKind>(h.key_kind);
  l.index_bits = h.index_bits;
  l.section_count = h.section_count;
  l.record_count = h.record_count;
  l.key_count = h.key_count;
  l.root_struct_index = h.root_struct_index;
  l.key_field_index = h.key_field_index;
  l.hash_seed = h.hash_seed;
  l.header_checksum = h.header_checksum;

}

// Step 3: the kinds and counts agree with each other.
Status CheckKindsAndCounts(const SegmentLayout& l) {
  const bool keyed = l.kind != CollectionKind::kArray;
  const uint64_t kind_at = offsetof(sf::Header, collection_kind);
  if (keyed != (l.key_kind != KeyKind::kNone) ||
      (l.kind == CollectionKind::kApproxMultiMap && l.key_kind != KeyKind::kStr)) {
    return SegmentCorruption(l, kind_at, "key kind does not fit the collection kind");
  }
  if (l.index_bits > sf::kMaxIndexBits) {
    return SegmentCorruption(l, offsetof(sf::Header, index_bits), "index bits over 32");
  }
  if (l.record_count > sf::kMaxRecords || l.key_count > l.record_count ||
      (!keyed && l.key_count != 0) ||
      (l.kind == CollectionKind::kMapping && l.key_count != l.record_count) ||
      (keyed && l.record_count > 0 && l.key_count == 0)) {
    return SegmentCorruption(l, offsetof(sf::Header, record_count), "bad record or key count");
  }
  if (l.root_struct_index < 0 || l.key_field_index < -1) {
    return SegmentCorruption(l, offsetof(sf::Header, root_struct_index), "bad struct index");
  }

  return Status::OK();
}

// Step 4: the section table — aligned, in order, no overlap, inside the file.
Status ReadSectionTable(const uint8_t* data, size_t size, uint32_t section_count,
                        SegmentLayout* layout) {
  SegmentLayout& l = *layout;
  SectionSpan* by_kind[sf::kSectionKindCount] = {
      nullptr,    &l.schema, &l.data,     &l.record_offsets, &l.directory,
      &l.entries, &l.ranges, &l.postings, &l.block_sums};
  uint64_t prev_end = sf::HeaderAreaSize(section_count);
  for (uint32_t i = 0; i < section_count; ++i) {
    const uint64_t at = sizeof(sf::Header) + uint64_t{i} * sizeof(sf::SectionEntry);
    sf::SectionEntry e;
    std::memcpy(&e, data + at, sizeof(e));
    if (e.offset % sf::kSectionAlign != 0 || e.offset < prev_end || e.offset > size ||
        e.size > size - e.offset) {
      return SegmentCorruption(l, at, "section " + std::to_string(i) +
                                          " misaligned, overlapping or past the end of file");
    }
    prev_end = e.offset + e.size;
    if (e.kind == 0 || e.kind >= sf::kSectionKindCount) continue;  // unknown: skipped
    SectionSpan* s = by_kind[e.kind];
    if (s->present) return SegmentCorruption(l, at, "duplicate section");
    *s = SectionSpan{data + e.offset, e.size, e.offset, e.checksum, true};
  }

  return Status::OK();
}

// Step 5: each section the kind needs is there with its exact size, and the
// directory spans the entries.
Status CheckRequiredSections(const SegmentLayout& l) {
  const bool keyed = l.kind != CollectionKind::kArray;
  const bool multi = l.kind == CollectionKind::kMultiMap || l.kind == CollectionKind::kApproxMultiMap;
  auto require = [&l](const SectionSpan& s, bool needed, uint64_t expected_size,
                     std::string_view what) -> Status {
    if (s.present != needed) {
      return SegmentCorruption(l, sizeof(sf::Header),
                               std::string(needed ? "missing " : "unexpected ") +
                                   std::string(what) + " section");
    }
    if (needed && expected_size != UINT64_MAX && s.size != expected_size) {
      return SegmentCorruption(l, s.file_offset,
                               std::string(what) + " section has size " + std::to_string(s.size) +
                                   ", expected " + std::to_string(expected_size));
    }
    return Status::OK();
  };
  MAPFS_RETURN_IF_ERROR(require(l.schema, true, UINT64_MAX, "schema"));
  MAPFS_RETURN_IF_ERROR(require(l.data, true, UINT64_MAX, "data"));
  MAPFS_RETURN_IF_ERROR(require(l.record_offsets, true, 8 * l.record_count, "record offset"));
  const uint64_t buckets = uint64_t{1} << l.index_bits;
  MAPFS_RETURN_IF_ERROR(require(l.directory, keyed, 4 * (buckets + 1), "directory"));
  MAPFS_RETURN_IF_ERROR(require(l.entries, keyed, 8 * l.key_count, "entries"));
  MAPFS_RETURN_IF_ERROR(require(l.ranges, multi, 8 * l.key_count, "ranges"));
  MAPFS_RETURN_IF_ERROR(require(l.postings, multi, 4 * l.record_count, "postings"));
  if (keyed && (Load<uint32_t>(l.directory.data) != 0 ||
                Load<uint32_t>(l.directory.data + 4 * buckets) != l.key_count)) {
    return SegmentCorruption(l, l.directory.file_offset, "directory does not span the entries");
  }
  return Status::OK();
}

}  // namespace

Result<SegmentLayout> ParseLayout(const uint8_t* data, size_t size, std::string name) {
  SegmentLayout l;
  l.name = std::move(name);
  l.base = data;
  l.size = size;
  sf::Header h;
  MAPFS_RETURN_IF_ERROR(CheckHeader(l, data, size, &h));
  CopyHeader(h, &l);
  MAPFS_RETURN_IF_ERROR(CheckKindsAndCounts(l));
  MAPFS_RETURN_IF_ERROR(ReadSectionTable(data, size, h.section_count, &l));
  MAPFS_RETURN_IF_ERROR(CheckRequiredSections(l));
  MAPFS_RETURN_IF_ERROR(SetUpChecks(&l));
  return l;
}

Result<RawItem> ReadItem(const SegmentLayout& l, uint64_t off) {
  const SectionSpan& d = l.data;
  if (off % sf::kItemAlign != 0 || off > d.size || d.size - off < sizeof(sf::ItemHeader)) {
    return SegmentCorruption(l, d.file_offset + off, "item offset outside the data section");
  }
  MAPFS_RETURN_IF_ERROR(CheckData(l, off, sizeof(sf::ItemHeader)));
  const sf::ItemHeader h = Load<sf::ItemHeader>(d.data + off);
  const uint64_t rec = off + sf::ItemRecordOffset(h.key_size);
  if (rec > d.size || d.size - rec < h.record_size) {
    return SegmentCorruption(l, d.file_offset + off, "item runs past the data section");
  }
  // The key and record are served (or compared) straight from the mapping.
  MAPFS_RETURN_IF_ERROR(CheckData(l, off, rec + h.record_size - off));
  const char* base = reinterpret_cast<const char*>(d.data);
  return RawItem{{base + off + sizeof(sf::ItemHeader), h.key_size}, {base + rec, h.record_size}};
}

Result<RawItem> ReadRecordItem(const SegmentLayout& l, uint64_t i) {
  if (i >= l.record_count) {
    return Status::OutOfRange(l.name + ": record " + std::to_string(i) + " of " +
                              std::to_string(l.record_count));
  }
  MAPFS_RETURN_IF_ERROR(CheckRange(l, l.record_offsets.file_offset + 8 * i, 8));
  return ReadItem(l, Load<uint64_t>(l.record_offsets.data + 8 * i));
}

Result<RawItem> ReadEntryItem(const SegmentLayout& l, uint64_t ordinal) {
  if (ordinal >= l.key_count) {
    return Status::OutOfRange(l.name + ": key " + std::to_string(ordinal) + " of " +
                              std::to_string(l.key_count));
  }
  MAPFS_RETURN_IF_ERROR(CheckRange(l, l.entries.file_offset + 8 * ordinal, 8));
  return ReadItem(l, sf::EntryItemOffset(Load<uint64_t>(l.entries.data + 8 * ordinal)));
}

void PrefetchEntryItem(const SegmentLayout& l, uint64_t ordinal) {
  if (ordinal >= l.key_count) return;
  // The entry is read unproven: its value only picks an address to warm,
  // and that address is kept inside the data section.
  const uint64_t off = sf::EntryItemOffset(Load<uint64_t>(l.entries.data + 8 * ordinal));
  if (off < l.data.size) __builtin_prefetch(l.data.data + off);
}

Result<uint64_t> MappingRecordAt(const SegmentLayout& l, uint64_t ordinal) {
  if (l.kind != CollectionKind::kMapping) return Status::InvalidArgument(l.name + ": not a mapping");
  if (ordinal >= l.key_count) {
    return Status::OutOfRange(l.name + ": key " + std::to_string(ordinal) + " of " +
                              std::to_string(l.key_count));
  }
  MAPFS_RETURN_IF_ERROR(CheckRange(l, l.entries.file_offset + 8 * ordinal, 8));
  const uint64_t item = sf::EntryItemOffset(Load<uint64_t>(l.entries.data + 8 * ordinal));
  MAPFS_ASSIGN_OR_RETURN(std::optional<uint64_t> id,
                         BinarySearch(l.record_count, [&](uint64_t i) -> Result<int> {
                           MAPFS_RETURN_IF_ERROR(
                               CheckRange(l, l.record_offsets.file_offset + 8 * i, 8));
                           const uint64_t at = Load<uint64_t>(l.record_offsets.data + 8 * i);
                           return at < item ? -1 : at > item;
                         }));
  if (id) return *id;
  return SegmentCorruption(l, l.entries.file_offset + 8 * ordinal,
                           "entry's item is not a record (record offsets out of order?)");
}

Result<std::optional<uint64_t>> FindOrdinal(const SegmentLayout& l, std::string_view key) {
  if (l.kind == CollectionKind::kArray) {
    return Status::InvalidArgument(l.name + ": an array has no keys");
  }
  const uint64_t h = KeyHash(key.data(), key.size(), l.hash_seed);
  const uint32_t k = l.index_bits;
  const uint64_t b = sf::BucketOf(h, k);
  const uint32_t fp = sf::FingerprintOf(h, k);
  MAPFS_RETURN_IF_ERROR(CheckRange(l, l.directory.file_offset + 4 * b, 8));
  const uint32_t lo = Load<uint32_t>(l.directory.data + 4 * b);
  const uint32_t hi = Load<uint32_t>(l.directory.data + 4 * b + 4);
  if (lo > hi || hi > l.key_count) {
    return SegmentCorruption(l, l.directory.file_offset + 4 * b, "directory out of order");
  }
  MAPFS_RETURN_IF_ERROR(
      CheckRange(l, l.entries.file_offset + 8 * uint64_t{lo}, 8 * uint64_t{hi - lo}));
  for (uint64_t e = lo; e < hi; ++e) {
    const uint64_t v = Load<uint64_t>(l.entries.data + 8 * e);
    const uint32_t efp = sf::EntryFingerprint(v);
    if (efp < fp) continue;
    if (efp > fp) break;  // entries are sorted by hash within a bucket
    if (l.kind == CollectionKind::kApproxMultiMap) return std::optional<uint64_t>(e);
    MAPFS_ASSIGN_OR_RETURN(RawItem item, ReadItem(l, sf::EntryItemOffset(v)));
    if (item.key == key) return std::optional<uint64_t>(e);
  }
  return std::optional<uint64_t>();
}

Result<Segment::RecordIds> RangeAt(const SegmentLayout& l, uint64_t ordinal) {
  if (!l.ranges.present) return Status::InvalidArgument(l.name + ": not a multimap");
  if (ordinal >= l.key_count) {
    return Status::OutOfRange(l.name + ": key " + std::to_string(ordinal) + " of " +
                              std::to_string(l.key_count));
  }
  MAPFS_RETURN_IF_ERROR(CheckRange(l, l.ranges.file_offset + 8 * ordinal, 8));
  const sf::Range r = Load<sf::Range>(l.ranges.data + 8 * ordinal);
  if (uint64_t{r.first} + r.count > l.record_count) {
    return SegmentCorruption(l, l.ranges.file_offset + 8 * ordinal, "range past the postings");
  }
  // RecordIds reads the ids in place: prove the whole slice now.
  MAPFS_RETURN_IF_ERROR(
      CheckRange(l, l.postings.file_offset + 4 * uint64_t{r.first}, 4 * uint64_t{r.count}));
  return Segment::RecordIds(l.postings.data + 4 * uint64_t{r.first}, r.count);
}

}  // namespace internal
}  // namespace mapfs
