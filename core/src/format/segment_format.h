// The segment file layout, field by field: mirrors docs/format.md ("Segments").
//
// Every struct here is read from untrusted bytes with memcpy and written with
// memcpy; all integers are little-endian. Change this file, format.md, the
// golden test and kMajorVersion/kMinorVersion together.
#ifndef MAPFS_CORE_SEGMENT_FORMAT_H_
#define MAPFS_CORE_SEGMENT_FORMAT_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace mapfs::segment_format {

static_assert(std::endian::native == std::endian::little,
              "segment files are little-endian and read in place");

inline constexpr char kMagic[8] = {'M', 'A', 'P', 'F', 'S', 'S', 'E', 'G'};
inline constexpr uint16_t kMajorVersion = 1;
inline constexpr uint16_t kMinorVersion = 1;

// Feature bits. A reader refuses a file with an incompatible bit it does not
// know (NotSupported) and ignores unknown compatible bits. Bits are allotted
// here (docs/format.md, "Header") before a reader knows them; a bit joins
// kKnownIncompatFeatures with the code that reads it.
inline constexpr uint64_t kFeatureBlockChecksums = uint64_t{1} << 0;  // "Block checksums"
inline constexpr uint64_t kFeatureValueReferences = uint64_t{1} << 1;  // "Value references"
inline constexpr uint64_t kKnownIncompatFeatures =
    kFeatureBlockChecksums | kFeatureValueReferences;
inline constexpr uint64_t kKnownCompatFeatures = 0;

inline constexpr uint64_t kSectionAlign = 64;  // section offsets and the file size
inline constexpr uint64_t kItemAlign = 8;      // items, keys and records in the data section
inline constexpr uint32_t kMaxSections = 16;
// Directory bits are capped so that the fingerprint (the 24 hash bits after
// the bucket bits) always exists and bucket counts fit a uint32.
inline constexpr uint32_t kMaxIndexBits = 32;
inline constexpr uint32_t kFingerprintBits = 24;
inline constexpr uint32_t kItemOffsetBits = 40;  // in units of kItemAlign: 8 TiB of data
inline constexpr uint64_t kItemOffsetMask = (uint64_t{1} << kItemOffsetBits) - 1;
inline constexpr uint64_t kMaxRecords = 0xFFFFFFFFu;  // record ids are uint32 in postings
inline constexpr uint64_t kDefaultHashSeed = 0x6d617066735f6b31ULL;  // "mapfs_k1"

enum class SectionKind : uint32_t {
  kSchema = 1,         // canonical JSON of the schema
  kData = 2,           // items: [ItemHeader][key][pad][record][pad]
  kRecordOffsets = 3,  // uint64 per record: its item's offset in kData
  kDirectory = 4,      // uint32 per bucket + 1: first entry of each bucket
  kEntries = 5,        // uint64 per key: fingerprint << 40 | item offset / 8
  kRanges = 6,         // Range per key (multimaps): its slice of kPostings
  kPostings = 7,       // uint32 record ids, grouped by key, input order within a key
  kBlockChecksums = 8, // uint64 xxh3-64 per 64 KiB block of the file (kFeatureBlockChecksums)
};
inline constexpr uint32_t kSectionKindCount = 9;  // kinds are 1..8

// Block checksums (kFeatureBlockChecksums): the file bytes from the first
// section to the block checksum section, which is the last section, are cut
// at multiples of kChecksumBlockSize (file offsets); block i covers
// [max(i * 64 KiB, first section), min((i + 1) * 64 KiB, checksum section))
// and its xxh3-64 (seed 0) is the i-th uint64 of the section. The header area
// is covered by header_checksum, the checksum section by its table checksum.
inline constexpr uint32_t kChecksumBlockBits = 16;
inline constexpr uint64_t kChecksumBlockSize = uint64_t{1} << kChecksumBlockBits;
inline constexpr uint64_t ChecksumBlockCount(uint64_t covered_end) {
  return (covered_end + kChecksumBlockSize - 1) >> kChecksumBlockBits;
}

