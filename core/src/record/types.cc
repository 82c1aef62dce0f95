// The type system: dtype tables, the type text parser, and schema validation
// (names, struct references, typecodes, recursion) plus struct layouts.
#include "mapfs/types.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "mapfs/text_format.h"

namespace mapfs {
namespace {

struct DTypeInfo {
  std::string_view name;
  size_t size;
  std::string_view numpy_descr;
};
constexpr DTypeInfo kDTypes[kDTypeCount] = {
    {"int8", 1, "|i1"},   {"int16", 2, "<i2"},  {"int32", 4, "<i4"},   {"int64", 8, "<i8"},
    {"uint8", 1, "|u1"},  {"uint16", 2, "<u2"}, {"uint32", 4, "<u4"},  {"uint64", 8, "<u8"},
    {"float32", 4, "<f4"}, {"float64", 8, "<f8"}, {"bool", 1, "|b1"},
};

struct ScalarName {
  std::string_view name;
  TypeKind kind;
};
constexpr ScalarName kScalarNames[] = {
    {"int8", TypeKind::kInt8},       {"int16", TypeKind::kInt16},
    {"int32", TypeKind::kInt32},     {"int64", TypeKind::kInt64},
    {"int", TypeKind::kInt64},       {"uint8", TypeKind::kUInt8},
    {"uint16", TypeKind::kUInt16},   {"uint32", TypeKind::kUInt32},
    {"uint64", TypeKind::kUInt64},   {"float32", TypeKind::kFloat32},
    {"float64", TypeKind::kFloat64}, {"float", TypeKind::kFloat64},
    {"bool", TypeKind::kBool},       {"bytes", TypeKind::kBytes},
    {"str", TypeKind::kStr},         {"date", TypeKind::kDate},
    {"datetime", TypeKind::kDateTime}, {"decimal", TypeKind::kDecimal},
    {"object", TypeKind::kObject},
};

std::string_view CanonicalScalarName(TypeKind k) {
  switch (k) {
    case TypeKind::kInt8: return "int8";
    case TypeKind::kInt16: return "int16";
    case TypeKind::kInt32: return "int32";
    case TypeKind::kInt64: return "int64";
    case TypeKind::kUInt8: return "uint8";
    case TypeKind::kUInt16: return "uint16";
    case TypeKind::kUInt32: return "uint32";
    case TypeKind::kUInt64: return "uint64";
    case TypeKind::kFloat32: return "float32";
    case TypeKind::kFloat64: return "float64";
    case TypeKind::kBool: return "bool";
    case TypeKind::kBytes: return "bytes";
    case TypeKind::kStr: return "str";
    case TypeKind::kDate: return "date";
    case TypeKind::kDateTime: return "datetime";
    case TypeKind::kDecimal: return "decimal";
    case TypeKind::kObject: return "object";
    default: return "";
  }
}

// Recursive-descent parser over the type grammar:
//   type := name | name '<' type (',' type)* '>'
class TypeParser {
 public:
  TypeParser(std::string_view text,
             const std::function<std::optional<int>(std::string_view)>& resolve)
      : text_(text), resolve_(resolve) {}

  Result<Type> ParseAll() {
    MAPFS_ASSIGN_OR_RETURN(Type t, ParseOne(0));
    SkipSpace();
    if (pos_ != text_.size()) return Error("unexpected '" + std::string(1, text_[pos_]) + "'");
    return t;
  }

 private:
  Status Error(const std::string& msg) const {
    return Status::InvalidArgument("col " + std::to_string(pos_ + 1) + ": " + msg);
  }
  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }
  std::string_view Identifier() {
    SkipSpace();
    size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) {
      ++pos_;
    }
    return text_.substr(start, pos_ - start);
  }

