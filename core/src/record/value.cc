// The owned Value model: constructors, equality and a debug form.
#include "mapfs/value.h"

#include <algorithm>
#include <cstring>

namespace mapfs {

uint64_t NdArray::element_count() const {
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  return n;
}

Value Value::Bool(bool b) { Value v; v.kind_ = Kind::kBool; v.scalar_.b = b; return v; }
Value Value::Int(int64_t i) { Value v; v.kind_ = Kind::kInt; v.scalar_.i = i; return v; }
Value Value::UInt(uint64_t u) { Value v; v.kind_ = Kind::kUInt; v.scalar_.u = u; return v; }
Value Value::Float(double f) { Value v; v.kind_ = Kind::kFloat; v.scalar_.f = f; return v; }
Value Value::Str(std::string s) { Value v; v.kind_ = Kind::kStr; v.text_ = std::move(s); return v; }
Value Value::Bytes(std::string b) {
  Value v; v.kind_ = Kind::kBytes; v.text_ = std::move(b); return v;
}
Value Value::FromDate(Date d) { Value v; v.kind_ = Kind::kDate; v.scalar_.i = d.days; return v; }
Value Value::FromDateTime(DateTime dt) {
  Value v; v.kind_ = Kind::kDateTime; v.scalar_.i = dt.micros; return v;
}
Value Value::FromDecimal(Decimal d) {
  Value v; v.kind_ = Kind::kDecimal; v.decimal_ = std::move(d); return v;
}
Value Value::List(std::vector<Value> items) {
  Value v; v.kind_ = Kind::kList; v.items_ = std::move(items); return v;
}
Value Value::Tuple(std::vector<Value> items) {
  Value v; v.kind_ = Kind::kTuple; v.items_ = std::move(items); return v;
}
Value Value::FrozenSet(std::vector<Value> items) {
  Value v; v.kind_ = Kind::kFrozenSet; v.items_ = std::move(items); return v;
}
Value Value::Dict(std::vector<std::pair<Value, Value>> items) {
  Value v;
  v.kind_ = Kind::kDict;
  v.items_.reserve(items.size() * 2);
  for (auto& [k, val] : items) {
    v.items_.push_back(std::move(k));
    v.items_.push_back(std::move(val));
  }
  return v;
}
Value Value::Struct(std::string type_name, std::vector<std::pair<std::string, Value>> fields) {
  Value v;
  v.kind_ = Kind::kStruct;
  v.text_ = std::move(type_name);
  v.names_.reserve(fields.size());
  v.items_.reserve(fields.size());
  for (auto& [name, val] : fields) {
    v.names_.push_back(std::move(name));
    v.items_.push_back(std::move(val));
  }
  return v;
}
Value Value::Struct(std::string type_name, std::vector<std::string> names,
                    std::vector<Value> values) {
  const size_t fields = std::min(names.size(), values.size());
  names.resize(fields);
  values.resize(fields);
  Value v;
  v.kind_ = Kind::kStruct;
  v.text_ = std::move(type_name);
  v.names_ = std::move(names);
  v.items_ = std::move(values);
  return v;
}
Value Value::FromNdArray(NdArray a) {
  Value v; v.kind_ = Kind::kNdArray; v.ndarray_ = std::move(a); return v;
}

const Value* Value::FindField(std::string_view name) const {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return &items_[i];
  }
  return nullptr;
}

bool Value::operator==(const Value& o) const {
  if (kind_ != o.kind_) return false;
  switch (kind_) {
    case Kind::kNull: return true;
    case Kind::kBool: return scalar_.b == o.scalar_.b;
    case Kind::kInt: case Kind::kDate: case Kind::kDateTime: return scalar_.i == o.scalar_.i;
    case Kind::kUInt: return scalar_.u == o.scalar_.u;
    case Kind::kFloat: return std::memcmp(&scalar_.f, &o.scalar_.f, sizeof(double)) == 0;
    case Kind::kStr: case Kind::kBytes: return text_ == o.text_;
    case Kind::kDecimal: return decimal_ == o.decimal_;
    case Kind::kList: case Kind::kTuple: case Kind::kFrozenSet: case Kind::kDict:
      return items_ == o.items_;
    case Kind::kStruct: return text_ == o.text_ && names_ == o.names_ && items_ == o.items_;
    case Kind::kNdArray: return ndarray_ == o.ndarray_;
  }
  return false;
}

std::string Value::DebugString() const {
  switch (kind_) {
    case Kind::kNull: return "null";
    case Kind::kBool: return scalar_.b ? "true" : "false";
    case Kind::kInt: return std::to_string(scalar_.i);
    case Kind::kUInt: return std::to_string(scalar_.u) + "u";
    case Kind::kFloat: return std::to_string(scalar_.f);
    case Kind::kStr: return "'" + text_ + "'";
    case Kind::kBytes: return "b'" + text_ + "'";
    case Kind::kDate: return "date(" + std::to_string(scalar_.i) + ")";
    case Kind::kDateTime: return "datetime(" + std::to_string(scalar_.i) + ")";
    case Kind::kDecimal:
      return std::string("decimal(") + (decimal_.negative ? "-" : "") + decimal_.digits + "e" +
             std::to_string(decimal_.exponent) + ")";
    case Kind::kNdArray: {
      std::string s = "ndarray(" + std::string(DTypeName(ndarray_.dtype)) + ", (";
      for (uint64_t d : ndarray_.shape) s += std::to_string(d) + ",";
      return s + "))";
    }
    case Kind::kStruct: {
      std::string s = text_ + "{";
      for (size_t i = 0; i < items_.size(); ++i) {
        if (i) s += ", ";
        s += names_[i] + ": " + items_[i].DebugString();
      }
      return s + "}";
    }
    default: {
      const char* open = kind_ == Kind::kList ? "[" : kind_ == Kind::kTuple ? "(" : "{";
      const char* close = kind_ == Kind::kList ? "]" : kind_ == Kind::kTuple ? ")" : "}";
      std::string s = open;
      for (size_t i = 0; i < items_.size(); ++i) {
        if (i) s += kind_ == Kind::kDict && i % 2 ? ": " : ", ";
        s += items_[i].DebugString();
      }
      return s + close;
    }
  }
}

}  // namespace mapfs
