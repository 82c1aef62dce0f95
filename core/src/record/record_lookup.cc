// The total order on values (set and dict key order) and the lookups that use
// it: dict Find and frozenset Contains, allocation-free for int and str keys.
#include <algorithm>
#include <cstring>

#include "binary_search.h"
#include "mapfs/record.h"
#include "record_format.h"
#include "record_internal.h"

namespace mapfs {

using namespace record_format;  // NOLINT: the codec vocabulary of this file

namespace {

constexpr int64_t kCompareBudget = int64_t{1} << 22;

// A comparison's shared step budget and its first failure: a value that
// cannot be read, or a spent budget. A failed comparison returns "greater"
// to stop the walk; callers that must not guess read `error`.
struct CompareCtx {
  int64_t* budget;
  Status* error;
  int Fail(const Status& st) {
    if (error->ok()) *error = st;
    return 1;
  }
};

int Compare(const View& a, const View& b, CompareCtx* ctx);

// Ranks kinds so that values of different run-time kinds (in `object`) order
// deterministically; ints of every width share one rank.
int KindRank(TypeKind k) {
  if (IsIntKind(k)) return 1;
  switch (k) {
    case TypeKind::kBool: return 0;
    case TypeKind::kFloat32: case TypeKind::kFloat64: return 2;
    case TypeKind::kStr: return 3;
    case TypeKind::kBytes: return 4;
    case TypeKind::kDate: return 5;
    case TypeKind::kDateTime: return 6;
    case TypeKind::kDecimal: return 7;
    case TypeKind::kList: return 8;
    case TypeKind::kTuple: return 9;
    case TypeKind::kFrozenSet: return 10;
    case TypeKind::kDict: return 11;
    case TypeKind::kNdArray: return 12;
    case TypeKind::kStruct: return 13;
    default: return 14;
  }
}

template <typename T>
int Cmp(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

int CompareInts(const View& a, const View& b) {
  bool an = a.is_negative_int(), bn = b.is_negative_int();
  if (an != bn) return an ? -1 : 1;
  if (an) return Cmp(a.as_int(), b.as_int());
  return Cmp(a.as_uint(), b.as_uint());
}

int CompareDecimals(const View& a, const View& b, CompareCtx* ctx) {
  auto da = a.as_decimal();
  auto db = b.as_decimal();
  if (!da.ok()) return ctx->Fail(da.status());
  if (!db.ok()) return ctx->Fail(db.status());
  if (int c = Cmp(static_cast<int>(da->kind), static_cast<int>(db->kind))) return c;
  if (int c = Cmp(da->negative, db->negative)) return c;
  if (int c = Cmp(da->exponent, db->exponent)) return c;
  return Cmp(da->digits, db->digits);
}

// Lexicographic comparison of two indexable sequences given an accessor.
template <typename Get>
int CompareSequences(size_t na, size_t nb, Get get, CompareCtx* ctx) {
  for (size_t i = 0; i < na && i < nb; ++i) {
    auto [ea, eb] = get(i);
    if (!ea.ok()) return ctx->Fail(ea.status());
    if (!eb.ok()) return ctx->Fail(eb.status());
    if (int c = Compare(*ea, *eb, ctx)) return c;
  }
  return Cmp(na, nb);
}

int Compare(const View& a, const View& b, CompareCtx* ctx) {
  if (--*ctx->budget < 0) {
    return ctx->Fail(Status::Corruption("value comparison exceeds its step budget"));
  }
  if (a.is_null() || b.is_null()) return Cmp(!a.is_null(), !b.is_null());
  int ra = KindRank(a.kind()), rb = KindRank(b.kind());
  if (ra != rb) return Cmp(ra, rb);
  switch (a.kind()) {
    case TypeKind::kBool: return Cmp(a.as_bool(), b.as_bool());
    case TypeKind::kFloat32: case TypeKind::kFloat64:
      return Cmp(FloatOrderKey(a.as_float()), FloatOrderKey(b.as_float()));
    case TypeKind::kStr: case TypeKind::kBytes: return Cmp(a.as_bytes(), b.as_bytes());
    case TypeKind::kDate: return Cmp(a.as_date().days, b.as_date().days);
    case TypeKind::kDateTime: return Cmp(a.as_datetime().micros, b.as_datetime().micros);
    case TypeKind::kDecimal: return CompareDecimals(a, b, ctx);
    case TypeKind::kList: case TypeKind::kTuple: case TypeKind::kFrozenSet:
      return CompareSequences(a.size(), b.size(), [&](size_t i) {
        return std::make_pair(a.At(i), b.At(i));
      }, ctx);
    case TypeKind::kDict:
      return CompareSequences(2 * a.size(), 2 * b.size(), [&](size_t i) {
        return i % 2 ? std::make_pair(a.ValueAt(i / 2), b.ValueAt(i / 2))
                     : std::make_pair(a.KeyAt(i / 2), b.KeyAt(i / 2));
      }, ctx);
    case TypeKind::kNdArray: {
      if (int c = Cmp(a.dtype(), b.dtype())) return c;
      if (int c = Cmp(a.ndim(), b.ndim())) return c;
      for (size_t i = 0; i < a.ndim(); ++i) {
        if (int c = Cmp(a.dim(i), b.dim(i))) return c;
      }
      return Cmp(a.ndarray_data(), b.ndarray_data());
    }
    case TypeKind::kStruct: {
      if (int c = Cmp(a.type().struct_index, b.type().struct_index)) return c;
      return CompareSequences(a.size(), b.size(), [&](size_t i) {
        return std::make_pair(a.Field(static_cast<int>(i)), b.Field(static_cast<int>(i)));
      }, ctx);
    }
    default:
      if (IsIntKind(a.kind())) return CompareInts(a, b);
      return 0;
  }
}

}  // namespace

int CompareViewsBudget(const View& a, const View& b, int64_t* budget) {
  Status ignored;
  CompareCtx ctx{budget, &ignored};
  return Compare(a, b, &ctx);
}

int CompareViews(const View& a, const View& b) {
  int64_t budget = kCompareBudget;
  return CompareViewsBudget(a, b, &budget);
}

namespace {

// Compares the stored int at element i (width w, signedness of `t`) with `key`.
int CompareStoredInt(const uint8_t* p, unsigned w, bool is_signed, int64_t key) {
  if (is_signed) return Cmp(LoadSigned(p, w), key);
  if (key < 0) return 1;
  return Cmp(LoadUnsigned(p, w), static_cast<uint64_t>(key));
}

}  // namespace

// Sorted elements of a list body: `body`, `width`, element type `et`.
static Result<std::optional<size_t>> SearchInt(const Type& et, const uint8_t* base, uint32_t body,
                                               uint8_t width, size_t n, int64_t key,
                                               bool* handled) {
  *handled = IsIntKind(et.kind);
  if (!*handled) return std::optional<size_t>();
  bool is_signed = IsSignedIntKind(et.kind);
  return BinarySearch(n, [&](size_t i) -> Result<int> {
    return CompareStoredInt(base + body + static_cast<uint64_t>(i) * width, width, is_signed, key);
  });
}

static Result<std::optional<size_t>> SearchStr(const View& from, const Type& et,
                                               const uint8_t* base, uint32_t body,
                                               size_t n, std::string_view key, bool* handled) {
  *handled = et.kind == TypeKind::kStr || et.kind == TypeKind::kBytes;
  if (!*handled) return std::optional<size_t>();
  return BinarySearch(n, [&](size_t i) -> Result<int> {
    uint32_t ref = LoadLE<uint32_t>(base + body + static_cast<uint64_t>(i) * kRefSize);
    MAPFS_ASSIGN_OR_RETURN(View e, ViewFactory::Follow(from, &et, ref));
    return Cmp(e.as_bytes(), key);
  });
}

// Generic path: pack the probe as a value of the element type, then compare views.
template <typename ElementAt>
static Result<std::optional<size_t>> SearchGeneric(const Schema& schema, const Type& et, size_t n,
                                                   const Value& key, ElementAt at) {
  RecordPacker packer(schema);
  auto packed = packer.PackValue(et, key);
  if (!packed.ok()) return packed.status();
  MAPFS_ASSIGN_OR_RETURN(View probe, ViewValue(schema, et, *packed));
  int64_t budget = kCompareBudget;
  Status error;
  CompareCtx ctx{&budget, &error};
  return BinarySearch(n, [&](size_t i) -> Result<int> {
    MAPFS_ASSIGN_OR_RETURN(View e, at(i));
    const int c = Compare(e, probe, &ctx);
    if (!error.ok()) return error;
    return c;
  });
}

Result<std::optional<View>> View::Find(int64_t int_key) const {
  if (kind() != TypeKind::kDict) return Status::InvalidArgument("Find on a non-dict value");
  bool handled;
  MAPFS_ASSIGN_OR_RETURN(auto index, SearchInt(type_->params[0], base_, body_,
                                               width_, count_, int_key, &handled));
  if (!handled) return Find(Value::Int(int_key));
  if (!index) return std::optional<View>();
  MAPFS_ASSIGN_OR_RETURN(View v, ValueAt(*index));
  return std::optional<View>(v);
}

Result<std::optional<View>> View::Find(std::string_view str_key) const {
  if (kind() != TypeKind::kDict) return Status::InvalidArgument("Find on a non-dict value");
  bool handled;
  MAPFS_ASSIGN_OR_RETURN(auto index, SearchStr(*this, type_->params[0], base_, body_,
                                               count_, str_key, &handled));
  if (!handled) return Find(Value::Str(std::string(str_key)));
  if (!index) return std::optional<View>();
  MAPFS_ASSIGN_OR_RETURN(View v, ValueAt(*index));
  return std::optional<View>(v);
}

Result<std::optional<View>> View::Find(const Value& key) const {
  if (kind() != TypeKind::kDict) return Status::InvalidArgument("Find on a non-dict value");
  const Type& kt = type_->params[0];
  if (IsIntKind(kt.kind) && key.kind() == Value::Kind::kInt) return Find(key.as_int());
  if ((kt.kind == TypeKind::kStr && key.kind() == Value::Kind::kStr) ||
      (kt.kind == TypeKind::kBytes && key.kind() == Value::Kind::kBytes)) {
    bool handled;
    MAPFS_ASSIGN_OR_RETURN(auto index, SearchStr(*this, kt, base_, body_, count_,
                                                 key.text(), &handled));
    if (!index) return std::optional<View>();
    MAPFS_ASSIGN_OR_RETURN(View v, ValueAt(*index));
    return std::optional<View>(v);
  }
  MAPFS_ASSIGN_OR_RETURN(auto index, SearchGeneric(*schema_, kt, count_, key,
                                                   [&](size_t i) { return KeyAt(i); }));
  if (!index) return std::optional<View>();
  MAPFS_ASSIGN_OR_RETURN(View v, ValueAt(*index));
  return std::optional<View>(v);
}

Result<bool> View::Contains(int64_t i) const {
  if (kind() != TypeKind::kFrozenSet) return Status::InvalidArgument("Contains on a non-set value");
  const Type& et = type_->params[0];
  if (aux_ == kSetBitmap) {
    if (!IsSignedIntKind(et.kind) && i < 0) return false;
    // Unsigned arithmetic: the distance from the base may exceed int64.
    uint64_t bit = static_cast<uint64_t>(i) - static_cast<uint64_t>(base_value_);
    if (i < base_value_ || bit >= uint64_t{extent_} * 8) return false;
    return ((base_[body_ + bit / 8] >> (bit % 8)) & 1) != 0;
  }
  bool handled;
  MAPFS_ASSIGN_OR_RETURN(auto index, SearchInt(et, base_, body_, width_, count_,
                                               i, &handled));
  if (!handled) return Contains(Value::Int(i));
  return index.has_value();
}

Result<bool> View::Contains(std::string_view s) const {
  if (kind() != TypeKind::kFrozenSet) return Status::InvalidArgument("Contains on a non-set value");
  const Type& et = type_->params[0];
  if (aux_ == kSetSorted) {
    bool handled;
    MAPFS_ASSIGN_OR_RETURN(auto index, SearchStr(*this, et, base_, body_, count_, s,
                                                 &handled));
    if (handled) return index.has_value();
  }
  return Contains(Value::Str(std::string(s)));
}

Result<bool> View::Contains(const Value& v) const {
  if (kind() != TypeKind::kFrozenSet) return Status::InvalidArgument("Contains on a non-set value");
  const Type& et = type_->params[0];
  if (IsIntKind(et.kind) && v.kind() == Value::Kind::kInt) return Contains(v.as_int());
  if (et.kind == TypeKind::kStr && v.kind() == Value::Kind::kStr) return Contains(v.text());
  if (aux_ == kSetBitmap) {
    if (v.kind() == Value::Kind::kUInt) {
      if (v.as_uint() > static_cast<uint64_t>(INT64_MAX)) return false;
      return Contains(static_cast<int64_t>(v.as_uint()));
    }
    return false;
  }
  MAPFS_ASSIGN_OR_RETURN(auto index, SearchGeneric(*schema_, et, count_, v,
                                                   [&](size_t i) { return At(i); }));
  return index.has_value();
}

}  // namespace mapfs
