// The schema's text forms: the canonical JSON embedded in segment files (and
// its strict reader, which treats the bytes as untrusted) and the YAML of
// design §2 that a mount shows as @schema. docs/schema.md specifies both.
#include <cctype>
#include <cstdio>
#include <exception>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mapfs/types.h"

namespace mapfs {
namespace {

using Json = nlohmann::json;

constexpr int kSchemaJsonVersion = 1;
// The canonical form nests 5 deep (object, structs, struct, fields, pair);
// anything deeper is rejected before nlohmann sees it, so hostile input cannot
// drive its recursion (parse, destruction) arbitrarily deep.
constexpr int kMaxJsonDepth = 8;

// JSON string escaping that is part of the canonical form: only '"', '\\' and
// control characters are escaped, the short forms where JSON has them;
// everything else (including UTF-8) is copied as is.
void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          *out += buf;
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

Status Bad(const std::string& msg) { return Status::Corruption("schema JSON: " + msg); }

// Rejects nesting deeper than kMaxJsonDepth with a linear scan that
// understands strings, so brackets inside names do not count.
Status CheckDepth(std::string_view json) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) {
        return Bad("byte " + std::to_string(i) + ": nested deeper than " +
                   std::to_string(kMaxJsonDepth));
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return Status::OK();
}

// Checks that `obj` has only keys from `allowed`.
Status CheckKeys(const Json& obj, std::initializer_list<std::string_view> allowed,
                 const std::string& where) {
  for (const auto& [key, value] : obj.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (!known) return Bad(where + ": unknown key '" + key + "'");
  }
  return Status::OK();
}

// Pass 1 of the reader: names, typecodes and the raw field texts.
struct RawStruct {
  std::string name;
  std::string typecode;
  std::vector<std::pair<std::string, std::string>> fields;  // name, type text
};

Result<std::vector<RawStruct>> ReadStructs(const Json& root) {
  if (!root.is_object()) return Bad("top level is not an object");
  MAPFS_RETURN_IF_ERROR(CheckKeys(root, {"mapfs_schema", "structs"}, "top level"));
  auto version = root.find("mapfs_schema");
  if (version == root.end() || !version->is_number_integer()) {
    return Bad("missing integer 'mapfs_schema'");
  }
  if (*version != kSchemaJsonVersion) {
    return Status::NotSupported("schema JSON: version " + version->dump() +
                                " (this build reads version " +
                                std::to_string(kSchemaJsonVersion) + ")");
  }
  auto structs = root.find("structs");
  if (structs == root.end() || !structs->is_array()) return Bad("missing array 'structs'");
  std::vector<RawStruct> out;
  for (size_t i = 0; i < structs->size(); ++i) {
    const Json& s = (*structs)[i];
    std::string where = "struct " + std::to_string(i);
    if (!s.is_object()) return Bad(where + ": not an object");
    RawStruct raw;
    auto name = s.find("name");
    if (name == s.end() || !name->is_string()) return Bad(where + ": missing string 'name'");
    raw.name = name->get<std::string>();
    where = "struct '" + raw.name + "'";
    MAPFS_RETURN_IF_ERROR(CheckKeys(s, {"name", "typecode", "fields"}, where));
    auto typecode = s.find("typecode");
    if (typecode != s.end()) {
      if (!typecode->is_string()) return Bad(where + ": 'typecode' is not a string");
      raw.typecode = typecode->get<std::string>();
      // The canonical form omits an empty typecode rather than writing "".
      if (raw.typecode.empty()) return Bad(where + ": empty 'typecode'");
    }
    auto fields = s.find("fields");
    if (fields == s.end() || !fields->is_array()) return Bad(where + ": missing array 'fields'");
    for (size_t f = 0; f < fields->size(); ++f) {
      const Json& pair = (*fields)[f];
      if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) {
        return Bad(where + ": field " + std::to_string(f) + " is not a [name, type] pair");
      }
      raw.fields.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
    }
    out.push_back(std::move(raw));
  }
  return out;
}

// Block-style YAML needs quotes around anything that is not a plain
// identifier, and around identifiers YAML readers take as null or booleans.
bool NeedsYamlQuotes(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return true;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return true;
  }
  std::string lower;
  for (char c : s) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  // YAML 1.1 also lists y and n, but common readers (PyYAML, yaml-cpp) keep
  // them strings, and quoting Point's `y` would be noise.
  for (std::string_view word : {"null", "true", "false", "yes", "no", "on", "off"}) {
    if (lower == word) return true;
  }
  return false;
}

