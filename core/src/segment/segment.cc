// Segment: the typed reader. Adds the embedded schema and record Views to the
// schema-free layout of segment_layout.cc; every lookup stays allocation-free
// on success.
#include "mapfs/segment.h"

#include <utility>

#include "file_util.h"
#include "mapfs/key_codec.h"
#include "segment_internal.h"

namespace mapfs {

namespace sf = segment_format;

Result<Segment> Segment::Open(const std::string& path) {
  MAPFS_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
  auto owned = std::make_unique<MappedFile>(std::move(file));
  std::string_view bytes = owned->data();
  MAPFS_ASSIGN_OR_RETURN(
      internal::SegmentLayout layout,
      internal::ParseLayout(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path));
  MAPFS_ASSIGN_OR_RETURN(Segment seg, FromLayout(std::move(layout)));
  seg.file_ = std::move(owned);
  return seg;
}

Result<Segment> Segment::FromMemory(const void* data, size_t size, std::string name) {
  MAPFS_ASSIGN_OR_RETURN(
      internal::SegmentLayout layout,
      internal::ParseLayout(static_cast<const uint8_t*>(data), size, std::move(name)));
  return FromLayout(std::move(layout));
}

Result<Segment> Segment::FromLayout(internal::SegmentLayout layout) {
  // The schema is parsed whole at open, so it is proven whole first (by its
  // section checksum: a bad record sharing its block must not stop the open).
  MAPFS_RETURN_IF_ERROR(internal::CheckSection(layout, layout.schema));
  const std::string_view json(reinterpret_cast<const char*>(layout.schema.data),
                              layout.schema.size);
  Result<Schema> schema = Schema::FromCanonicalJson(json);
  if (!schema.ok()) {
    return internal::SegmentCorruption(layout, layout.schema.file_offset,
                                       "bad schema: " + schema.status().message());
  }
  Segment seg;
  seg.schema_ = std::make_unique<Schema>(std::move(schema).value());
  const auto& structs = seg.schema_->structs();
  if (static_cast<size_t>(layout.root_struct_index) >= structs.size()) {
    return internal::SegmentCorruption(layout, offsetof(sf::Header, root_struct_index),
                                       "root struct index not in the schema");
  }
  const StructDef& root = structs[layout.root_struct_index];
  if (layout.key_field_index >= 0) {
    if (static_cast<size_t>(layout.key_field_index) >= root.fields.size()) {
      return internal::SegmentCorruption(layout, offsetof(sf::Header, key_field_index),
                                         "key field index not in the root struct");
    }
    seg.key_type_ = &root.fields[layout.key_field_index].type;
  }
  if (layout.key_kind == KeyKind::kGeneric && seg.key_type_ == nullptr) {
    return internal::SegmentCorruption(layout, offsetof(sf::Header, key_field_index),
                                       "generic keys without a key field");
  }
  seg.layout_ = std::make_unique<internal::SegmentLayout>(std::move(layout));
  if (seg.layout_->incompat_features & sf::kFeatureValueReferences) {
    // A reference reads another record's bytes: they are proven first, as
    // every read of the segment's own paths is.
    auto check = [](const void* layout, uint64_t offset, uint64_t size) {
      return internal::CheckData(*static_cast<const internal::SegmentLayout*>(layout), offset,
                                 size);
    };
    seg.segment_data_ = std::make_unique<SegmentData>(
        SegmentData{seg.layout_->data.data, seg.layout_->data.size, check, seg.layout_.get()});
  }
  return seg;
}

Segment::Segment() = default;
Segment::Segment(Segment&&) noexcept = default;
Segment& Segment::operator=(Segment&&) noexcept = default;
Segment::~Segment() = default;

const std::string& Segment::name() const { return layout_->name; }
CollectionKind Segment::kind() const { return layout_->kind; }
KeyKind Segment::key_kind() const { return layout_->key_kind; }
uint64_t Segment::record_count() const { return layout_->record_count; }
uint64_t Segment::key_count() const { return layout_->key_count; }
uint64_t Segment::file_size() const { return layout_->size; }
uint16_t Segment::major_version() const { return layout_->major_version; }
uint16_t Segment::minor_version() const { return layout_->minor_version; }
uint64_t Segment::header_checksum() const { return layout_->header_checksum; }
int Segment::root_struct_index() const { return layout_->root_struct_index; }
int Segment::key_field_index() const { return layout_->key_field_index; }
std::string_view Segment::bytes() const {
  return {reinterpret_cast<const char*>(layout_->base), layout_->size};
}

SegmentInfo Segment::Info() const {
  const internal::SegmentLayout& l = *layout_;
  SegmentInfo info;
  info.major_version = l.major_version;
  info.minor_version = l.minor_version;
  info.incompat_features = l.incompat_features;
  info.compat_features = l.compat_features;
  info.file_size = l.size;
  info.header_checksum = l.header_checksum;
  info.hash_seed = l.hash_seed;
  info.index_bits = l.index_bits;
  const std::pair<std::string_view, const internal::SectionSpan*> spans[] = {
      {"schema", &l.schema},         {"data", &l.data},       {"record_offsets", &l.record_offsets},
      {"directory", &l.directory},   {"entries", &l.entries}, {"ranges", &l.ranges},
      {"postings", &l.postings},     {"block_checksums", &l.block_sums}};
  for (const auto& [name, s] : spans) {
    if (s->present) info.sections.push_back({name, s->file_offset, s->size, s->checksum});
  }
  return info;
}

const SegmentInfo::Section* SegmentInfo::section(std::string_view name) const& {
  for (const Section& s : sections) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

Result<std::string_view> Segment::RecordBytes(uint64_t i) const {
  MAPFS_ASSIGN_OR_RETURN(internal::RawItem item, internal::ReadRecordItem(*layout_, i));
  return item.record;
}

Result<View> Segment::Record(uint64_t i) const {
  MAPFS_ASSIGN_OR_RETURN(internal::RawItem item, internal::ReadRecordItem(*layout_, i));
  return ViewOf(item.record);
}

Result<View> Segment::ViewOf(std::string_view record) const {
  if (segment_data_ != nullptr) {
    return ViewSegmentRecord(*schema_, layout_->root_struct_index, segment_data_.get(), record);
  }
  return ViewRecord(*schema_, layout_->root_struct_index, record);
}

Result<std::optional<Segment::Entry>> Segment::FindRaw(std::string_view key) const {
  MAPFS_ASSIGN_OR_RETURN(std::optional<uint64_t> ordinal, internal::FindOrdinal(*layout_, key));
  if (!ordinal) return std::optional<Entry>();
  MAPFS_ASSIGN_OR_RETURN(internal::RawItem item, internal::ReadEntryItem(*layout_, *ordinal));
  return std::optional<Entry>(Entry{*ordinal, item.key, item.record});
}

Result<std::optional<Segment::Entry>> Segment::Find(std::string_view key) const {
  return FindRaw(key);
}

Result<std::optional<Segment::Entry>> Segment::Find(uint64_t key) const {
  return FindRaw(UIntKeyView(EncodeUIntKey(key)));
}

Result<std::optional<Segment::Entry>> Segment::Find(const Value& key) const {
  switch (layout_->key_kind) {
    case KeyKind::kStr:
      if (key.kind() != Value::Kind::kStr) return std::optional<Entry>();
      return FindRaw(key.text());
    case KeyKind::kUInt:
      if (key.kind() == Value::Kind::kUInt) return Find(key.as_uint());
      if (key.kind() == Value::Kind::kInt && key.as_int() >= 0) {
        return Find(static_cast<uint64_t>(key.as_int()));
      }
      return std::optional<Entry>();
    case KeyKind::kGeneric: {
      RecordPacker packer(*schema_);
      Result<std::string_view> packed = packer.PackValue(*key_type_, key);
      // Not "absent": the caller's value is not a key of this type.
      if (!packed.ok()) return packed.status().WithContext(layout_->name + ": key");
      return FindRaw(*packed);
    }
    case KeyKind::kNone:
      break;
  }
  return Status::InvalidArgument(layout_->name + ": an array has no keys");
}

Result<bool> Segment::Contains(std::string_view key) const {
  MAPFS_ASSIGN_OR_RETURN(std::optional<uint64_t> ordinal, internal::FindOrdinal(*layout_, key));
  return ordinal.has_value();
}

Result<Segment::Entry> Segment::EntryAt(uint64_t ordinal) const {
  MAPFS_ASSIGN_OR_RETURN(internal::RawItem item, internal::ReadEntryItem(*layout_, ordinal));
  return Entry{ordinal, item.key, item.record};
}

void Segment::PrefetchEntry(uint64_t ordinal) const {
  internal::PrefetchEntryItem(*layout_, ordinal);
}

Result<View> Segment::KeyView(std::string_view key) const {
  if (key_type_ == nullptr) return Status::InvalidArgument(layout_->name + ": no key field");
  return ViewValue(*schema_, *key_type_, key);
}

namespace {

// The record ids of `key` in a multimap or approximate multimap `kind`.
Result<Segment::RecordIds> RangeOf(const internal::SegmentLayout& l, std::string_view key,
                                   CollectionKind kind, std::string_view caller) {
  if (l.kind != kind) {
    return Status::InvalidArgument(l.name + ": " + std::string(caller) + " needs " +
                                   (kind == CollectionKind::kMultiMap ? "a multimap"
                                                                      : "an approximate multimap"));
  }
  MAPFS_ASSIGN_OR_RETURN(std::optional<uint64_t> ordinal, internal::FindOrdinal(l, key));
  if (!ordinal) return Segment::RecordIds();
  return internal::RangeAt(l, *ordinal);
}

}  // namespace

Result<Segment::RecordIds> Segment::FindAll(std::string_view key) const {
  return RangeOf(*layout_, key, CollectionKind::kMultiMap, "FindAll");
}

Result<Segment::RecordIds> Segment::FindAll(uint64_t key) const {
  return FindAll(UIntKeyView(EncodeUIntKey(key)));
}

Result<Segment::RecordIds> Segment::RecordsAt(uint64_t ordinal) const {
  return internal::RangeAt(*layout_, ordinal);
}

Result<uint64_t> Segment::MappingRecordAt(uint64_t ordinal) const {
  return internal::MappingRecordAt(*layout_, ordinal);
}

Result<Segment::RecordIds> Segment::Candidates(std::string_view key) const {
  return RangeOf(*layout_, key, CollectionKind::kApproxMultiMap, "Candidates");
}

// A stored str or uint key must equal the record's key field.
Status Segment::VerifyKeyField(uint64_t i, std::string_view key, std::string_view record,
                               const View& view) const {
  if (layout_->key_field_index < 0 || key.empty() ||
      (layout_->key_kind != KeyKind::kStr && layout_->key_kind != KeyKind::kUInt)) {
    return Status::OK();
  }
  MAPFS_ASSIGN_OR_RETURN(View field, view.Field(layout_->key_field_index));
  bool same = false;
  if (!field.is_null() && layout_->key_kind == KeyKind::kStr && field.kind() == TypeKind::kStr) {
    same = field.as_str() == key;
  } else if (!field.is_null() && layout_->key_kind == KeyKind::kUInt && IsIntKind(field.kind()) &&
             !field.is_negative_int()) {
    same = DecodeUIntKey(key) == field.as_uint();
  }
  if (same) return Status::OK();
  return internal::SegmentCorruption(
      *layout_, static_cast<uint64_t>(record.data() - reinterpret_cast<const char*>(layout_->base)),
      "record " + std::to_string(i) + ": key field differs from the stored key");
}

Status Segment::CheckRange(uint64_t file_offset, uint64_t size) const {
  return internal::CheckRange(*layout_, file_offset, size);
}

bool Segment::damaged() const { return file_ != nullptr && file_->damaged(); }

Status Segment::VerifyChecksums() const { return internal::VerifySections(*layout_); }

Status Segment::Verify() const {
  MAPFS_RETURN_IF_ERROR(internal::VerifyLayout(*layout_));
  // One verifier for every record: each referenced value is checked once.
  RecordVerifier verifier;
  for (uint64_t i = 0; i < layout_->record_count; ++i) {
    MAPFS_ASSIGN_OR_RETURN(internal::RawItem item, internal::ReadRecordItem(*layout_, i));
    Result<View> v = ViewOf(item.record);
    Status st = v.ok() ? verifier.Verify(*v) : v.status();
    if (!st.ok()) {
      const uint64_t at = static_cast<uint64_t>(item.record.data() -
                                                reinterpret_cast<const char*>(layout_->base));
      return internal::SegmentCorruption(*layout_, at,
                                         "record " + std::to_string(i) + ": " + st.message());
    }
    MAPFS_RETURN_IF_ERROR(VerifyKeyField(i, item.key, item.record, *v));
    if (layout_->key_kind == KeyKind::kGeneric && !item.key.empty()) {
      Result<View> kv = KeyView(item.key);
      Status kst = kv.ok() ? mapfs::Verify(*kv) : kv.status();
      if (!kst.ok()) {
        return internal::SegmentCorruption(
            *layout_, static_cast<uint64_t>(item.key.data() -
                                           reinterpret_cast<const char*>(layout_->base)),
            "key of record " + std::to_string(i) + ": " + kst.message());
      }
    }
  }
  return Status::OK();
}

}  // namespace mapfs
