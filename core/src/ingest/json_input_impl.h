// The JSONL reader's parser state (JsonRecordParser::Impl), shared by
// json_input.cc (records, fields, containers) and json_ndarray.cc (ndarrays).
// Private to core.
#ifndef MAPFS_CORE_JSON_INPUT_IMPL_H_
#define MAPFS_CORE_JSON_INPUT_IMPL_H_

#include <simdjson.h>

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "json_scalars.h"
#include "mapfs/json_input.h"

namespace mapfs {
namespace json_detail {

constexpr int kMaxDepth = 64;
constexpr size_t kMaxTokenChars = 40;

// An element of an ndarray as read, before the dtype is known.
struct Leaf {
  enum Kind : uint8_t { kNumber, kBool, kWord } kind;
  bool b = false;
  double word = 0;        // kWord: NaN or ±Infinity
  std::string_view text;  // kNumber: the token
};

}  // namespace json_detail

namespace od = simdjson::ondemand;

class JsonRecordParser::Impl {
 public:
  Impl(const Schema& schema, int struct_index) : schema_(schema), struct_index_(struct_index) {
    // Depth slack so our own, clearer depth error fires first.
    init_error_ = parser_.allocate(4096, json_detail::kMaxDepth + 4);
    lookups_.resize(schema.structs().size());
    for (size_t s = 0; s < schema.structs().size(); ++s) {
      const StructDef& def = schema.struct_def(static_cast<int>(s));
      FieldLookup& l = lookups_[s];
      for (const Field& f : def.fields) l.names.push_back(f.name);
      if (def.fields.size() > 16) {
        for (size_t i = 0; i < def.fields.size(); ++i) {
          l.map.emplace(l.names[i], static_cast<int>(i));
        }
      }
    }
  }

  Result<Value> ParseLine(std::string_view line);

 private:
  struct FieldLookup {
    std::vector<std::string_view> names;            // views into the Schema
    std::unordered_map<std::string_view, int> map;  // only for wide structs
  };

  int FindField(int struct_index, std::string_view key) const {
    const FieldLookup& l = lookups_[struct_index];
    if (!l.map.empty()) {
      auto it = l.map.find(key);
      return it == l.map.end() ? -1 : it->second;
    }
    for (size_t i = 0; i < l.names.size(); ++i) {
      if (l.names[i] == key) return static_cast<int>(i);
    }
    return -1;
  }

  // Every Parse* returns false on error, with the error recorded below.
  bool ParseStruct(od::value& v, int struct_index, int depth, Value* out);
  bool ParseStructFields(od::object& obj, int struct_index, int depth, Value* out);
  bool ParseTyped(od::value& v, const Type& t, int depth, Value* out);
  bool ParseElement(od::value& v, const Type& t, int depth, Value* out);
  bool ParseSequence(od::value& v, const Type& t, int depth, Value* out);
  bool ParseDict(od::value& v, const Type& t, int depth, Value* out);
  bool ParseKey(std::string_view key, const Type& t, Value* out);
  bool ParseObject(od::value& v, int depth, Value* out);
  bool ParseNdArray(od::value& v, const Type& t, int depth, Value* out);
  bool WalkNdArray(od::value& v, size_t level, int depth);
  bool ConvertLeaves(DType dtype, NdArray* arr);

  bool JsonError(simdjson::error_code e) {
    json_error_ = true;
    json_code_ = e;
    error_.assign("invalid JSON: ");
    error_.append(json_detail::DescribeJsonError(e));
    return false;
  }
  bool Fail(std::string msg) {
    error_ = std::move(msg);
    return false;
  }
  // "expected <type>, got <token>[ (<why>)]" for the value starting at `at`.
  bool TypeError(const Type& t, const char* at, std::string_view why = {}) {
    return TypeError(schema_.TypeName(t), at, why);
  }
  bool TypeError(std::string_view want, const char* at, std::string_view why = {}) {
    error_.assign("expected ");
    error_.append(want);
    error_.append(", got ");
    error_.append(TokenText(at));
    if (!why.empty()) {
      error_.append(" (");
      error_.append(why);
      error_.push_back(')');
    }
    return false;
  }
  // Path segments are pushed innermost first while unwinding from an error.
  bool PushPath(std::string segment) {
    path_.push_back(std::move(segment));
    return false;
  }
  bool CheckDepth(int depth) {
    return depth <= json_detail::kMaxDepth ||
           Fail("nesting deeper than " + std::to_string(json_detail::kMaxDepth) + " levels");
  }

  // Where the JSON value starting at `at` ends (by bracket matching; only
  // used for messages, on text that may be malformed).
  const char* TokenEnd(const char* at) const;
  // The JSON text of the value starting at `at`, cut to about 40 characters.
  std::string TokenText(const char* at) const;

  const Schema& schema_;
  const int struct_index_;
  od::parser parser_;
  simdjson::error_code init_error_;
  std::vector<FieldLookup> lookups_;
  std::string buf_;  // the line plus simdjson's padding
  size_t line_size_ = 0;

  bool json_error_ = false;
  simdjson::error_code json_code_ = simdjson::SUCCESS;
  std::string error_;
  std::vector<std::string> path_;

  // ndarray walk state (one ndarray at a time: they do not nest).
  std::vector<json_detail::Leaf> leaves_;
  std::vector<int64_t> shape_;  // per level; -1 until the first array there ends
  std::vector<uint64_t> index_;  // the current position, for error paths
  int64_t ndim_ = -1;            // level of the leaves once one was seen
  int64_t max_array_level_ = -1;
};

}  // namespace mapfs

#endif  // MAPFS_CORE_JSON_INPUT_IMPL_H_
