// The names of a keyed collection's index entries (docs/layout.md, "Names"):
// a key's file name, and back from a name to its entry. Every key has exactly
// one name, the one listings show.
#include <cstring>

#include "mapfs/key_codec.h"
#include "mapfs/text_format.h"
#include "name_escape.h"
#include "tree.h"
#include "tree_internal.h"

namespace mapfs::fs {

namespace {

// Parses the text of a generic key back into a Value of the key's type, for
// the scalar types whose names are their text. nullopt for other types
// (their names are always indexed names) and for text that does not parse.
std::optional<Value> ParseKeyText(const Type& type, const std::string& text) {
  const TypeKind k = type.kind;
  if (IsIntKind(k)) {
    errno = 0;
    char* end = nullptr;
    if (IsSignedIntKind(k)) {
      long long v = std::strtoll(text.c_str(), &end, 10);
      if (errno || end != text.c_str() + text.size() || text.empty()) return std::nullopt;
      return Value::Int(v);
    }
    std::optional<uint64_t> u = ParseDecimal(text);
    if (!u) return std::nullopt;
    return Value::UInt(*u);
  }
  switch (k) {
    case TypeKind::kFloat32:
    case TypeKind::kFloat64: {
      char* end = nullptr;
      double d = std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size()) return std::nullopt;
      return Value::Float(d);
    }
    case TypeKind::kBool:
      if (text == "true" || text == "false") return Value::Bool(text == "true");
      return std::nullopt;
    case TypeKind::kStr: return Value::Str(text);
    case TypeKind::kBytes: return Value::Bytes(text);
    case TypeKind::kDate: {
      Result<Date> d = Date::Parse(text);
      if (!d.ok()) return std::nullopt;
      return Value::FromDate(*d);
    }
    case TypeKind::kDateTime: {
      Result<DateTime> d = DateTime::Parse(text);
      if (!d.ok()) return std::nullopt;
      return Value::FromDateTime(*d);
    }
    case TypeKind::kDecimal: {
      Result<Decimal> d = Decimal::Parse(text);
      if (!d.ok()) return std::nullopt;
      return Value::FromDecimal(*d);
    }
    default:
      return std::nullopt;
  }
}

const Type* KeyFieldType(const Segment& seg) {
  if (seg.key_field_index() < 0) return nullptr;
  return &seg.schema().struct_def(seg.root_struct_index()).fields[seg.key_field_index()].type;
}

}  // namespace

std::optional<std::string> RawKeyOfName(const Segment& seg, std::string_view name) {
  std::optional<std::string> key = UnescapeName(name);
  if (!key) return std::nullopt;
  if (seg.kind() == CollectionKind::kApproxMultiMap) return key;
  // The key's text as `mapfs get` reads it (mapfs/key_codec.h); a generic
  // key's name may also be its plain text (a bytes key's bytes, say).
  KeyCodec codec(seg);
  Result<std::string> raw = codec.FromText(*key);
  if (!raw.ok() && seg.key_kind() == KeyKind::kGeneric) {
    const Type* type = KeyFieldType(seg);
    std::optional<Value> v = type ? ParseKeyText(*type, *key) : std::nullopt;
    if (v) raw = codec.FromValue(*v);
  }
  if (!raw.ok()) return std::nullopt;
  return std::move(raw).value();
}

Result<std::string> Tree::EntryName(const Source& src, uint64_t ordinal,
                                    std::string_view key) const {
  const Segment& seg = *src.seg;
  std::string text;
  switch (seg.key_kind()) {
    case KeyKind::kStr:
      return KeyName(key, ordinal);
    case KeyKind::kUInt: {
      std::optional<uint64_t> v = DecodeUIntKey(key);
      if (!v) return Corrupt(src, Status::Corruption("uint key of bad size"));
      return std::to_string(*v);
    }
    case KeyKind::kGeneric: {
      Result<View> kv = seg.KeyView(key);
      Status st = kv.ok() ? Verify(*kv) : kv.status();
      if (st.ok()) st = AppendKeyText(*kv, &text);
      if (!st.ok()) return Corrupt(src, st);
      const Type* type = KeyFieldType(seg);
      if (type != nullptr && ParseKeyText(*type, text)) return KeyName(text, ordinal);
      // Keys whose text does not parse back are found through their ordinal.
      return IndexedName(EscapeName(text), ordinal, text);
    }
    case KeyKind::kNone:
      break;
  }
  return Status::NotFound("no keys");
}

