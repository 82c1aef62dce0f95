// SegmentWriter: streams items into the temp output, keeps index tuples within
// the memory budget (spilling sorted runs), and writes the header last.
// Layout: docs/format.md ("Segments").
#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "build_internal.h"

namespace mapfs {

namespace sf = segment_format;

namespace {
constexpr size_t kDedupSlots = size_t{1} << 14;
const char kZeros[sf::kSectionAlign] = {};

uint32_t SectionCountFor(CollectionKind kind) {
  switch (kind) {
    // Each count includes the block checksum section, written last.
    case CollectionKind::kArray: return 4;    // schema, data, record offsets
    case CollectionKind::kMapping: return 6;  // + directory, entries
    default: return 8;                        // + ranges, postings
  }
}
}  // namespace

Result<std::unique_ptr<SegmentWriter>> SegmentWriter::Create(Params params) {
  const bool keyed = params.kind != CollectionKind::kArray;
  if (keyed != (params.key_kind != KeyKind::kNone)) {
    return Status::InvalidArgument(params.path + ": " +
                                   (keyed ? "a keyed collection needs a key kind"
                                          : "an array takes no key"));
  }
  if (params.kind == CollectionKind::kApproxMultiMap && params.key_kind != KeyKind::kStr) {
    return Status::InvalidArgument(params.path + ": --approx needs a str key");
  }
  std::unique_ptr<SegmentWriter> w(new SegmentWriter());
  MAPFS_ASSIGN_OR_RETURN(AtomicFileWriter out, AtomicFileWriter::Create(params.path));
  w->out_.emplace(std::move(out));
  std::string dir = params.temp_dir;
  if (dir.empty()) {
    size_t slash = params.path.rfind('/');
    dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : params.path.substr(0, slash));
  }
  params.temp_dir = dir;
  MAPFS_ASSIGN_OR_RETURN(w->offsets_, internal::SpillFile::Create(dir));
  if (keyed) {
    MAPFS_ASSIGN_OR_RETURN(w->runs_, internal::SpillFile::Create(dir));
  }
  w->max_tuples_ = std::max<size_t>(1024, params.memory_budget / sizeof(IndexTuple));
  // Reserved once (untouched pages cost no memory): growing by doubling would
  // briefly hold 1.5x the budget and could overshoot it.
  if (keyed) w->tuples_.reserve(w->max_tuples_);
  if (params.dedup) w->dedup_.resize(kDedupSlots);
  w->p_ = std::move(params);

  // Schema first, right after the header area; the data section follows.
  const uint64_t schema_at = sf::HeaderAreaSize(SectionCountFor(w->p_.kind));
  internal::SectionStream schema(&*w->out_, schema_at);
  MAPFS_RETURN_IF_ERROR(schema.Append(w->p_.schema_json.data(), w->p_.schema_json.size()));
  MAPFS_RETURN_IF_ERROR(schema.Flush());
  w->AddSection(sf::SectionKind::kSchema, schema);
  w->data_ = std::make_unique<internal::SectionStream>(
      &*w->out_, sf::AlignUp(schema_at + schema.size(), sf::kSectionAlign));
  return w;
}

SegmentWriter::~SegmentWriter() = default;

void SegmentWriter::AddSection(sf::SectionKind kind, const internal::SectionStream& s) {
  sf::SectionEntry e{};
  e.kind = static_cast<uint32_t>(kind);
  e.offset = s.begin();
  e.size = s.size();
  e.checksum = s.Checksum();
  sections_.push_back(e);
}

Status SegmentWriter::WriteItem(std::string_view key, std::string_view record,
                                uint64_t* item_offset) {
  const sf::ItemHeader h{static_cast<uint32_t>(key.size()),
                         static_cast<uint32_t>(record.size())};
  scratch_.clear();
  scratch_.append(reinterpret_cast<const char*>(&h), sizeof(h));
  scratch_.append(key);
  scratch_.append(sf::AlignUp(key.size(), sf::kItemAlign) - key.size(), '\0');
  scratch_.append(record);
  scratch_.append(sf::AlignUp(record.size(), sf::kItemAlign) - record.size(), '\0');

  DedupSlot* slot = nullptr;
  uint64_t content_hash = 0;
  if (!dedup_.empty()) {
    content_hash = XXH3_64bits(scratch_.data(), scratch_.size());
    slot = &dedup_[content_hash & (kDedupSlots - 1)];
    if (slot->size == scratch_.size() && slot->hash == (content_hash >> 32)) {
      // Same hash and size: compare the bytes before sharing the item.
      std::string old(scratch_.size(), '\0');
      MAPFS_RETURN_IF_ERROR(data_->ReadBack(slot->item_offset, old.data(), old.size()));
      if (old == scratch_) {
        *item_offset = slot->item_offset;
        return Status::OK();
      }
    }
  }
  *item_offset = data_->size();
  if ((*item_offset >> 3) > sf::kItemOffsetMask) {
    return Status::NotSupported(p_.path + ": data section exceeds 8 TiB");
  }
  MAPFS_RETURN_IF_ERROR(data_->Append(scratch_.data(), scratch_.size()));
  if (slot != nullptr && scratch_.size() <= UINT32_MAX) {
    *slot = DedupSlot{static_cast<uint32_t>(content_hash >> 32),
                      static_cast<uint32_t>(scratch_.size()), *item_offset};
  }
  return Status::OK();
}

