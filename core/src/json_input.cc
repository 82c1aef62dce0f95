// JSONL lines to struct Values (json_input.h), on simdjson's On-Demand API.
//
// On-Demand lets each value be read as the schema asks, and exposes the raw
// text of number tokens, which decimal needs (0.1 must stay 0.1) and which we
// parse ourselves for exact integer range checks and correctly rounded
// float32. It is lazy: syntax errors surface at the access that meets them,
// so every access is checked; and since every value of a line is read
// (unknown fields are errors), nothing in the line goes unvalidated.
#include "mapfs/json_input.h"

#include <simdjson.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "mapfs/text_format.h"

namespace mapfs {
namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

constexpr int kMaxDepth = 64;
constexpr size_t kMaxTokenChars = 40;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view TrimJsonSpace(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// True if `t` is a JSON number token; *integer when it has no fraction or
// exponent. On-Demand does not check tokens it is not asked to convert.
bool ScanJsonNumber(std::string_view t, bool* integer) {
  size_t i = 0, n = t.size();
  if (i < n && t[i] == '-') ++i;
  if (i >= n) return false;
  if (t[i] == '0') {
    ++i;
  } else if (IsDigit(t[i])) {
    while (i < n && IsDigit(t[i])) ++i;
  } else {
    return false;
  }
  *integer = true;
  if (i < n && t[i] == '.') {
    *integer = false;
    size_t b = ++i;
    while (i < n && IsDigit(t[i])) ++i;
    if (i == b) return false;
  }
  if (i < n && (t[i] == 'e' || t[i] == 'E')) {
    *integer = false;
    ++i;
    if (i < n && (t[i] == '+' || t[i] == '-')) ++i;
    size_t b = i;
    while (i < n && IsDigit(t[i])) ++i;
    if (i == b) return false;
  }
  return i == n;
}

// A JSON integer token as int64 (kSigned) or, above INT64_MAX, uint64.
enum class IntClass { kSigned, kUnsigned, kOverflow };
IntClass ParseJsonInt(std::string_view t, int64_t* s, uint64_t* u) {
  const char* end = t.data() + t.size();
  if (t[0] == '-') {
    auto r = std::from_chars(t.data(), end, *s);
    return r.ec == std::errc() ? IntClass::kSigned : IntClass::kOverflow;
  }
  auto r = std::from_chars(t.data(), end, *u);
  if (r.ec != std::errc()) return IntClass::kOverflow;
  if (*u > static_cast<uint64_t>(INT64_MAX)) return IntClass::kUnsigned;
  *s = static_cast<int64_t>(*u);
  return IntClass::kSigned;
}

bool IntFits(TypeKind k, IntClass c, int64_t s) {
  if (c == IntClass::kOverflow) return false;
  if (c == IntClass::kUnsigned) return k == TypeKind::kUInt64;
  switch (k) {
    case TypeKind::kInt8: return s >= INT8_MIN && s <= INT8_MAX;
    case TypeKind::kInt16: return s >= INT16_MIN && s <= INT16_MAX;
    case TypeKind::kInt32: return s >= INT32_MIN && s <= INT32_MAX;
    case TypeKind::kInt64: return true;
    case TypeKind::kUInt8: return s >= 0 && s <= UINT8_MAX;
    case TypeKind::kUInt16: return s >= 0 && s <= UINT16_MAX;
    case TypeKind::kUInt32: return s >= 0 && s <= UINT32_MAX;
    case TypeKind::kUInt64: return s >= 0;
    default: return false;
  }
}

// Correctly rounded text-to-float for a JSON number token. A magnitude below
// the smallest subnormal becomes a signed zero (as Python's float() does);
// false only when it is too large for F.
template <typename F>
bool ParseJsonFloat(std::string_view t, F* out) {
  auto r = std::from_chars(t.data(), t.data() + t.size(), *out);
  if (r.ec == std::errc()) return true;
  // Out of range: decide the direction from the adjusted decimal exponent.
  Result<Decimal> d = Decimal::Parse(t);
  if (!d.ok() || d->digits == "0") return false;
  if (d->exponent + static_cast<int64_t>(d->digits.size()) - 1 >= 0) return false;
  *out = t[0] == '-' ? -F(0) : F(0);
  return true;
}

// "NaN", "Infinity", "-Infinity": the string forms floats accept.
bool ParseFloatWord(std::string_view s, double* out) {
  if (s == "NaN") *out = std::numeric_limits<double>::quiet_NaN();
  else if (s == "Infinity") *out = std::numeric_limits<double>::infinity();
  else if (s == "-Infinity") *out = -std::numeric_limits<double>::infinity();
  else return false;
  return true;
}

template <typename T>
void AppendLittleEndian(std::string* out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  if constexpr (std::endian::native == std::endian::big) std::reverse(b, b + sizeof(T));
  out->append(b, sizeof(T));
}

std::string Quote(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

std::string_view DescribeJsonError(error_code e) {
  switch (e) {
    case simdjson::EMPTY: return "empty line";
    case simdjson::TAPE_ERROR: return "unexpected character or misplaced separator";
    case simdjson::INCOMPLETE_ARRAY_OR_OBJECT: return "unterminated array or object";
    case simdjson::UNCLOSED_STRING: return "unterminated string";
    case simdjson::STRING_ERROR: return "bad escape in string";
    case simdjson::UNESCAPED_CHARS: return "unescaped control character in string";
    case simdjson::UTF8_ERROR: return "invalid UTF-8";
    case simdjson::NUMBER_ERROR: return "bad number";
    case simdjson::T_ATOM_ERROR: case simdjson::F_ATOM_ERROR: case simdjson::N_ATOM_ERROR:
      return "bad literal";
    case simdjson::DEPTH_ERROR: return "nesting too deep";
    case simdjson::CAPACITY: return "line too long";
    default: return simdjson::error_message(e);
  }
}

// An element of an ndarray as read, before the dtype is known.
struct Leaf {
  enum Kind : uint8_t { kNumber, kBool, kWord } kind;
  bool b = false;
  double word = 0;        // kWord: NaN or ±Infinity
  std::string_view text;  // kNumber: the token
};

}  // namespace

class JsonRecordParser::Impl {
 public:
  Impl(const Schema& schema, int struct_index) : schema_(schema), struct_index_(struct_index) {
    // Depth slack so our own, clearer depth error fires first.
    init_error_ = parser_.allocate(4096, kMaxDepth + 4);
    lookups_.resize(schema.structs().size());
    for (size_t s = 0; s < schema.structs().size(); ++s) {
      const StructDef& def = schema.struct_def(static_cast<int>(s));
      FieldLookup& l = lookups_[s];
      for (const Field& f : def.fields) l.names.push_back(f.name);
      if (def.fields.size() > 16) {
        for (size_t i = 0; i < def.fields.size(); ++i) l.map.emplace(l.names[i], static_cast<int>(i));
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

  bool JsonError(error_code e) {
    json_error_ = true;
    json_code_ = e;
    error_.assign("invalid JSON: ");
    error_.append(DescribeJsonError(e));
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
    return depth <= kMaxDepth || Fail("nesting deeper than " + std::to_string(kMaxDepth) + " levels");
  }

  // Where the JSON value starting at `at` ends (by bracket matching; only
  // used for messages, on text that may be malformed).
  const char* TokenEnd(const char* at) const;
  // The JSON text of the value starting at `at`, cut to about 40 characters.
  std::string TokenText(const char* at) const;

  const Schema& schema_;
  const int struct_index_;
  od::parser parser_;
  error_code init_error_;
  std::vector<FieldLookup> lookups_;
  std::string buf_;  // the line plus simdjson's padding
  size_t line_size_ = 0;

  bool json_error_ = false;
  error_code json_code_ = simdjson::SUCCESS;
  std::string error_;
  std::vector<std::string> path_;

  // ndarray walk state (one ndarray at a time: they do not nest).
  std::vector<Leaf> leaves_;
  std::vector<int64_t> shape_;  // per level; -1 until the first array there ends
  std::vector<uint64_t> index_;  // the current position, for error paths
  int64_t ndim_ = -1;            // level of the leaves once one was seen
  int64_t max_array_level_ = -1;
};

const char* JsonRecordParser::Impl::TokenEnd(const char* at) const {
  const char* end = buf_.data() + line_size_;
  const char* p = at;
  int nest = 0;
  bool in_string = false;
  for (; p < end; ++p) {
    char c = *p;
    if (in_string) {
      if (c == '\\') {
        ++p;
      } else if (c == '"') {
        in_string = false;
        if (nest == 0) return p + 1;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      ++nest;
    } else if (c == ']' || c == '}') {
      if (nest == 0) return p;        // closes an enclosing container
      if (--nest == 0) return p + 1;  // closes this value
    } else if (nest == 0 && (c == ',' || c == ':' || c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
      return p;
    }
  }
  return end;
}

std::string JsonRecordParser::Impl::TokenText(const char* at) const {
  const char* begin = buf_.data();
  if (at < begin || at >= begin + line_size_) return "end of line";
  std::string_view tok(at, static_cast<size_t>(TokenEnd(at) - at));
  if (tok.empty()) return "end of line";
  if (tok.size() <= kMaxTokenChars) return std::string(tok);
  size_t cut = kMaxTokenChars - 3;
  while (cut > 0 && (static_cast<uint8_t>(tok[cut]) & 0xC0) == 0x80) --cut;  // whole UTF-8 chars
  return std::string(tok.substr(0, cut)) + "...";
}

Result<Value> JsonRecordParser::Impl::ParseLine(std::string_view line) {
  if (init_error_ != simdjson::SUCCESS) return Status::InvalidArgument("JSON parser: out of memory");
  json_error_ = false;
  json_code_ = simdjson::SUCCESS;
  error_.clear();
  path_.clear();
  buf_.resize(line.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(buf_.data(), line.data(), line.size());
  line_size_ = line.size();

  Value out;
  od::document doc;
  bool ok = [&] {
    if (auto e = parser_.iterate(buf_.data(), line.size(), buf_.size()).get(doc)) return JsonError(e);
    od::json_type jt;
    if (auto e = doc.type().get(jt)) return JsonError(e);
    if (jt != od::json_type::object) {
      std::string_view raw;
      if (auto e = doc.raw_json_token().get(raw)) return JsonError(e);
      return TypeError("a JSON object", raw.data());
    }
    od::object obj;
    if (auto e = doc.get_object().get(obj)) return JsonError(e);
    if (!ParseStructFields(obj, struct_index_, 1, &out)) return false;
    // current_location() fails with OUT_OF_BOUNDS exactly at the end.
    if (!doc.current_location().error()) return Fail("invalid JSON: trailing content after the object");
    return true;
  }();
  if (ok) return out;
  if (json_error_ && json_code_ == simdjson::INCOMPLETE_ARRAY_OR_OBJECT) {
    // simdjson reports a root object followed by more text as incomplete.
    std::string_view text(buf_.data(), line_size_);
    size_t first = text.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && text[first] == '{') {
      size_t end = static_cast<size_t>(TokenEnd(text.data() + first) - text.data());
      if (text.find_first_not_of(" \t\r\n", end) != std::string_view::npos) {
        return Status::InvalidArgument("invalid JSON: trailing content after the object");
      }
    }
  }
  if (json_error_ || path_.empty()) return Status::InvalidArgument(std::move(error_));
  std::string path;
  for (auto it = path_.rbegin(); it != path_.rend(); ++it) path += *it;
  if (path[0] == '.') path.erase(0, 1);
  return Status::InvalidArgument("field " + Quote(path) + ": " + error_);
}

bool JsonRecordParser::Impl::ParseStruct(od::value& v, int struct_index, int depth, Value* out) {
  od::object obj;
  if (auto e = v.get_object().get(obj)) return JsonError(e);
  return ParseStructFields(obj, struct_index, depth, out);
}

bool JsonRecordParser::Impl::ParseStructFields(od::object& obj, int struct_index, int depth,
                                               Value* out) {
  if (!CheckDepth(depth)) return false;
  const StructDef& def = schema_.struct_def(struct_index);
  const size_t nfields = def.fields.size();
  std::vector<std::pair<std::string, Value>> fields;
  fields.reserve(nfields);
  uint64_t seen_small = 0;  // fields seen, when there are at most 64
  std::vector<bool> seen_big(nfields > 64 ? nfields : 0);
  int last_index = -1;
  bool in_order = true;
  for (auto field_result : obj) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return JsonError(e);
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return JsonError(e);
    int index = FindField(struct_index, key);
    if (index < 0) return Fail("unknown field " + Quote(key));
    bool seen;
    if (nfields <= 64) {
      seen = (seen_small >> index) & 1;
      seen_small |= uint64_t{1} << index;
    } else {
      seen = seen_big[index];
      seen_big[index] = true;
    }
    if (seen) return Fail("duplicate field " + Quote(key));
    od::value v = field.value();
    od::json_type jt;
    if (auto e = v.type().get(jt)) return JsonError(e);
    if (jt == od::json_type::null) {  // null is absent
      bool is_null;
      if (auto e = v.is_null().get(is_null)) return JsonError(e);
      if (!is_null) return JsonError(simdjson::N_ATOM_ERROR);
      continue;
    }
    if (index < last_index) in_order = false;
    last_index = index;
    fields.emplace_back(std::piecewise_construct, std::forward_as_tuple(def.fields[index].name),
                        std::forward_as_tuple());
    if (!ParseTyped(v, def.fields[index].type, depth, &fields.back().second)) {
      return PushPath("." + def.fields[index].name);
    }
  }
  if (!in_order) {  // rare: lines usually list fields in one order
    std::sort(fields.begin(), fields.end(), [&](const auto& a, const auto& b) {
      return FindField(struct_index, a.first) < FindField(struct_index, b.first);
    });
  }
  *out = Value::Struct(def.name, std::move(fields));
  return true;
}

// A non-null value of a typed position (null is handled by the caller).
bool JsonRecordParser::Impl::ParseTyped(od::value& v, const Type& t, int depth, Value* out) {
  od::json_type jt;
  if (auto e = v.type().get(jt)) return JsonError(e);
  const char* at = v.raw_json_token().data();
  switch (t.kind) {
    case TypeKind::kInt8: case TypeKind::kInt16: case TypeKind::kInt32: case TypeKind::kInt64:
    case TypeKind::kUInt8: case TypeKind::kUInt16: case TypeKind::kUInt32: case TypeKind::kUInt64: {
      if (jt != od::json_type::number) return TypeError(t, at);
      std::string_view tok = TrimJsonSpace(v.raw_json_token());
      bool integer;
      if (!ScanJsonNumber(tok, &integer)) return JsonError(simdjson::NUMBER_ERROR);
      if (!integer) return TypeError(t, at);
      int64_t s = 0;
      uint64_t u = 0;
      IntClass c = ParseJsonInt(tok, &s, &u);
      if (!IntFits(t.kind, c, s)) return TypeError(t, at, "out of range");
      if (IsSignedIntKind(t.kind)) *out = Value::Int(s);
      else *out = Value::UInt(c == IntClass::kUnsigned ? u : static_cast<uint64_t>(s));
      return true;
    }
    case TypeKind::kFloat32: case TypeKind::kFloat64: {
      double d;
      if (jt == od::json_type::string) {
        std::string_view s;
        if (auto e = v.get_string().get(s)) return JsonError(e);
        if (!ParseFloatWord(s, &d)) return TypeError(t, at);
      } else if (jt == od::json_type::number) {
        std::string_view tok = TrimJsonSpace(v.raw_json_token());
        bool integer;
        if (!ScanJsonNumber(tok, &integer)) return JsonError(simdjson::NUMBER_ERROR);
        if (t.kind == TypeKind::kFloat32) {
          float f;
          if (!ParseJsonFloat(tok, &f)) return TypeError(t, at, "out of range");
          d = f;
        } else if (!ParseJsonFloat(tok, &d)) {
          return TypeError(t, at, "out of range");
        }
      } else {
        return TypeError(t, at);
      }
      *out = Value::Float(d);
      return true;
    }
    case TypeKind::kBool: {
      if (jt != od::json_type::boolean) return TypeError(t, at);
      bool b;
      if (v.get_bool().get(b)) return JsonError(simdjson::T_ATOM_ERROR);
      *out = Value::Bool(b);
      return true;
    }
    case TypeKind::kStr: case TypeKind::kBytes: case TypeKind::kDate: case TypeKind::kDateTime: {
      if (jt != od::json_type::string) return TypeError(t, at);
      std::string_view s;
      if (auto e = v.get_string().get(s)) return JsonError(e);
      if (ParseKey(s, t, out)) return true;
      std::string why = std::move(error_);
      return TypeError(t, at, why);
    }
    case TypeKind::kDecimal: {
      std::string_view s;
      if (jt == od::json_type::string) {
        if (auto e = v.get_string().get(s)) return JsonError(e);
      } else if (jt == od::json_type::number) {
        s = TrimJsonSpace(v.raw_json_token());
        bool integer;
        if (!ScanJsonNumber(s, &integer)) return JsonError(simdjson::NUMBER_ERROR);
      } else {
        return TypeError(t, at);
      }
      Result<Decimal> d = Decimal::Parse(s);
      if (!d.ok()) return TypeError(t, at, d.status().message());
      *out = Value::FromDecimal(std::move(d).value());
      return true;
    }
    case TypeKind::kList: case TypeKind::kTuple: case TypeKind::kFrozenSet:
      if (jt != od::json_type::array) return TypeError(t, at);
      return ParseSequence(v, t, depth + 1, out);
    case TypeKind::kDict:
      if (jt != od::json_type::object) return TypeError(t, at);
      return ParseDict(v, t, depth + 1, out);
    case TypeKind::kStruct:
      if (jt != od::json_type::object) return TypeError(t, at);
      return ParseStruct(v, t.struct_index, depth + 1, out);
    case TypeKind::kNdArray:
      return ParseNdArray(v, t, depth, out);
    case TypeKind::kObject:
      return ParseObject(v, depth, out);
  }
  return Fail("unsupported type " + schema_.TypeName(t));
}

// A list/tuple/set element or a dict value: null only for `object`.
bool JsonRecordParser::Impl::ParseElement(od::value& v, const Type& t, int depth, Value* out) {
  if (t.kind == TypeKind::kObject) return ParseObject(v, depth, out);
  return ParseTyped(v, t, depth, out);
}

bool JsonRecordParser::Impl::ParseSequence(od::value& v, const Type& t, int depth, Value* out) {
  if (!CheckDepth(depth)) return false;
  const char* at = v.raw_json_token().data();
  od::array arr;
  if (auto e = v.get_array().get(arr)) return JsonError(e);
  const bool fixed_tuple = t.kind == TypeKind::kTuple && !t.params.empty();
  static const Type kObjectType = Type::Object();
  std::vector<Value> items;
  if (fixed_tuple) items.reserve(t.params.size());
  size_t i = 0;
  for (auto elem_result : arr) {
    od::value elem;
    if (auto e = std::move(elem_result).get(elem)) return JsonError(e);
    if (fixed_tuple && i >= t.params.size()) {
      return TypeError(t, at, "more than " + std::to_string(t.params.size()) + " elements");
    }
    const Type& et = fixed_tuple ? t.params[i] : t.params.empty() ? kObjectType : t.params[0];
    items.emplace_back();
    if (!ParseElement(elem, et, depth, &items.back())) return PushPath("[" + std::to_string(i) + "]");
    ++i;
  }
  if (fixed_tuple && i != t.params.size()) {
    return TypeError(t, at, std::to_string(i) + (i == 1 ? " element" : " elements") + ", want " +
                                std::to_string(t.params.size()));
  }
  switch (t.kind) {
    case TypeKind::kList: *out = Value::List(std::move(items)); break;
    case TypeKind::kTuple: *out = Value::Tuple(std::move(items)); break;
    default: *out = Value::FrozenSet(std::move(items)); break;
  }
  return true;
}

bool JsonRecordParser::Impl::ParseDict(od::value& v, const Type& t, int depth, Value* out) {
  if (!CheckDepth(depth)) return false;
  static const Type kObjectType = Type::Object();
  const Type& kt = t.params.size() == 2 ? t.params[0] : kObjectType;
  const Type& vt = t.params.size() == 2 ? t.params[1] : kObjectType;
  od::object obj;
  if (auto e = v.get_object().get(obj)) return JsonError(e);
  std::vector<std::pair<Value, Value>> items;
  for (auto field_result : obj) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return JsonError(e);
    const char* key_at = field.key().raw() - 1;  // the opening quote; unescaping consumes it
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return JsonError(e);
    items.emplace_back();
    if (!ParseKey(key, kt, &items.back().first)) {
      return Fail("expected " + schema_.TypeName(kt) + " key, got " + TokenText(key_at) + " (" +
                  error_ + ")");
    }
    od::value val = field.value();
    if (!ParseElement(val, vt, depth, &items.back().second)) {
      std::string seg = "[" + std::string(key.substr(0, kMaxTokenChars)) + "]";
      return PushPath(std::move(seg));
    }
  }
  *out = Value::Dict(std::move(items));
  return true;
}

// Text to a scalar of type `t`: dict keys, and the string-typed fields. On
// failure error_ holds the reason alone.
bool JsonRecordParser::Impl::ParseKey(std::string_view key, const Type& t, Value* out) {
  switch (t.kind) {
    case TypeKind::kStr: case TypeKind::kObject:
      *out = Value::Str(std::string(key));
      return true;
    case TypeKind::kBytes: {
      Result<std::string> b = Base64Decode(key);
      if (!b.ok()) return Fail(b.status().message());
      *out = Value::Bytes(std::move(b).value());
      return true;
    }
    case TypeKind::kDate: {
      Result<Date> d = Date::Parse(key);
      if (!d.ok()) return Fail(d.status().message());
      *out = Value::FromDate(*d);
      return true;
    }
    case TypeKind::kDateTime: {
      Result<DateTime> d = DateTime::Parse(key);
      if (!d.ok()) return Fail(d.status().message());
      *out = Value::FromDateTime(*d);
      return true;
    }
    case TypeKind::kDecimal: {
      Result<Decimal> d = Decimal::Parse(key);
      if (!d.ok()) return Fail(d.status().message());
      *out = Value::FromDecimal(std::move(d).value());
      return true;
    }
    case TypeKind::kBool:
      if (key != "true" && key != "false") return Fail("not true or false");
      *out = Value::Bool(key == "true");
      return true;
    case TypeKind::kFloat32: case TypeKind::kFloat64: {
      double d;
      bool integer;
      if (ParseFloatWord(key, &d)) {
      } else if (!ScanJsonNumber(key, &integer)) {
        return Fail("not a number");
      } else if (t.kind == TypeKind::kFloat32) {
        float f;
        if (!ParseJsonFloat(key, &f)) return Fail("out of range");
        d = f;
      } else if (!ParseJsonFloat(key, &d)) {
        return Fail("out of range");
      }
      *out = Value::Float(d);
      return true;
    }
    default:
      if (IsIntKind(t.kind)) {
        bool integer;
        if (!ScanJsonNumber(key, &integer) || !integer) return Fail("not an integer");
        int64_t s = 0;
        uint64_t u = 0;
        IntClass c = ParseJsonInt(key, &s, &u);
        if (!IntFits(t.kind, c, s)) return Fail("out of range");
        if (IsSignedIntKind(t.kind)) *out = Value::Int(s);
        else *out = Value::UInt(c == IntClass::kUnsigned ? u : static_cast<uint64_t>(s));
        return true;
      }
      return Fail("a " + schema_.TypeName(t) + " cannot be written as a JSON string");
  }
}

// `object`: the value's own JSON type decides.
bool JsonRecordParser::Impl::ParseObject(od::value& v, int depth, Value* out) {
  od::json_type jt;
  if (auto e = v.type().get(jt)) return JsonError(e);
  const char* at = v.raw_json_token().data();
  switch (jt) {
    case od::json_type::null: {
      bool is_null;
      if (v.is_null().get(is_null) || !is_null) return JsonError(simdjson::N_ATOM_ERROR);
      *out = Value::Null();
      return true;
    }
    case od::json_type::boolean: {
      bool b;
      if (v.get_bool().get(b)) return JsonError(simdjson::T_ATOM_ERROR);
      *out = Value::Bool(b);
      return true;
    }
    case od::json_type::string: {
      std::string_view s;
      if (auto e = v.get_string().get(s)) return JsonError(e);
      *out = Value::Str(std::string(s));
      return true;
    }
    case od::json_type::number: {
      std::string_view tok = TrimJsonSpace(v.raw_json_token());
      bool integer;
      if (!ScanJsonNumber(tok, &integer)) return JsonError(simdjson::NUMBER_ERROR);
      if (integer) {
        int64_t s = 0;
        uint64_t u = 0;
        IntClass c = ParseJsonInt(tok, &s, &u);
        if (c == IntClass::kOverflow) return TypeError("object", at, "integer beyond int64/uint64");
        *out = c == IntClass::kSigned ? Value::Int(s) : Value::UInt(u);
        return true;
      }
      double d;
      if (!ParseJsonFloat(tok, &d)) return TypeError("object", at, "out of range for float64");
      *out = Value::Float(d);
      return true;
    }
    case od::json_type::array: {
      static const Type kList = Type::List(Type::Object());
      return ParseSequence(v, kList, depth + 1, out);
    }
    case od::json_type::object: {
      static const Type kDict = Type::Dict(Type::Scalar(TypeKind::kStr), Type::Object());
      return ParseDict(v, kDict, depth + 1, out);
    }
  }
  return JsonError(simdjson::TAPE_ERROR);
}

bool JsonRecordParser::Impl::ParseNdArray(od::value& v, const Type& t, int depth, Value* out) {
  leaves_.clear();
  shape_.clear();
  index_.clear();
  ndim_ = -1;
  max_array_level_ = -1;
  if (!WalkNdArray(v, 0, depth)) return false;
  NdArray arr;
  size_t ndim = ndim_ >= 0 ? static_cast<size_t>(ndim_) : static_cast<size_t>(max_array_level_ + 1);
  arr.shape.assign(shape_.begin(), shape_.begin() + ndim);
  DType dtype;
  if (t.dtype) {
    dtype = *t.dtype;
  } else {
    // Infer: any non-integer makes float64; all bools make bool; else ints.
    bool any_bool = false, any_number = false, any_float = false, any_negative = false,
         any_big = false;
    for (const Leaf& leaf : leaves_) {
      if (leaf.kind == Leaf::kBool) { any_bool = true; continue; }
      any_number = true;
      bool integer = false;
      if (leaf.kind == Leaf::kWord || (ScanJsonNumber(leaf.text, &integer), !integer)) {
        any_float = true;
      } else if (leaf.text[0] == '-') {
        any_negative = true;
      } else {
        int64_t s;
        uint64_t u;
        if (ParseJsonInt(leaf.text, &s, &u) != IntClass::kSigned) any_big = true;
      }
    }
    if (any_bool && any_number) return Fail("ndarray mixes booleans and numbers");
    if (any_bool) dtype = DType::kBool;
    else if (any_float || !any_number) dtype = DType::kFloat64;
    else if (any_big && !any_negative) dtype = DType::kUInt64;
    else dtype = DType::kInt64;
  }
  arr.dtype = dtype;
  if (!ConvertLeaves(dtype, &arr)) return false;
  *out = Value::FromNdArray(std::move(arr));
  return true;
}

bool JsonRecordParser::Impl::WalkNdArray(od::value& v, size_t level, int depth) {
  od::json_type jt;
  if (auto e = v.type().get(jt)) return JsonError(e);
  const char* at = v.raw_json_token().data();
  auto fail_here = [&](std::string_view want, std::string_view why) {
    TypeError(want, at, why);
    for (size_t i = index_.size(); i-- > 0;) PushPath("[" + std::to_string(index_[i]) + "]");
    return false;
  };
  if (jt == od::json_type::array) {
    if (!CheckDepth(depth + 1)) return false;
    if (ndim_ >= 0 && static_cast<int64_t>(level) >= ndim_) {
      return fail_here("a number", "ndarray is not rectangular");
    }
    max_array_level_ = std::max<int64_t>(max_array_level_, static_cast<int64_t>(level));
    if (shape_.size() <= level) shape_.resize(level + 1, -1);
    od::array arr;
    if (auto e = v.get_array().get(arr)) return JsonError(e);
    index_.push_back(0);
    int64_t count = 0;
    for (auto elem_result : arr) {
      od::value elem;
      if (auto e = std::move(elem_result).get(elem)) return JsonError(e);
      index_.back() = static_cast<uint64_t>(count);
      if (!WalkNdArray(elem, level + 1, depth + 1)) return false;
      ++count;
    }
    index_.pop_back();
    if (shape_[level] < 0) {
      shape_[level] = count;
    } else if (shape_[level] != count) {
      return fail_here("an array of " + std::to_string(shape_[level]) + " elements",
                       "ndarray is not rectangular");
    }
    return true;
  }
  if (ndim_ < 0) {
    if (static_cast<int64_t>(level) <= max_array_level_) {
      return fail_here("an array", "ndarray is not rectangular");
    }
    ndim_ = static_cast<int64_t>(level);
  } else if (static_cast<int64_t>(level) != ndim_) {
    return fail_here("an array", "ndarray is not rectangular");
  }
  Leaf leaf{Leaf::kNumber};
  switch (jt) {
    case od::json_type::number: {
      leaf.text = TrimJsonSpace(v.raw_json_token());
      bool integer;
      if (!ScanJsonNumber(leaf.text, &integer)) return JsonError(simdjson::NUMBER_ERROR);
      break;
    }
    case od::json_type::boolean:
      leaf.kind = Leaf::kBool;
      if (v.get_bool().get(leaf.b)) return JsonError(simdjson::T_ATOM_ERROR);
      break;
    case od::json_type::string: {
      std::string_view s;
      if (auto e = v.get_string().get(s)) return JsonError(e);
      leaf.kind = Leaf::kWord;
      if (!ParseFloatWord(s, &leaf.word)) return fail_here("a number", "");
      break;
    }
    default:
      return fail_here("a number", "");
  }
  leaves_.push_back(leaf);
  return true;
}

bool JsonRecordParser::Impl::ConvertLeaves(DType dtype, NdArray* arr) {
  arr->data.reserve(leaves_.size() * DTypeSize(dtype));
  for (size_t n = 0; n < leaves_.size(); ++n) {
    const Leaf& leaf = leaves_[n];
    std::string why;
    bool ok = true;
    if (dtype == DType::kBool) {
      ok = leaf.kind == Leaf::kBool;
      if (ok) arr->data.push_back(leaf.b ? 1 : 0);
    } else if (dtype == DType::kFloat32 || dtype == DType::kFloat64) {
      double d = leaf.word;
      float f = static_cast<float>(leaf.word);
      if (leaf.kind == Leaf::kBool) {
        ok = false;
      } else if (leaf.kind == Leaf::kNumber) {
        ok = dtype == DType::kFloat32 ? ParseJsonFloat(leaf.text, &f) : ParseJsonFloat(leaf.text, &d);
        if (!ok) why = "out of range";
      }
      if (ok && dtype == DType::kFloat32) AppendLittleEndian(&arr->data, f);
      if (ok && dtype == DType::kFloat64) AppendLittleEndian(&arr->data, d);
    } else {
      bool integer = false;
      ok = leaf.kind == Leaf::kNumber && ScanJsonNumber(leaf.text, &integer) && integer;
      int64_t s = 0;
      uint64_t u = 0;
      if (ok) {
        static constexpr TypeKind kKinds[] = {TypeKind::kInt8,  TypeKind::kInt16, TypeKind::kInt32,
                                              TypeKind::kInt64, TypeKind::kUInt8, TypeKind::kUInt16,
                                              TypeKind::kUInt32, TypeKind::kUInt64};
        IntClass c = ParseJsonInt(leaf.text, &s, &u);
        ok = IntFits(kKinds[static_cast<int>(dtype)], c, s);
        if (!ok) why = "out of range";
        if (c == IntClass::kSigned) u = static_cast<uint64_t>(s);
      }
      if (ok) {
        switch (dtype) {
          case DType::kInt8: case DType::kUInt8: AppendLittleEndian(&arr->data, static_cast<uint8_t>(u)); break;
          case DType::kInt16: case DType::kUInt16: AppendLittleEndian(&arr->data, static_cast<uint16_t>(u)); break;
          case DType::kInt32: case DType::kUInt32: AppendLittleEndian(&arr->data, static_cast<uint32_t>(u)); break;
          default: AppendLittleEndian(&arr->data, u); break;
        }
      }
    }
    if (!ok) {
      std::string want(DTypeName(dtype));
      std::string got;
      if (leaf.kind == Leaf::kNumber) got = std::string(leaf.text.substr(0, kMaxTokenChars));
      else if (leaf.kind == Leaf::kBool) got = leaf.b ? "true" : "false";
      else got = Quote(FormatDouble(leaf.word));
      error_ = "expected " + want + ", got " + got;
      if (!why.empty()) error_ += " (" + why + ")";
      // The flat index back to [i][j]...: C order, last axis fastest.
      uint64_t rest = n;
      for (size_t d = arr->shape.size(); d-- > 0;) {
        uint64_t dim = arr->shape[d];
        PushPath("[" + std::to_string(rest % dim) + "]");
        rest /= dim;
      }
      return false;
    }
  }
  return true;
}

JsonRecordParser::JsonRecordParser(const Schema& schema, int struct_index)
    : impl_(std::make_unique<Impl>(schema, struct_index)) {}
JsonRecordParser::~JsonRecordParser() = default;
JsonRecordParser::JsonRecordParser(JsonRecordParser&&) noexcept = default;
JsonRecordParser& JsonRecordParser::operator=(JsonRecordParser&&) noexcept = default;

Result<Value> JsonRecordParser::ParseLine(std::string_view line) { return impl_->ParseLine(line); }

}  // namespace mapfs