// The fixed header at offset 0; the section table follows at offset 128.
struct Header {
  char magic[8];               // 0: kMagic
  uint16_t major_version;      // 8
  uint16_t minor_version;      // 10
  uint32_t header_size;        // 12: sizeof(Header)
  uint64_t incompat_features;  // 16
  uint64_t compat_features;    // 24
  uint64_t file_size;          // 32: the whole file, a multiple of 64
  uint8_t collection_kind;     // 40: CollectionKind
  uint8_t key_kind;            // 41: KeyKind
  uint8_t index_bits;          // 42: k; the directory has 2^k buckets
  uint8_t reserved0;           // 43: zero
  uint32_t section_count;      // 44
  uint64_t record_count;       // 48
  uint64_t key_count;          // 56: index entries (unique keys)
  int32_t root_struct_index;   // 64: the records' struct in the schema
  int32_t key_field_index;     // 68: the key's field in that struct, or -1
  uint64_t hash_seed;          // 72: seed of the xxh3-64 key hash
  uint8_t reserved[40];        // 80: zero
  uint64_t header_checksum;    // 120: xxh3-64 of header (this field zero) + table
};
static_assert(sizeof(Header) == 128);
static_assert(offsetof(Header, collection_kind) == 40);
static_assert(offsetof(Header, record_count) == 48);
static_assert(offsetof(Header, hash_seed) == 72);
static_assert(offsetof(Header, header_checksum) == 120);
static_assert(std::is_trivially_copyable_v<Header>);

struct SectionEntry {
  uint32_t kind;      // SectionKind
  uint32_t flags;     // zero
  uint64_t offset;    // from the file start, a multiple of 64
  uint64_t size;      // bytes, padding excluded
  uint64_t checksum;  // xxh3-64 (seed 0) of the section's bytes
};
static_assert(sizeof(SectionEntry) == 32);
static_assert(std::is_trivially_copyable_v<SectionEntry>);

// Precedes every item in the data section.
struct ItemHeader {
  uint32_t key_size;     // 0 for arrays and approximate multimaps
  uint32_t record_size;  // the packed record's bytes
};
static_assert(sizeof(ItemHeader) == 8);

struct Range {
  uint32_t first;  // index into kPostings
  uint32_t count;  // >= 1
};
static_assert(sizeof(Range) == 8);

constexpr uint64_t AlignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

// Size of the header plus a table of `sections` entries, padded to 64: where
// the first section starts.
constexpr uint64_t HeaderAreaSize(uint32_t sections) {
  return AlignUp(sizeof(Header) + uint64_t{sections} * sizeof(SectionEntry), kSectionAlign);
}

// The item layout: the key at +8, the record at +8 + AlignUp(key_size, 8).
constexpr uint64_t ItemRecordOffset(uint32_t key_size) {
  return sizeof(ItemHeader) + AlignUp(key_size, kItemAlign);
}

// Index geometry: bucket = top k bits of the hash, fingerprint = the next 24.
inline uint32_t IndexBitsFor(uint64_t keys) {
  uint32_t k = 0;
  while (k < kMaxIndexBits && (uint64_t{4} << k) < keys) ++k;
  return k;
}
inline uint64_t BucketOf(uint64_t hash, uint32_t k) { return k == 0 ? 0 : hash >> (64 - k); }
inline uint32_t FingerprintOf(uint64_t hash, uint32_t k) {
  return static_cast<uint32_t>((hash >> (64 - kFingerprintBits - k)) & 0xFFFFFF);
}
inline uint64_t MakeEntry(uint32_t fingerprint, uint64_t item_offset) {
  return (uint64_t{fingerprint} << kItemOffsetBits) | (item_offset / kItemAlign);
}
inline uint32_t EntryFingerprint(uint64_t e) {
  return static_cast<uint32_t>(e >> kItemOffsetBits);
}
inline uint64_t EntryItemOffset(uint64_t e) { return (e & kItemOffsetMask) * kItemAlign; }

}  // namespace mapfs::segment_format

#endif  // MAPFS_CORE_SEGMENT_FORMAT_H_