// A YAML double-quoted scalar: '"' and '\\' escaped, control characters as
// \xXX, UTF-8 copied except the characters YAML reads as line breaks (NEL,
// LS, PS), which would fold into a space. Those become \u escapes, not the
// short \N \L \P: yaml-cpp 0.7 decodes \N to a lone, invalid byte.
void AppendYamlScalar(std::string_view s, std::string* out) {
  if (!NeedsYamlQuotes(s)) {
    *out += s;
    return;
  }
  out->push_back('"');
  for (size_t i = 0; i < s.size(); ++i) {
    char ch = s[i];
    unsigned char c = static_cast<unsigned char>(ch);
    std::string_view rest = s.substr(i);
    if (rest.starts_with("\xc2\x85")) {
      *out += "\\u0085";
      ++i;
    } else if (rest.starts_with("\xe2\x80\xa8") || rest.starts_with("\xe2\x80\xa9")) {
      *out += rest[2] == '\xa8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(ch);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      *out += buf;
    } else {
      out->push_back(ch);
    }
  }
  out->push_back('"');
}

}  // namespace

std::string Schema::ToCanonicalJson() const {
  std::string out = "{\"mapfs_schema\":" + std::to_string(kSchemaJsonVersion) + ",\"structs\":[";
  for (size_t i = 0; i < structs_.size(); ++i) {
    const StructDef& def = structs_[i];
    if (i) out += ',';
    out += "{\"name\":";
    AppendJsonString(def.name, &out);
    if (!def.typecode.empty()) {
      out += ",\"typecode\":";
      AppendJsonString(def.typecode, &out);
    }
    out += ",\"fields\":[";
    for (size_t f = 0; f < def.fields.size(); ++f) {
      if (f) out += ',';
      out += '[';
      AppendJsonString(def.fields[f].name, &out);
      out += ',';
      AppendJsonString(TypeName(def.fields[f].type), &out);
      out += ']';
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

Result<Schema> Schema::FromCanonicalJson(std::string_view json) {
  MAPFS_RETURN_IF_ERROR(CheckDepth(json));
  Json root;
  try {
    root = Json::parse(json.begin(), json.end());
  } catch (const Json::parse_error& e) {
    return Bad("byte " + std::to_string(e.byte) + ": not valid JSON");
  } catch (const std::exception& e) {
    return Bad(std::string("not valid JSON: ") + e.what());
  }
  std::vector<RawStruct> raw;
  try {
    MAPFS_ASSIGN_OR_RETURN(raw, ReadStructs(root));
  } catch (const std::exception& e) {
    // ReadStructs checks every type before get<>(); this is a last line of defence.
    return Bad(e.what());
  }
  // Pass 2: resolve type texts now that every struct name is known, so fields
  // may refer to structs defined later.
  std::vector<std::string> names;
  for (const RawStruct& r : raw) names.push_back(r.name);
  auto resolve = [&names](std::string_view name) -> std::optional<int> {
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == name) return static_cast<int>(i);
    }
    return std::nullopt;
  };
  std::vector<StructDef> defs;
  defs.reserve(raw.size());
  for (RawStruct& r : raw) {
    StructDef def;
    def.name = std::move(r.name);
    def.typecode = std::move(r.typecode);
    for (auto& [name, text] : r.fields) {
      Result<Type> type = ParseType(text, resolve);
      if (!type.ok()) {
        return Bad("struct '" + def.name + "' field '" + name + "': type '" + text +
                   "': " + type.status().message());
      }
      def.fields.push_back(Field{std::move(name), std::move(type).value()});
    }
    defs.push_back(std::move(def));
  }
  Result<Schema> schema = Create(std::move(defs));
  if (!schema.ok()) return Bad(schema.status().message());
  // Only one byte string denotes a schema; accepting variants (whitespace, key
  // order, type aliases) would let equal schemas differ in a file's bytes.
  if (schema->ToCanonicalJson() != json) return Bad("not in canonical form");
  return schema;
}

std::string Schema::ToYaml() const {
  std::string out = "structs:\n";
  for (const StructDef& def : structs_) {
    out += "  ";
    AppendYamlScalar(def.name, &out);
    out += ":\n";
    if (!def.typecode.empty()) {
      out += "    typecode: ";
      AppendYamlScalar(def.typecode, &out);
      out += '\n';
    }
    if (def.fields.empty()) {
      out += "    fields: {}\n";
      continue;
    }
    out += "    fields:\n";
    for (const Field& field : def.fields) {
      out += "      ";
      AppendYamlScalar(field.name, &out);
      out += ": ";
      // Type text is identifiers, '<', '>', ',' and spaces: a plain scalar in
      // block context.
      out += TypeName(field.type);
      out += '\n';
    }
  }
  return out;
}

}  // namespace mapfs
