// The mapfs type system: field types, struct definitions and the schema.
//
// A Schema is an immutable set of struct definitions (docs/schema.md). Types are
// plain values; a struct type refers to its definition by index into the
// schema, so views that hold `const Type*` stay valid as long as the Schema
// they came from.
//
//   MAPFS_ASSIGN_OR_RETURN(Type t, ParseType("dict<str, list<int32>>", resolver));
//   t.ToString();  // "dict<str, list<int32>>"
#ifndef MAPFS_TYPES_H_
#define MAPFS_TYPES_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mapfs/status.h"

namespace mapfs {

enum class TypeKind : uint8_t {
  kInt8, kInt16, kInt32, kInt64,
  kUInt8, kUInt16, kUInt32, kUInt64,
  kFloat32, kFloat64, kBool,
  kBytes, kStr, kDate, kDateTime, kDecimal,
  kList,       // params: [element]
  kTuple,      // params: [T0, T1, ...]; no params = any length of `object`
  kFrozenSet,  // params: [element]
  kDict,       // params: [key, value]
  kNdArray,    // dtype: fixed, or any (recorded per value)
  kStruct,     // struct_index into the Schema
  kObject,     // any value, tagged with its run-time type
};

// Element types of ndarrays. The numeric values are part of the file format.
enum class DType : uint8_t {
  kInt8 = 0, kInt16 = 1, kInt32 = 2, kInt64 = 3,
  kUInt8 = 4, kUInt16 = 5, kUInt32 = 6, kUInt64 = 7,
  kFloat32 = 8, kFloat64 = 9, kBool = 10,
};
constexpr int kDTypeCount = 11;
size_t DTypeSize(DType d);
std::string_view DTypeName(DType d);             // "float32"
std::optional<DType> DTypeFromName(std::string_view name);
std::string_view DTypeNumpyDescr(DType d);       // "<f4", "|b1", ...

// The dtype of an ndarray given without one, from its leaves: all bools make
// bool; any non-integer (or no leaf at all) makes float64; integers make
// int64, or uint64 when some exceed int64 and none is negative. The JSON and
// Python inputs both infer through it, so they agree.
class DTypeInference {
 public:
  void AddBool() { any_bool_ = true; }
  void AddFloat() { any_number_ = any_float_ = true; }
  void AddInt(bool negative, bool above_int64) {
    any_number_ = true;
    any_negative_ |= negative;
    any_big_ |= above_int64;
  }
  // nullopt when the leaves mix booleans and numbers.
  std::optional<DType> Infer() const;

 private:
  bool any_bool_ = false, any_number_ = false, any_float_ = false, any_negative_ = false,
       any_big_ = false;
};

// int8..uint64 (inline: on the field-read hot path).
inline bool IsIntKind(TypeKind k) { return k <= TypeKind::kUInt64; }
inline bool IsSignedIntKind(TypeKind k) { return k <= TypeKind::kInt64; }
// The values an int kind holds: [min, max] as an int64 lower and a uint64
// upper bound, so that every kind fits one comparison (inline: on the
// packing hot path).
struct IntRange {
  int64_t min;
  uint64_t max;
};
inline IntRange IntRangeOf(TypeKind k) {
  switch (k) {
    case TypeKind::kInt8: return {INT8_MIN, INT8_MAX};
    case TypeKind::kInt16: return {INT16_MIN, INT16_MAX};
    case TypeKind::kInt32: return {INT32_MIN, INT32_MAX};
    case TypeKind::kInt64: return {INT64_MIN, INT64_MAX};
    case TypeKind::kUInt8: return {0, UINT8_MAX};
    case TypeKind::kUInt16: return {0, UINT16_MAX};
    case TypeKind::kUInt32: return {0, UINT32_MAX};
    default: return {0, UINT64_MAX};  // kUInt64; callers pass int kinds only
  }
}

bool IsFixedWidthKind(TypeKind k);  // ints, floats, bool, date, datetime
// Width in bytes of a fixed-width kind (0 for the others).
size_t FixedWidth(TypeKind k);

struct Type {
  TypeKind kind = TypeKind::kObject;
  std::vector<Type> params;
  std::optional<DType> dtype;  // kNdArray only; nullopt = any dtype
  int struct_index = -1;       // kStruct only

  static Type Scalar(TypeKind k) { return Type{k, {}, std::nullopt, -1}; }
  static Type Object() { return Scalar(TypeKind::kObject); }
  static Type List(Type elem) { return Type{TypeKind::kList, {std::move(elem)}, std::nullopt, -1}; }
  static Type FrozenSet(Type elem) {
    return Type{TypeKind::kFrozenSet, {std::move(elem)}, std::nullopt, -1};
  }
  static Type Dict(Type k, Type v) {
    return Type{TypeKind::kDict, {std::move(k), std::move(v)}, std::nullopt, -1};
  }
  static Type Tuple(std::vector<Type> elems) {
    return Type{TypeKind::kTuple, std::move(elems), std::nullopt, -1};
  }
  static Type NdArray(std::optional<DType> d) { return Type{TypeKind::kNdArray, {}, d, -1}; }
  static Type Struct(int index) { return Type{TypeKind::kStruct, {}, std::nullopt, index}; }

