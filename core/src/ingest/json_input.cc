// JSONL lines to struct Values (json_input.h), on simdjson's On-Demand API.
//
// On-Demand lets each value be read as the schema asks, and exposes the raw
// text of number tokens, which decimal needs (0.1 must stay 0.1) and which we
// parse ourselves for exact integer range checks and correctly rounded
// float32. It is lazy: syntax errors surface at the access that meets them,
// so every access is checked; and since every value of a line is read
// (unknown fields are errors), nothing in the line goes unvalidated.
#include "mapfs/json_input.h"

#include <charconv>
#include <cstring>
#include <limits>

#include "json_input_impl.h"
#include "mapfs/text_format.h"

namespace mapfs {

using namespace json_detail;  // NOLINT: this file's own helpers

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
  // Names and values side by side, not as pairs: the Value takes both
  // vectors as they are, with no copy of the fields into it.
  std::vector<std::string> names;
  std::vector<Value> values;
  names.reserve(nfields);
  values.reserve(nfields);
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
    names.push_back(def.fields[index].name);
    values.emplace_back();
    if (!ParseTyped(v, def.fields[index].type, depth, &values.back())) {
      return PushPath("." + def.fields[index].name);
    }
  }
  if (!in_order) {  // rare: lines usually list fields in one order
    std::vector<std::pair<std::string, Value>> fields;
    fields.reserve(names.size());
    for (size_t i = 0; i < names.size(); ++i) {
      fields.emplace_back(std::move(names[i]), std::move(values[i]));
    }
    std::sort(fields.begin(), fields.end(), [&](const auto& a, const auto& b) {
      return FindField(struct_index, a.first) < FindField(struct_index, b.first);
    });
    *out = Value::Struct(def.name, std::move(fields));
    return true;
  }
  *out = Value::Struct(def.name, std::move(names), std::move(values));
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

JsonRecordParser::JsonRecordParser(const Schema& schema, int struct_index)
    : impl_(std::make_unique<Impl>(schema, struct_index)) {}
JsonRecordParser::~JsonRecordParser() = default;
JsonRecordParser::JsonRecordParser(JsonRecordParser&&) noexcept = default;
JsonRecordParser& JsonRecordParser::operator=(JsonRecordParser&&) noexcept = default;

Result<Value> JsonRecordParser::ParseLine(std::string_view line) { return impl_->ParseLine(line); }

}  // namespace mapfs