  Result<std::vector<Type>> Params(int depth) {
    std::vector<Type> params;
    SkipSpace();
    if (pos_ >= text_.size() || text_[pos_] != '<') return params;
    ++pos_;
    while (true) {
      MAPFS_ASSIGN_OR_RETURN(Type p, ParseOne(depth + 1));
      params.push_back(std::move(p));
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == ',') { ++pos_; continue; }
      if (pos_ < text_.size() && text_[pos_] == '>') { ++pos_; break; }
      return Error("expected ',' or '>'");
    }
    return params;
  }

  Result<Type> ParseOne(int depth) {
    if (depth > kMaxTypeDepth) return Error("type nested too deeply");
    SkipSpace();
    size_t name_pos = pos_;
    std::string_view name = Identifier();
    if (name.empty()) return Error("expected a type name");
    size_t after_name = pos_;
    auto error_at_name = [&](const std::string& msg) {
      pos_ = name_pos;
      return Error(msg);
    };
    if (name == "ndarray") {
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == '<') {
        ++pos_;
        size_t dtype_pos = pos_;
        std::string_view dname = Identifier();
        auto d = DTypeFromName(dname == "int" ? "int64" : dname == "float" ? "float64" : dname);
        if (!d) {
          pos_ = dtype_pos;
          return Error("unknown ndarray dtype '" + std::string(dname) + "'");
        }
        SkipSpace();
        if (pos_ >= text_.size() || text_[pos_] != '>') return Error("expected '>'");
        ++pos_;
        return Type::NdArray(*d);
      }
      return Type::NdArray(std::nullopt);
    }
    MAPFS_ASSIGN_OR_RETURN(std::vector<Type> params, Params(depth));
    bool has_params = pos_ != after_name && !params.empty();
    if (name == "list" || name == "frozenset") {
      if (params.size() > 1) return error_at_name(std::string(name) + " takes one type");
      Type elem = params.empty() ? Type::Object() : std::move(params[0]);
      return name == "list" ? Type::List(std::move(elem)) : Type::FrozenSet(std::move(elem));
    }
    if (name == "dict") {
      if (params.empty()) return Type::Dict(Type::Object(), Type::Object());
      if (params.size() != 2) return error_at_name("dict takes two types: dict<K, V>");
      return Type::Dict(std::move(params[0]), std::move(params[1]));
    }
    if (name == "tuple") return Type::Tuple(std::move(params));
    if (has_params) return error_at_name("type '" + std::string(name) + "' takes no parameters");
    for (const auto& s : kScalarNames) {
      if (s.name == name) return Type::Scalar(s.kind);
    }
    if (auto index = resolve_(name)) return Type::Struct(*index);
    return error_at_name("unknown type '" + std::string(name) + "'");
  }

  static constexpr int kMaxTypeDepth = 32;
  std::string_view text_;
  const std::function<std::optional<int>(std::string_view)>& resolve_;
  size_t pos_ = 0;
};

// True when a value of `t` holds a struct of `target` without an indirection
// that may be empty (list, set, dict, object): such recursion has no finite value
// except by leaving fields null, so it is almost always a schema mistake.
void DirectStructRefs(const Type& t, std::vector<int>* out) {
  if (t.kind == TypeKind::kStruct) out->push_back(t.struct_index);
  if (t.kind == TypeKind::kTuple) {
    for (const Type& p : t.params) DirectStructRefs(p, out);
  }
}


}  // namespace

namespace {

// A name over the limit, quoted only by its start (it may be kilobytes long),
// cut before a UTF-8 continuation byte so the message stays valid UTF-8.
Status NameTooLong(const char* what, std::string_view name) {
  size_t cut = 32;
  while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
  return Status::InvalidArgument(std::string(what) + " '" + std::string(name.substr(0, cut)) +
                                 "...' is " + std::to_string(name.size()) +
                                 " bytes, longer than " + std::to_string(kMaxSchemaNameBytes));
}

}  // namespace

Status CheckStructName(std::string_view name) {
  if (name.size() > kMaxSchemaNameBytes) return NameTooLong("struct name", name);
  bool ident = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') ident = false;
  }
  if (!ident) {
    return Status::InvalidArgument("bad struct name '" + std::string(name) +
                                   "' (letters, digits and '_', not starting with a digit)");
  }
  // The type parser tries built-in names first, so such a struct could never be named.
  bool builtin = name == "list" || name == "tuple" || name == "frozenset" || name == "dict" ||
                 name == "ndarray";
  for (const auto& s : kScalarNames) builtin = builtin || s.name == name;
  if (builtin) {
    return Status::InvalidArgument("struct name '" + std::string(name) + "' is a built-in type");
  }
  return Status::OK();
}

Status CheckFieldName(std::string_view name) {
  if (name.size() > kMaxSchemaNameBytes) return NameTooLong("field name", name);
  if (name.empty() || name[0] == '@' || name.find('/') != std::string_view::npos ||
      name.find('\0') != std::string_view::npos || name == "." || name == ".." ||
      !IsValidUtf8(name)) {
    return Status::InvalidArgument(
        "bad field name '" + std::string(name) +
        "' (not empty, valid UTF-8, no '/' or NUL, not '.' or '..', not starting with '@')");
  }
  return Status::OK();
}

size_t DTypeSize(DType d) { return kDTypes[static_cast<int>(d)].size; }
std::string_view DTypeName(DType d) { return kDTypes[static_cast<int>(d)].name; }
std::string_view DTypeNumpyDescr(DType d) { return kDTypes[static_cast<int>(d)].numpy_descr; }