Result<std::optional<Segment::Entry>> Tree::FindEntry(const Source& src,
                                                      std::string_view name) const {
  const Segment& seg = *src.seg;
  using Found = std::optional<Segment::Entry>;
  Found entry;
  std::optional<uint64_t> ordinal = ParseIndexedName(name);
  if (!ordinal) {
    std::optional<std::string> raw = RawKeyOfName(seg, name);
    if (!raw) return Found();
    Result<std::optional<Segment::Entry>> e = seg.Find(std::string_view(*raw));
    if (!e.ok()) return Corrupt(src, e.status());
    if (!*e) return Found();
    entry = **e;
  } else {
    if (*ordinal >= seg.key_count()) return Found();
    Result<Segment::Entry> e = seg.EntryAt(*ordinal);
    if (!e.ok()) return Corrupt(src, e.status());
    entry = *e;
  }
  // One name per key: the name must be exactly the one listings show.
  MAPFS_ASSIGN_OR_RETURN(std::string canonical, EntryName(src, entry->ordinal, entry->key));
  if (canonical != name) return Found();
  return entry;
}

Result<std::optional<uint64_t>> Tree::FindApproxKey(const Source& src,
                                                  std::string_view name) const {
  const Segment& seg = *src.seg;
  std::optional<std::string> key = UnescapeName(name);
  if (!key || seg.key_kind() != KeyKind::kStr) return std::optional<uint64_t>();
  // A name whose hash only collides with other keys names no key: the
  // lookup filters the candidates as `mapfs get` does.
  Result<std::vector<uint64_t>> ids = FindRecords(seg, *key);
  if (!ids.ok()) return Corrupt(src, ids.status());
  if (ids->empty()) return std::optional<uint64_t>();
  return std::optional<uint64_t>(ids->front());
}

Result<std::optional<std::string_view>> Tree::ResolveApproxKey(Node* n) const {
  const Source& src = *n->src;
  const Segment& seg = *src.seg;
  const uint32_t first = n->id.id;
  if (seg.kind() != CollectionKind::kApproxMultiMap || seg.key_kind() != KeyKind::kStr ||
      seg.key_field_index() < 0 || first >= seg.record_count()) {
    return Status::NotFound("no such key");
  }
  // The file stores no keys: the directory's key is its first record's key
  // field, and it holds that key's records only, not the rest of their hash
  // group.
  Result<View> rec = seg.Record(first);
  Result<View> field = rec.ok() ? rec->Field(seg.key_field_index()) : rec.status();
  if (!field.ok()) return Corrupt(src, field.status());
  if (field->is_null() || field->type().kind != TypeKind::kStr) {
    return Status::NotFound("no such key");
  }
  Result<std::vector<uint64_t>> ids = FindRecords(seg, field->as_str());
  if (!ids.ok()) return Corrupt(src, ids.status());
  // One inode per key: only the key's first record names its directory.
  if (ids->empty() || ids->front() != first) return Status::NotFound("no such key");
  auto own = std::make_shared<std::vector<uint32_t>>(ids->begin(), ids->end());
  n->ids = Segment::RecordIds(reinterpret_cast<const uint8_t*>(own->data()),
                              static_cast<uint32_t>(own->size()));
  n->own_ids = std::move(own);
  return ResolveKeyDir(n);
}

}  // namespace mapfs::fs
