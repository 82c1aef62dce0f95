// SegmentBuilder: packs Values with the record packer, extracts their key
// field, and feeds the schema-free SegmentWriter.
#include "mapfs/segment_builder.h"

#include "mapfs/key_codec.h"
#include "build_internal.h"
#include "value_refs.h"

namespace mapfs {

Result<std::unique_ptr<SegmentBuilder>> SegmentBuilder::Create(const std::string& path,
                                                               const Schema& schema,
                                                               int root_struct_index,
                                                               SegmentOptions options) {
  if (root_struct_index < 0 ||
      static_cast<size_t>(root_struct_index) >= schema.structs().size()) {
    return Status::InvalidArgument(path + ": no struct " + std::to_string(root_struct_index));
  }
  const StructDef& root = schema.struct_def(root_struct_index);
  KeyKind key_kind = options.key_kind;
  if (options.key_field >= 0) {
    if (static_cast<size_t>(options.key_field) >= root.fields.size()) {
      return Status::InvalidArgument(path + ": no field " + std::to_string(options.key_field) +
                                     " in " + root.name);
    }
    key_kind = KeyKindOf(root.fields[options.key_field].type);
  }
  if (options.kind == CollectionKind::kArray) {
    if (options.key_field >= 0) {
      return Status::InvalidArgument(path + ": an array takes no key field");
    }
    key_kind = KeyKind::kNone;
  } else if (key_kind == KeyKind::kNone) {
    return Status::InvalidArgument(path + ": a keyed collection needs a key field or key kind");
  }
  if (key_kind == KeyKind::kGeneric && options.key_field < 0) {
    return Status::InvalidArgument(path + ": generic keys need a key field (their type)");
  }
  if (options.kind == CollectionKind::kApproxMultiMap && key_kind != KeyKind::kStr) {
    return Status::InvalidArgument(path + ": an approximate multimap needs a str key");
  }

  std::unique_ptr<SegmentBuilder> b(new SegmentBuilder());
  b->schema_ = &schema;
  b->root_ = root_struct_index;
  b->key_field_ = options.key_field;
  b->key_kind_ = key_kind;
  b->kind_ = options.kind;
  b->packer_ = std::make_unique<RecordPacker>(schema);
  b->key_packer_ = std::make_unique<RecordPacker>(schema);
  SegmentWriter::Params p;
  p.path = path;
  p.schema_json = schema.ToCanonicalJson();
  p.root_struct_index = root_struct_index;
  p.key_field_index = options.key_field;
  p.kind = options.kind;
  p.key_kind = key_kind;
  p.memory_budget = options.memory_budget;
  p.temp_dir = std::move(options.temp_dir);
  p.dedup = options.dedup;
  p.record_name = std::move(options.record_name);
  if (options.key_field >= 0) {
    p.key_label = "field \"" + root.fields[options.key_field].name + "\": ";
    if (key_kind == KeyKind::kGeneric) {
      // The schema outlives the builder (a documented requirement of Create).
      const Type* type = &root.fields[options.key_field].type;
      p.describe_key = [&schema, type](std::string_view key) {
        std::string json;
        auto view = ViewValue(schema, *type, key);
        if (!view.ok() || !RenderJson(*view, &json).ok()) return std::string("<unprintable>");
        return json;
      };
    }
  }
  MAPFS_ASSIGN_OR_RETURN(b->writer_, SegmentWriter::Create(std::move(p)));
  if (options.dedup_memory > 0) {
    b->values_ = std::make_unique<ValueDeduper>(schema, options.dedup_memory);
  }
  return b;
}

SegmentBuilder::~SegmentBuilder() = default;

uint64_t SegmentBuilder::record_count() const { return writer_->record_count(); }

size_t SegmentBuilder::dedup_peak_memory() const {
  return values_ ? values_->peak_memory() : 0;
}

// Every record passes here, whatever its source (Values, JSON lines, packed
// bytes): value references depend only on the standalone packed bytes.
Status SegmentBuilder::AddRecord(std::string_view key, std::string_view packed) {
  if (values_ == nullptr) return writer_->Add(key, packed);
  // A mapping's keys are unique: its key field's values never repeat.
  const int unique = kind_ == CollectionKind::kMapping ? key_field_ : -1;
  MAPFS_ASSIGN_OR_RETURN(std::string_view rewritten, values_->Rewrite(root_, packed, unique));
  MAPFS_RETURN_IF_ERROR(writer_->Add(key, rewritten));
  values_->Commit(writer_->last_item_offset());
  if (values_->wrote_references()) writer_->set_value_references();
  return Status::OK();
}

Status SegmentBuilder::Add(const Value& record) {
  MAPFS_ASSIGN_OR_RETURN(std::string_view packed, packer_->Pack(root_, record));
  if (key_kind_ == KeyKind::kNone) return AddRecord({}, packed);
  const StructDef& root = schema_->struct_def(root_);
  const std::string& field = root.fields[key_field_].name;
  const Value* key = record.FindField(field);
  if (key == nullptr || key->is_null()) {
    return Status::InvalidArgument("field \"" + field + "\": the key is missing");
  }
  switch (key_kind_) {
    case KeyKind::kStr:
      return AddRecord(key->text(), packed);
    case KeyKind::kUInt: {
      // Packing succeeded, so the value fits the unsigned field.
      const uint64_t v = key->kind() == Value::Kind::kUInt ? key->as_uint()
                                                            : static_cast<uint64_t>(key->as_int());
      return AddRecord(UIntKeyView(EncodeUIntKey(v)), packed);
    }
    default: {
      MAPFS_ASSIGN_OR_RETURN(std::string_view key_bytes,
                             key_packer_->PackValue(root.fields[key_field_].type, *key));
      return AddRecord(key_bytes, packed);
    }
  }
}

Status SegmentBuilder::AddPacked(std::string_view key, std::string_view record) {
  return AddRecord(key, record);
}

Status SegmentBuilder::Finish() { return writer_->Finish(); }

}  // namespace mapfs