std::optional<DType> DTypeInference::Infer() const {
  if (any_bool_ && any_number_) return std::nullopt;
  if (any_bool_) return DType::kBool;
  if (any_float_ || !any_number_) return DType::kFloat64;
  if (any_big_ && !any_negative_) return DType::kUInt64;
  return DType::kInt64;
}
std::optional<DType> DTypeFromName(std::string_view name) {
  for (int i = 0; i < kDTypeCount; ++i) {
    if (kDTypes[i].name == name) return static_cast<DType>(i);
  }
  return std::nullopt;
}

bool IsFixedWidthKind(TypeKind k) { return FixedWidth(k) != 0; }
size_t FixedWidth(TypeKind k) {
  switch (k) {
    case TypeKind::kInt8: case TypeKind::kUInt8: case TypeKind::kBool: return 1;
    case TypeKind::kInt16: case TypeKind::kUInt16: return 2;
    case TypeKind::kInt32: case TypeKind::kUInt32: case TypeKind::kFloat32:
    case TypeKind::kDate: return 4;
    case TypeKind::kInt64: case TypeKind::kUInt64: case TypeKind::kFloat64:
    case TypeKind::kDateTime: return 8;
    default: return 0;
  }
}

std::string Type::ToString(const std::vector<std::string>& struct_names) const {
  switch (kind) {
    case TypeKind::kList:
      return "list<" + params[0].ToString(struct_names) + ">";
    case TypeKind::kFrozenSet:
      return "frozenset<" + params[0].ToString(struct_names) + ">";
    case TypeKind::kDict:
      return "dict<" + params[0].ToString(struct_names) + ", " +
             params[1].ToString(struct_names) + ">";
    case TypeKind::kTuple: {
      if (params.empty()) return "tuple";
      std::string s = "tuple<";
      for (size_t i = 0; i < params.size(); ++i) {
        if (i) s += ", ";
        s += params[i].ToString(struct_names);
      }
      return s + ">";
    }
    case TypeKind::kNdArray:
      return dtype ? "ndarray<" + std::string(DTypeName(*dtype)) + ">" : "ndarray";
    case TypeKind::kStruct:
      return struct_index >= 0 && static_cast<size_t>(struct_index) < struct_names.size()
                 ? struct_names[struct_index]
                 : "?";
    default:
      return std::string(CanonicalScalarName(kind));
  }
}

Result<Type> ParseType(std::string_view text,
                       const std::function<std::optional<int>(std::string_view)>& resolve) {
  return TypeParser(text, resolve).ParseAll();
}

std::optional<int> StructDef::FindField(std::string_view field_name) const {
  auto it = field_index.find(std::string(field_name));
  if (it == field_index.end()) return std::nullopt;
  return it->second;
}

