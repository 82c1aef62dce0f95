// Owned values: what callers build records from, and what Materialize returns.
//
// A Value is a tree of plain C++ data. It is dynamically typed; packing checks
// it against a schema Type (an int for an int8 field must fit, a struct must
// name known fields). Not thread-safe for mutation; copies are deep.
//
//   Value person = Value::Struct("Person", {{"id", Value::Int(7)},
//                                           {"name", Value::Str("Ada")}});
#ifndef MAPFS_VALUE_H_
#define MAPFS_VALUE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mapfs/status.h"
#include "mapfs/types.h"

namespace mapfs {

// A calendar date as days since 1970-01-01 (proleptic Gregorian).
struct Date {
  int32_t days = 0;
  static Result<Date> FromYmd(int year, int month, int day);  // year 1..9999
  static Result<Date> Parse(std::string_view iso);             // "YYYY-MM-DD"
  void ToYmd(int* year, int* month, int* day) const;
  std::string ToString() const;
  bool operator==(const Date&) const = default;
};

// A UTC instant as microseconds since 1970-01-01T00:00:00Z.
struct DateTime {
  int64_t micros = 0;
  // ISO 8601; an offset is converted to UTC, a naive time is taken as UTC.
  static Result<DateTime> Parse(std::string_view iso);
  // "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" (fraction only when non-zero).
  std::string ToString() const;
  bool operator==(const DateTime&) const = default;
};

// An exact decimal number: (-1)^negative * digits * 10^exponent, keeping the
// digits it was written with ("1.50" keeps its trailing zero), like Python's
// decimal.Decimal. Also Infinity and NaN.
struct Decimal {
  enum class Kind : uint8_t { kFinite = 0, kInfinity = 1, kNaN = 2 };
  Kind kind = Kind::kFinite;
  bool negative = false;
  std::string digits = "0";  // ASCII digits, no leading zeros unless "0"
  int64_t exponent = 0;

  static Result<Decimal> Parse(std::string_view text);
  // Python's str(Decimal): scientific notation only for large or tiny exponents.
  std::string ToString() const;
  bool operator==(const Decimal&) const = default;
};

struct NdArray {
  DType dtype = DType::kFloat64;
  std::vector<uint64_t> shape;  // empty = 0-d (one element)
  std::string data;             // little-endian elements, C order
  uint64_t element_count() const;
  bool operator==(const NdArray&) const = default;
};

class Value {
 public:
  enum class Kind : uint8_t {
    kNull, kBool, kInt, kUInt, kFloat, kStr, kBytes, kDate, kDateTime, kDecimal,
    kList, kTuple, kFrozenSet, kDict, kStruct, kNdArray,
  };

  Value() = default;  // null
  static Value Null() { return Value(); }
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value UInt(uint64_t u);
  static Value Float(double f);
  static Value Str(std::string s);
  static Value Bytes(std::string b);
  static Value FromDate(Date d);
  static Value FromDateTime(DateTime dt);
  static Value FromDecimal(Decimal d);
  static Value List(std::vector<Value> items);
  static Value Tuple(std::vector<Value> items);
  static Value FrozenSet(std::vector<Value> items);  // duplicates are dropped at pack
  static Value Dict(std::vector<std::pair<Value, Value>> items);
  // `type_name` names the struct definition (it picks the typecode when the
  // struct is stored in an `object` field). Absent fields are simply omitted.
  static Value Struct(std::string type_name, std::vector<std::pair<std::string, Value>> fields);
  // The same from the names and values side by side (names[i] names
  // values[i]), kept as they are: no per-field move. Of unequal lists, the
  // longer one's extra entries are dropped.
  static Value Struct(std::string type_name, std::vector<std::string> names,
                      std::vector<Value> values);
  static Value FromNdArray(NdArray a);

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool as_bool() const { return scalar_.b; }
  int64_t as_int() const { return scalar_.i; }
  uint64_t as_uint() const { return scalar_.u; }
  double as_float() const { return scalar_.f; }
  Date as_date() const { return Date{static_cast<int32_t>(scalar_.i)}; }
  DateTime as_datetime() const { return DateTime{scalar_.i}; }
  const Decimal& as_decimal() const { return decimal_; }
  // str and bytes contents; the struct's type name for kStruct.
  const std::string& text() const { return text_; }
  // Elements of list, tuple and frozenset; dict as key, value, key, value...;
  // struct field values (parallel to field_names()).
  const std::vector<Value>& items() const { return items_; }
  std::vector<Value>& mutable_items() { return items_; }
  size_t dict_size() const { return items_.size() / 2; }
  const Value& dict_key(size_t i) const { return items_[2 * i]; }
  const Value& dict_value(size_t i) const { return items_[2 * i + 1]; }
  const std::vector<std::string>& field_names() const { return names_; }
  // The value of a struct field, or nullptr if absent.
  const Value* FindField(std::string_view name) const;
  const NdArray& ndarray() const { return ndarray_; }

  // Structural equality; floats compare bitwise (NaN equals NaN, -0.0 != 0.0)
  // so round-trip tests are exact.
  bool operator==(const Value& o) const;

  // A readable debug form, not JSON.
  std::string DebugString() const;

 private:
  Kind kind_ = Kind::kNull;
  union {
    bool b;
    int64_t i;
    uint64_t u;
    double f;
  } scalar_{};
  std::string text_;
  std::vector<Value> items_;
  std::vector<std::string> names_;
  Decimal decimal_;
  NdArray ndarray_;
};

}  // namespace mapfs

#endif  // MAPFS_VALUE_H_