Status SegmentWriter::Add(std::string_view key, std::string_view record) {
  if (finished_) return Status::InvalidArgument(p_.path + ": Add after Finish");
  if (record_count_ >= sf::kMaxRecords) {
    return Status::NotSupported(p_.path + ": more than 2^32-1 records");
  }
  if (key.size() > UINT32_MAX || record.size() > UINT32_MAX) {
    return Status::InvalidArgument(p_.path + ": key or record over 4 GiB");
  }
  if (!keyed() && !key.empty()) {
    return Status::InvalidArgument(p_.path + ": an array takes no key");
  }
  if (p_.key_kind == KeyKind::kUInt && key.size() != 8) {
    return Status::InvalidArgument(p_.path + ": uint keys are 8 bytes");
  }
  const bool store_key = p_.kind != CollectionKind::kApproxMultiMap;
  uint64_t item_offset = 0;
  MAPFS_RETURN_IF_ERROR(WriteItem(store_key ? key : std::string_view(), record, &item_offset));
  last_item_offset_ = item_offset;
  MAPFS_RETURN_IF_ERROR(offsets_->Append(&item_offset, sizeof(item_offset)));
  if (keyed()) {
    tuples_.push_back(IndexTuple{internal::KeyHash(key.data(), key.size(), sf::kDefaultHashSeed),
                                 item_offset, static_cast<uint32_t>(record_count_),
                                 static_cast<uint32_t>(store_key ? key.size() : 0)});
    if (tuples_.size() >= max_tuples_) MAPFS_RETURN_IF_ERROR(SpillRun());
  }
  ++record_count_;
  return Status::OK();
}

// Zero padding up to `pos` (holes would read as zero too, but the file must
// really be that long).
Status SegmentWriter::PadTo(uint64_t pos) {
  while (out_->size() < pos) {
    const uint64_t n = std::min<uint64_t>(pos - out_->size(), sizeof(kZeros));
    MAPFS_RETURN_IF_ERROR(
        out_->WriteAt(out_->size(), std::string_view(kZeros, static_cast<size_t>(n))));
  }
  return Status::OK();
}

// The block checksum section (docs/format.md, "Block checksums"): reads the
// file written so far back in 64 KiB blocks (from the page cache, as it was
// just written) and appends their xxh3-64s as the last section at `*pos`.
Status SegmentWriter::WriteBlockChecksums(uint64_t* pos) {
  const uint64_t begin = sf::HeaderAreaSize(SectionCountFor(p_.kind));
  const uint64_t end = *pos;
  internal::SectionStream sums(&*out_, end);
  std::string block(sf::kChecksumBlockSize, '\0');
  for (uint64_t b = 0; b < sf::ChecksumBlockCount(end); ++b) {
    const uint64_t lo = std::max(b << sf::kChecksumBlockBits, begin);
    const uint64_t hi = std::min((b + 1) << sf::kChecksumBlockBits, end);
    MAPFS_RETURN_IF_ERROR(
        internal::PreadFully(out_->fd(), lo, block.data(), hi - lo, out_->temp_path()));
    const uint64_t sum = XXH3_64bits(block.data(), hi - lo);
    MAPFS_RETURN_IF_ERROR(sums.Append(&sum, sizeof(sum)));
  }
  MAPFS_RETURN_IF_ERROR(sums.Flush());
  AddSection(sf::SectionKind::kBlockChecksums, sums);
  *pos = sf::AlignUp(sums.begin() + sums.size(), sf::kSectionAlign);
  return Status::OK();
}

Status SegmentWriter::Finish() {
  if (finished_) return Status::InvalidArgument(p_.path + ": Finish called twice");
  finished_ = true;
  MAPFS_RETURN_IF_ERROR(data_->Flush());
  AddSection(sf::SectionKind::kData, *data_);

  internal::SectionStream offsets(&*out_,
                                  sf::AlignUp(data_->begin() + data_->size(), sf::kSectionAlign));
  MAPFS_RETURN_IF_ERROR(offsets_->Flush());
  MAPFS_RETURN_IF_ERROR(offsets.AppendSpill(*offsets_));
  MAPFS_RETURN_IF_ERROR(offsets.Flush());
  AddSection(sf::SectionKind::kRecordOffsets, offsets);
  offsets_.reset();
  uint64_t pos = sf::AlignUp(offsets.begin() + offsets.size(), sf::kSectionAlign);
  if (keyed()) MAPFS_RETURN_IF_ERROR(BuildIndex(&pos));

  MAPFS_RETURN_IF_ERROR(PadTo(pos));
  MAPFS_RETURN_IF_ERROR(WriteBlockChecksums(&pos));
  MAPFS_RETURN_IF_ERROR(PadTo(pos));

  sf::Header h{};
  std::memcpy(h.magic, sf::kMagic, sizeof(h.magic));
  h.major_version = sf::kMajorVersion;
  h.minor_version = sf::kMinorVersion;
  h.header_size = sizeof(sf::Header);
  h.incompat_features =
      sf::kFeatureBlockChecksums | (value_references_ ? sf::kFeatureValueReferences : 0);
  h.file_size = pos;
  h.collection_kind = static_cast<uint8_t>(p_.kind);
  h.key_kind = static_cast<uint8_t>(p_.key_kind);
  h.index_bits = static_cast<uint8_t>(index_bits_);
  h.section_count = static_cast<uint32_t>(sections_.size());
  h.record_count = record_count_;
  h.key_count = key_count_;
  h.root_struct_index = p_.root_struct_index;
  h.key_field_index = p_.key_field_index;
  h.hash_seed = keyed() ? sf::kDefaultHashSeed : 0;
  std::string head(reinterpret_cast<const char*>(&h), sizeof(h));
  head.append(reinterpret_cast<const char*>(sections_.data()),
              sections_.size() * sizeof(sf::SectionEntry));
  h.header_checksum = XXH3_64bits(head.data(), head.size());
  std::memcpy(head.data(), &h, sizeof(h));
  MAPFS_RETURN_IF_ERROR(out_->WriteAt(0, head));
  return out_->Commit();
}

}  // namespace mapfs