namespace {

// Step 1 of Schema::Create: struct names (present, valid, unique),
// typecodes (one printable ASCII character, unique; indexed into
// `typecode_index`, 128 entries) and field names (valid, unique; indexed).
Status CheckNames(std::vector<StructDef>& structs, int* typecode_index) {
  for (size_t i = 0; i < structs.size(); ++i) {
    StructDef& def = structs[i];
    if (def.name.empty()) return Status::InvalidArgument("struct " + std::to_string(i) + " has no name");
    MAPFS_RETURN_IF_ERROR(CheckStructName(def.name));
    for (size_t j = 0; j < i; ++j) {
      if (structs[j].name == def.name) {
        return Status::InvalidArgument("duplicate struct '" + def.name + "'");
      }
    }
    if (!def.typecode.empty()) {
      unsigned char c = def.typecode[0];
      if (def.typecode.size() != 1 || c < 0x21 || c > 0x7e) {
        return Status::InvalidArgument("struct '" + def.name + "': bad typecode '" +
                                       def.typecode + "' (one printable ASCII character)");
      }
      if (typecode_index[c] >= 0) {
        return Status::InvalidArgument("struct '" + def.name + "': typecode '" + def.typecode +
                                       "' already used by '" +
                                       structs[typecode_index[c]].name + "'");
      }
      typecode_index[c] = static_cast<int>(i);
    }
    def.field_index.clear();
    for (size_t f = 0; f < def.fields.size(); ++f) {
      const Field& field = def.fields[f];
      Status name_ok = CheckFieldName(field.name);
      if (!name_ok.ok()) return name_ok.WithContext("struct '" + def.name + "'");
      if (!def.field_index.emplace(field.name, static_cast<int>(f)).second) {
        return Status::InvalidArgument("struct '" + def.name + "': duplicate field '" +
                                       field.name + "'");
      }
    }
  }
  return Status::OK();
}

// Step 2: struct references resolve, and recursion passes through an
// indirection.
Status CheckStructRefs(const std::vector<StructDef>& structs) {
  std::vector<std::vector<int>> direct(structs.size());
  std::function<Status(const Type&, const std::string&)> check_refs =
      [&](const Type& t, const std::string& where) -> Status {
    if (t.kind == TypeKind::kStruct &&
        (t.struct_index < 0 || static_cast<size_t>(t.struct_index) >= structs.size())) {
      return Status::InvalidArgument(where + ": unknown struct");
    }
    for (const Type& p : t.params) MAPFS_RETURN_IF_ERROR(check_refs(p, where));
    return Status::OK();
  };
  for (size_t i = 0; i < structs.size(); ++i) {
    for (const Field& f : structs[i].fields) {
      MAPFS_RETURN_IF_ERROR(check_refs(f.type, "struct '" + structs[i].name + "' field '" + f.name + "'"));
      DirectStructRefs(f.type, &direct[i]);
    }
  }
  std::vector<int> state(structs.size(), 0);  // 0 new, 1 on stack, 2 done
  std::function<Status(int, std::string)> visit = [&](int s, std::string path) -> Status {
    if (state[s] == 2) return Status::OK();
    if (state[s] == 1) {
      return Status::InvalidArgument("struct '" + structs[s].name +
                                     "' contains itself without indirection: " + path);
    }
    state[s] = 1;
    for (int next : direct[s]) {
      MAPFS_RETURN_IF_ERROR(visit(next, path + " -> " + structs[next].name));
    }
    state[s] = 2;
    return Status::OK();
  };
  for (size_t i = 0; i < structs.size(); ++i) {
    MAPFS_RETURN_IF_ERROR(visit(static_cast<int>(i), structs[i].name));
  }
  return Status::OK();
}

// Step 3: a struct's layout: slot sizes and, per field, the masks of
// earlier fields by size class.
void ComputeLayout(StructDef& def) {
  StructLayout& layout = def.layout;
  size_t n = def.fields.size();
  size_t words = (n + 63) / 64;
  layout.bitmap_bytes = static_cast<uint32_t>((n + 7) / 8);
  layout.slot_size.assign(n, 4);
  layout.before_masks.assign(n, std::vector<uint64_t>(words * 4, 0));
  for (size_t f = 0; f < n; ++f) {
    size_t w = FixedWidth(def.fields[f].type.kind);
    layout.slot_size[f] = static_cast<uint8_t>(w ? w : 4);
  }
  layout.class_masks.assign(words * 4, 0);
  for (size_t g = 0; g < n; ++g) {
    int cls = layout.slot_size[g] == 1 ? 0 : layout.slot_size[g] == 2 ? 1
              : layout.slot_size[g] == 4 ? 2 : 3;
    uint64_t bit = uint64_t{1} << (g % 64);
    layout.class_masks[(g / 64) * 4 + cls] |= bit;
    for (size_t f = g + 1; f < n; ++f) layout.before_masks[f][(g / 64) * 4 + cls] |= bit;
  }
  layout.slots.assign(n <= 64 ? n : 0, StructLayout::Slot{});
  for (size_t f = 0; f < layout.slots.size(); ++f) {
    StructLayout::Slot& slot = layout.slots[f];
    for (int c = 0; c < 4; ++c) slot.before[c] = layout.before_masks[f][c];
    slot.size = layout.slot_size[f];
    slot.is_inline = IsFixedWidthKind(def.fields[f].type.kind);
  }
}

}  // namespace

Result<Schema> Schema::Create(std::vector<StructDef> structs) {
  Schema schema;
  std::fill(std::begin(schema.typecode_index_), std::end(schema.typecode_index_), -1);
  MAPFS_RETURN_IF_ERROR(CheckNames(structs, schema.typecode_index_));
  MAPFS_RETURN_IF_ERROR(CheckStructRefs(structs));
  for (StructDef& def : structs) ComputeLayout(def);
  schema.structs_ = std::move(structs);
  for (size_t i = 0; i < schema.structs_.size(); ++i) {
    schema.struct_names_.push_back(schema.structs_[i].name);
    schema.struct_types_.push_back(Type::Struct(static_cast<int>(i)));
  }
  return schema;
}

std::optional<int> Schema::FindStruct(std::string_view name) const {
  for (size_t i = 0; i < structs_.size(); ++i) {
    if (structs_[i].name == name) return static_cast<int>(i);
  }
  return std::nullopt;
}

std::optional<int> Schema::FindTypecode(char typecode) const {
  unsigned char c = static_cast<unsigned char>(typecode);
  if (c >= 128 || typecode_index_[c] < 0) return std::nullopt;
  return typecode_index_[c];
}

}  // namespace mapfs
