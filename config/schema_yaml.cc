// The schema YAML loader: walks the yaml-cpp node tree, checks everything
// itself so each problem is reported at its node as FILE:LINE:COL (yaml-cpp
// silently keeps duplicate keys, and Schema::Create knows no positions), then
// builds the Schema. The grammar and messages are in docs/schema.md.
#include "mapfs/schema_yaml.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "file_util.h"
#include "yaml_util.h"

namespace mapfs {
namespace {

// What the loader keeps per field and struct: the nodes, for positions.
struct FieldEntry {
  std::string name;
  YAML::Node key;
  YAML::Node value;
};

struct StructEntry {
  std::string name;
  YAML::Node key;
  std::optional<YAML::Node> typecode;  // the value node
  std::vector<FieldEntry> fields;
};

class Loader {
 public:
  Loader(std::string_view text, std::string_view filename) : text_(text), filename_(filename) {}

  Result<Schema> Load();

 private:
  Status ErrorAt(const YAML::Mark& mark, const std::string& msg, int extra_cols = 0) const {
    return yaml_util::ErrorAt(filename_, mark, msg, extra_cols);
  }
  Status ErrorAt(const YAML::Node& node, const std::string& msg) const {
    return ErrorAt(node.Mark(), msg);
  }
  // The name a mapping key holds; an error for null, sequence or mapping keys.
  Result<std::string> KeyName(const YAML::Node& key, std::string_view what) const {
    if (!key.IsScalar()) return ErrorAt(key, "expected " + std::string(what));
    return key.Scalar();
  }

  Result<YAML::Node> ParseDocument() const;
  Status ReadStructs(const YAML::Node& structs);
  Status ReadStruct(StructEntry* entry, const YAML::Node& def);
  Status ReadFields(StructEntry* entry, const YAML::Node& fields);
  Result<std::vector<StructDef>> ResolveTypes() const;
  Status CheckRecursion(const std::vector<StructDef>& defs) const;

