// KeyCodec: a segment's keys between raw bytes, text and Values. Generic keys
// go through the JSON input (text) and the record packer (Values), so their
// text grammar is the JSON-lines grammar of the key field's type.
#include "mapfs/key_codec.h"

#include <charconv>

#include "mapfs/json_input.h"
#include "mapfs/record.h"
#include "mapfs/text_format.h"

namespace mapfs {

KeyKind KeyKindOf(const Type& t) {
  switch (t.kind) {
    case TypeKind::kStr: return KeyKind::kStr;
    case TypeKind::kUInt8:
    case TypeKind::kUInt16:
    case TypeKind::kUInt32:
    case TypeKind::kUInt64: return KeyKind::kUInt;
    default: return KeyKind::kGeneric;
  }
}

class KeyCodec::Impl {
 public:
  explicit Impl(const Segment& seg) : seg_(seg), packer_(seg.schema()) {
    if (seg.key_field_index() >= 0) {
      const StructDef& root = seg.schema().struct_def(seg.root_struct_index());
      field_ = &root.fields[seg.key_field_index()];
    }
  }

  Result<std::string> FromValue(const Value& key) {
    switch (seg_.key_kind()) {
      case KeyKind::kStr:
        if (key.kind() != Value::Kind::kStr) return Mismatch("a str");
        return key.text();
      case KeyKind::kUInt:
        if (key.kind() == Value::Kind::kUInt) return std::string(UIntKeyView(EncodeUIntKey(key.as_uint())));
        if (key.kind() == Value::Kind::kInt && key.as_int() >= 0) {
          return std::string(UIntKeyView(EncodeUIntKey(static_cast<uint64_t>(key.as_int()))));
        }
        return Mismatch("an unsigned integer");
      case KeyKind::kGeneric: {
        MAPFS_ASSIGN_OR_RETURN(const Type* type, KeyType());
        Result<std::string_view> packed = packer_.PackValue(*type, key);
        if (!packed.ok()) return packed.status().WithContext(seg_.name() + ": key");
        return std::string(*packed);
      }
      case KeyKind::kNone:
        break;
    }
    return NoKeys();
  }

  Result<std::string> FromText(std::string_view text) {
    switch (seg_.key_kind()) {
      case KeyKind::kStr:
        return std::string(text);
      case KeyKind::kUInt: {
        uint64_t v = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
          return Status::InvalidArgument("key '" + std::string(text) +
                                         "' is not an unsigned integer");
        }
        return std::string(UIntKeyView(EncodeUIntKey(v)));
      }
      case KeyKind::kGeneric: {
        MAPFS_ASSIGN_OR_RETURN(Value key, ParseGeneric(text));
        return FromValue(key);
      }
      case KeyKind::kNone:
        break;
    }
    return NoKeys();
  }

  Result<std::string> ToText(std::string_view raw) {
    switch (seg_.key_kind()) {
      case KeyKind::kStr:
        return std::string(raw);
      case KeyKind::kUInt: {
        std::optional<uint64_t> v = DecodeUIntKey(raw);
        if (!v) return BadUInt(raw);
        return std::to_string(*v);
      }
      case KeyKind::kGeneric: {
        MAPFS_ASSIGN_OR_RETURN(View v, seg_.KeyView(raw));
        MAPFS_RETURN_IF_ERROR(Verify(v));
        std::string out;
        MAPFS_RETURN_IF_ERROR(RenderJson(v, &out));
        return out;
      }
      case KeyKind::kNone:
        break;
    }
    return NoKeys();
  }

  Result<Value> ToValue(std::string_view raw) {
    switch (seg_.key_kind()) {
      case KeyKind::kStr:
        return Value::Str(std::string(raw));
      case KeyKind::kUInt: {
        std::optional<uint64_t> v = DecodeUIntKey(raw);
        if (!v) return BadUInt(raw);
        return Value::UInt(*v);
      }
      case KeyKind::kGeneric: {
        MAPFS_ASSIGN_OR_RETURN(View v, seg_.KeyView(raw));
        MAPFS_RETURN_IF_ERROR(Verify(v));
        return Materialize(v);
      }
      case KeyKind::kNone:
        break;
    }
    return NoKeys();
  }

 private:
  Result<const Type*> KeyType() const {
    if (field_ == nullptr) return Status::InvalidArgument(seg_.name() + ": no key field");
    return &field_->type;
  }

  // The key's JSON text parsed as the key field of a one-field record, so the
  // key takes exactly the JSON-lines grammar of its type; text that is not
  // JSON is tried once more as a JSON string (`mapfs get f 2024-01-02`).
  Result<Value> ParseGeneric(std::string_view text) {
    MAPFS_ASSIGN_OR_RETURN(const Type* type, KeyType());
    if (!parser_) parser_.emplace(seg_.schema(), seg_.root_struct_index());
    auto parse = [&](std::string_view json) -> Result<Value> {
      std::string line = "{";
      AppendJsonString(&line, field_->name);
      line += ":";
      line += json;
      line += "}";
      MAPFS_ASSIGN_OR_RETURN(Value rec, parser_->ParseLine(line));
      const Value* key = rec.FindField(field_->name);
      if (key == nullptr) return Status::InvalidArgument("no key");
      return *key;
    };
    Result<Value> as_json = parse(text);
    if (as_json.ok()) return as_json;
    std::string quoted;
    AppendJsonString(&quoted, text);
    Result<Value> as_string = parse(quoted);
    if (as_string.ok()) return as_string;
    return Status::InvalidArgument("key '" + std::string(text) + "': expected a JSON value of type " +
                                   seg_.schema().TypeName(*type) + " (" +
                                   as_json.status().message() + ")");
  }

  Status Mismatch(std::string_view expected) const {
    return Status::InvalidArgument(seg_.name() + ": key: expected " + std::string(expected));
  }
  Status BadUInt(std::string_view raw) const {
    return Status::Corruption(seg_.name() + ": uint key of " + std::to_string(raw.size()) +
                              " bytes, expected 8");
  }
  Status NoKeys() const { return Status::InvalidArgument(seg_.name() + ": an array has no keys"); }

  const Segment& seg_;
  const Field* field_ = nullptr;
  RecordPacker packer_;
  std::optional<JsonRecordParser> parser_;
};

KeyCodec::KeyCodec(const Segment& seg) : impl_(std::make_unique<Impl>(seg)) {}
KeyCodec::~KeyCodec() = default;
Result<std::string> KeyCodec::FromValue(const Value& key) { return impl_->FromValue(key); }
Result<std::string> KeyCodec::FromText(std::string_view text) { return impl_->FromText(text); }
Result<std::string> KeyCodec::ToText(std::string_view raw) { return impl_->ToText(raw); }
Result<Value> KeyCodec::ToValue(std::string_view raw) { return impl_->ToValue(raw); }

}  // namespace mapfs