  // A bare `tuple`: any number of `object` elements.
  bool is_variadic_tuple() const { return kind == TypeKind::kTuple && params.empty(); }

  // The text form used in schema YAML and canonical JSON ("list<str>").
  // `struct_names` maps struct_index to its name.
  std::string ToString(const std::vector<std::string>& struct_names) const;
  bool operator==(const Type& o) const {
    return kind == o.kind && params == o.params && dtype == o.dtype &&
           struct_index == o.struct_index;
  }
};

// Parses the text form of a type. `resolve_struct` maps a struct name to its
// index (or nullopt if unknown). On error the message starts with the 1-based
// column inside `text` as "col N: ..." so callers can turn it into file:line:col.
Result<Type> ParseType(std::string_view text,
                       const std::function<std::optional<int>(std::string_view)>& resolve_struct);

// Name rules shared by Schema::Create and the schema loaders (which report
// them with a position). A struct name is an identifier ([A-Za-z_][A-Za-z0-9_]*)
// that is not a built-in type name, so that type text can refer to it. A field
// name becomes a file name in a mount and a JSON key: valid UTF-8, not empty,
// no '/' or NUL, not "." or "..", not starting with '@' (reserved). Both are
// at most kMaxSchemaNameBytes long: a file name's limit (NAME_MAX), and well
// under YAML's 1024-character limit on a plain mapping key.
constexpr size_t kMaxSchemaNameBytes = 255;
Status CheckStructName(std::string_view name);
Status CheckFieldName(std::string_view name);

struct Field {
  std::string name;
  Type type;
};

// How a struct's fixed part is laid out; computed once per schema (see
// docs/format.md, "Struct"). Field i's slot follows the slots of the present
// fields before it, so its offset is a sum of popcounts over size classes.
struct StructLayout {
  uint32_t bitmap_bytes = 0;                 // presence bitmap, ceil(n/8)
  std::vector<uint8_t> slot_size;            // per field: 1, 2, 4 or 8
  // Per field and size class (1, 2, 4, 8 bytes): mask of the earlier fields of
  // that class in each 64-bit bitmap word. Indexed [field][word * 4 + class].
  std::vector<std::vector<uint64_t>> before_masks;
  // Masks of all fields by size class, per word: [word * 4 + class].
  std::vector<uint64_t> class_masks;
  // The same per field, packed for the one-word case (structs of <= 64 fields)
  // so that reading a field touches one cache line of layout.
  struct Slot {
    uint64_t before[4];  // earlier fields of slot size 1, 2, 4, 8
    uint8_t size;        // this field's slot size
    bool is_inline;      // fixed-width value in the slot (else a ref)
  };
  std::vector<Slot> slots;
};

struct StructDef {
  std::string name;
  std::string typecode;  // empty, or one printable ASCII character
  std::vector<Field> fields;
  std::unordered_map<std::string, int> field_index;
  StructLayout layout;

  std::optional<int> FindField(std::string_view field_name) const;
};

// An immutable, validated set of struct definitions.
class Schema {
 public:
  Schema() = default;

  // Validates and compiles the definitions: unique names, resolvable struct
  // references, valid unique typecodes, no recursion without indirection.
  static Result<Schema> Create(std::vector<StructDef> structs);

  // The canonical JSON form embedded in segment files: no whitespace, structs
  // and fields in definition order, deterministic byte for byte.
  std::string ToCanonicalJson() const;
  static Result<Schema> FromCanonicalJson(std::string_view json);
  // The YAML form of docs/schema.md (what @schema shows).
  std::string ToYaml() const;

  const std::vector<StructDef>& structs() const { return structs_; }
  const StructDef& struct_def(int index) const { return structs_[index]; }
  std::optional<int> FindStruct(std::string_view name) const;
  std::optional<int> FindTypecode(char typecode) const;
  std::string TypeName(const Type& t) const { return t.ToString(struct_names_); }
  // The Type naming struct `index` (stable address for the Schema's lifetime).
  const Type& struct_type(int index) const { return struct_types_[index]; }

 private:
  std::vector<StructDef> structs_;
  std::vector<std::string> struct_names_;
  std::vector<Type> struct_types_;
  int typecode_index_[128] = {};
};

}  // namespace mapfs

#endif  // MAPFS_TYPES_H_