  std::string_view text_;
  std::string_view filename_;
  std::optional<YAML::Node> structs_key_;
  std::vector<StructEntry> structs_;
};

Result<YAML::Node> Loader::ParseDocument() const {
  return yaml_util::ParseSingleDocument(text_, filename_,
                                        "empty schema (expected a mapping with 'structs')");
}

Result<Schema> Loader::Load() {
  MAPFS_ASSIGN_OR_RETURN(YAML::Node root, ParseDocument());
  MAPFS_ASSIGN_OR_RETURN(yaml_util::TopKey top, yaml_util::ReadTopKey(filename_, root, "structs"));
  structs_key_ = top.key;
  const YAML::Node& structs = top.value;
  MAPFS_RETURN_IF_ERROR(ReadStructs(structs));
  MAPFS_ASSIGN_OR_RETURN(std::vector<StructDef> defs, ResolveTypes());
  MAPFS_RETURN_IF_ERROR(CheckRecursion(defs));
  Result<Schema> schema = Schema::Create(std::move(defs));
  // Everything Create checks was checked above with a position; should the two
  // ever disagree, the message still names the file.
  if (!schema.ok()) return ErrorAt(*structs_key_, schema.status().message());
  return schema;
}

Status Loader::ReadStructs(const YAML::Node& structs) {
  if (structs.IsNull()) return ErrorAt(*structs_key_, "'structs' is empty");
  if (!structs.IsMap()) {
    return ErrorAt(structs, "'structs' must be a mapping of struct names to definitions");
  }
  if (structs.size() == 0) return ErrorAt(structs, "'structs' defines no struct");
  std::map<std::string, YAML::Node> typecodes;
  for (auto it = structs.begin(); it != structs.end(); ++it) {
    MAPFS_ASSIGN_OR_RETURN(std::string name, KeyName(it->first, "a struct name"));
    Status name_ok = CheckStructName(name);
    if (!name_ok.ok()) return ErrorAt(it->first, name_ok.message());
    for (const StructEntry& other : structs_) {
      if (other.name == name) {
        return ErrorAt(it->first, "duplicate struct '" + name + "' (first defined at line " +
                                      std::to_string(other.key.Mark().line + 1) + ")");
      }
    }
    StructEntry entry{name, it->first, std::nullopt, {}};
    MAPFS_RETURN_IF_ERROR(ReadStruct(&entry, it->second));
    if (entry.typecode) {
      const std::string& code = entry.typecode->Scalar();
      auto [seen, inserted] = typecodes.emplace(code, entry.key);
      if (!inserted) {
        return ErrorAt(*entry.typecode, "typecode '" + code + "' already used by struct '" +
                                           seen->second.Scalar() + "'");
      }
    }
    structs_.push_back(std::move(entry));
  }
  return Status::OK();
}

Status Loader::ReadStruct(StructEntry* entry, const YAML::Node& def) {
  const std::string& name = entry->name;
  if (def.IsNull()) {
    return ErrorAt(entry->key, "struct '" + name + "' has no definition (expected typecode, fields)");
  }
  if (!def.IsMap()) {
    return ErrorAt(def, "struct '" + name + "' must be a mapping (expected typecode, fields)");
  }
  bool has_fields = false;
  for (auto it = def.begin(); it != def.end(); ++it) {
    MAPFS_ASSIGN_OR_RETURN(std::string key, KeyName(it->first, "a key"));
    if (key == "typecode") {
      if (entry->typecode) return ErrorAt(it->first, "duplicate key 'typecode'");
      YAML::Node code = it->second;
      if (code.IsNull()) return ErrorAt(it->first, "empty typecode (one printable ASCII character)");
      if (!code.IsScalar()) return ErrorAt(code, "bad typecode (one printable ASCII character)");
      const std::string& text = code.Scalar();
      if (text.size() != 1 || text[0] < 0x21 || text[0] > 0x7e) {
        return ErrorAt(code, "bad typecode '" + text + "' (one printable ASCII character)");
      }
      entry->typecode = code;
    } else if (key == "fields") {
      if (has_fields) return ErrorAt(it->first, "duplicate key 'fields'");
      has_fields = true;
      if (it->second.IsNull()) {
        return ErrorAt(it->first, "'fields' must be a mapping of field names to types");
      }
      MAPFS_RETURN_IF_ERROR(ReadFields(entry, it->second));
    } else {
      return ErrorAt(it->first, "unknown key '" + key + "' (expected typecode, fields)");
    }
  }
  if (!has_fields) return ErrorAt(entry->key, "struct '" + name + "' has no 'fields'");
  return Status::OK();
}

Status Loader::ReadFields(StructEntry* entry, const YAML::Node& fields) {
  if (!fields.IsMap()) {
    return ErrorAt(fields, "'fields' must be a mapping of field names to types");
  }
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    MAPFS_ASSIGN_OR_RETURN(std::string name, KeyName(it->first, "a field name"));
    Status name_ok = CheckFieldName(name);
    if (!name_ok.ok()) return ErrorAt(it->first, name_ok.message());
    for (const FieldEntry& other : entry->fields) {
      if (other.name == name) {
        return ErrorAt(it->first, "duplicate field '" + name + "' (first defined at line " +
                                      std::to_string(other.key.Mark().line + 1) + ")");
      }
    }
    YAML::Node type = it->second;
    if (type.IsNull()) return ErrorAt(it->first, "field '" + name + "' has no type");
    if (!type.IsScalar()) {
      return ErrorAt(type, "field '" + name + "': expected a type such as 'list<str>'");
    }
    // In {a: x, b: y} a ',' ends the entry, so an unquoted tuple<str, int64>
    // arrives cut in two; say so rather than report the pieces.
    const std::string& text = type.Scalar();
    if (fields.Style() == YAML::EmitterStyle::Flow && type.Tag() == "?" &&
        std::count(text.begin(), text.end(), '<') > std::count(text.begin(), text.end(), '>')) {
      return ErrorAt(type, "type '" + text +
                               "' is cut at ','; in {...} quote a type that contains ','");
    }
    entry->fields.push_back(FieldEntry{name, it->first, type});
  }
  return Status::OK();
}

Result<std::vector<StructDef>> Loader::ResolveTypes() const {
  // All names are known before any type is parsed, so a field may refer to a
  // struct defined further down.
  auto resolve = [this](std::string_view name) -> std::optional<int> {
    for (size_t i = 0; i < structs_.size(); ++i) {
      if (structs_[i].name == name) return static_cast<int>(i);
    }
    return std::nullopt;
  };
  std::vector<StructDef> defs;
  for (const StructEntry& entry : structs_) {
    StructDef def;
    def.name = entry.name;
    if (entry.typecode) def.typecode = entry.typecode->Scalar();
    for (const FieldEntry& field : entry.fields) {
      const std::string& text = field.value.Scalar();
      Result<Type> type = ParseType(text, resolve);
      if (!type.ok()) {
        // ParseType says "col N: reason", N 1-based inside the type text; the
        // text starts one character later when the scalar is quoted.
        std::string msg = type.status().message();
        int col = 1;
        size_t colon = msg.find(": ");
        if (msg.starts_with("col ") && colon != std::string::npos) {
          std::from_chars(msg.data() + 4, msg.data() + colon, col);
          msg = msg.substr(colon + 2);
        }
        size_t pos = static_cast<size_t>(field.value.Mark().pos);
        bool quoted = pos < text_.size() && (text_[pos] == '"' || text_[pos] == '\'');
        return ErrorAt(field.value.Mark(), msg, col - 1 + (quoted ? 1 : 0));
      }
      def.fields.push_back(Field{field.name, std::move(type).value()});
    }
    defs.push_back(std::move(def));
  }
  return defs;
}

// Struct references that hold the struct inline: directly or inside a tuple.
// list, frozenset, dict and object may be empty, so they end a chain.
void DirectStructRefs(const Type& t, std::vector<int>* out) {
  if (t.kind == TypeKind::kStruct) out->push_back(t.struct_index);
  if (t.kind == TypeKind::kTuple) {
    for (const Type& p : t.params) DirectStructRefs(p, out);
  }
}

Status Loader::CheckRecursion(const std::vector<StructDef>& defs) const {
  std::vector<int> state(defs.size(), 0);  // 0 unvisited, 1 on the path, 2 done
  // The path as (struct, field) hops, to name the cycle and point at its
  // first field.
  std::vector<std::pair<int, int>> path;
  std::function<Status(int)> visit = [&](int s) -> Status {
    if (state[s] == 2) return Status::OK();
    state[s] = 1;
    for (size_t f = 0; f < defs[s].fields.size(); ++f) {
      std::vector<int> refs;
      DirectStructRefs(defs[s].fields[f].type, &refs);
      path.emplace_back(s, static_cast<int>(f));
      for (int next : refs) {
        if (state[next] == 1) {
          size_t start = 0;
          while (path[start].first != next) ++start;
          std::string cycle;
          for (size_t i = start; i < path.size(); ++i) {
            const StructDef& d = defs[path[i].first];
            cycle += d.name + "." + d.fields[path[i].second].name + " -> ";
          }
          cycle += defs[next].name;
          const FieldEntry& first = structs_[path[start].first].fields[path[start].second];
          return ErrorAt(first.value, "struct '" + defs[next].name +
                                          "' contains itself without indirection: " + cycle);
        }
        MAPFS_RETURN_IF_ERROR(visit(next));
      }
      path.pop_back();
    }
    state[s] = 2;
    return Status::OK();
  };
  for (size_t i = 0; i < defs.size(); ++i) MAPFS_RETURN_IF_ERROR(visit(static_cast<int>(i)));
  return Status::OK();
}

}  // namespace

Result<Schema> ParseSchemaYaml(std::string_view yaml_text, std::string_view filename) {
  return Loader(yaml_text, filename).Load();
}

Result<Schema> LoadSchemaYaml(const std::string& path) {
  MAPFS_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
  return ParseSchemaYaml(file.data(), path);
}

}  // namespace mapfs
