// Whole-value walks over views: Verify (prove a value well-formed, in linear
// work) and Materialize (an owned copy).
#include <algorithm>
#include <bit>
#include <unordered_map>
#include <unordered_set>

#include "mapfs/record.h"
#include "mapfs/text_format.h"
#include "record_format.h"
#include "record_internal.h"

namespace mapfs {

using namespace record_format;  // NOLINT: the codec vocabulary of this file

namespace {

constexpr int32_t kMinDateDays = -719162;   // 0001-01-01
constexpr int32_t kMaxDateDays = 2932896;   // 9999-12-31
constexpr int64_t kMicrosPerDay = 86400LL * 1000000;

Status Corrupt(uint32_t pos, const std::string& what) {
  return Status::Corruption("record offset " + std::to_string(pos) + ": " + what);
}

// Work bounds: each record walked (the root's, and the record of each
// referenced value) visits at most its size + 64 values of its own, which a
// tree-shaped record never exceeds; a value reached through a reference counts
// for every value it expands to, and a record expands to at most what a
// standalone record may hold (kMaxRecordSize + 64 values).
constexpr int64_t kMaxExpandedVisits = int64_t{kMaxRecordSize} + 64;

class Verifier {
 public:
  // The walk of one record: its own budget, and what it expands to.
  struct Frame {
    const uint8_t* base;
    int64_t budget;
    int64_t expanded = 0;
    int max_depth = 0;  // the deepest value reached, references expanded
  };
  // What walking a referenced value found.
  struct Checked {
    int64_t expanded;  // -1 while it is being walked
    int height;        // nesting below it
  };

  Status VerifyRoot(const View& v) {
    checked_strings_.clear();
    compare_budget_ = int64_t{1} << 24;
    Frame f{ViewFactory::base(v), int64_t{ViewFactory::size(v)} + 64};
    frame_ = &f;
    Status st = Visit(v, 0);
    frame_ = nullptr;
    return st;
  }

  Status Visit(const View& v, int depth) {
    if (v.is_null()) return Status::OK();
    if (depth > kMaxDepth) return Corrupt(v.offset(), "nested deeper than " + std::to_string(kMaxDepth));
    if (ViewFactory::base(v) != frame_->base) return VisitReferenced(v, depth);
    if (--frame_->budget < 0) return Corrupt(v.offset(), "values shared more than the record size allows");
    if (++frame_->expanded > kMaxExpandedVisits) {
      return Corrupt(v.offset(), "references expand to more than a record may hold");
    }
    frame_->max_depth = std::max(frame_->max_depth, depth);
    switch (v.kind()) {
      case TypeKind::kBool:
        if (ViewFactory::width(v) != 0 && ViewFactory::base(v)[v.offset()] > 1) {
          return Corrupt(v.offset(), "bool is neither 0 nor 1");
        }
        return Status::OK();
      case TypeKind::kDate: {
        int32_t d = v.as_date().days;
        if (d < kMinDateDays || d > kMaxDateDays) return Corrupt(v.offset(), "date out of range");
        return Status::OK();
      }
      case TypeKind::kDateTime: {
        int64_t us = v.as_datetime().micros;
        if (us < kMinDateDays * kMicrosPerDay || us >= (kMaxDateDays + 1LL) * kMicrosPerDay) {
          return Corrupt(v.offset(), "datetime out of range");
        }
        return Status::OK();
      }
      case TypeKind::kStr:
        // A str shared by many refs is checked once.
        if (v.size() > 64 &&
            !checked_strings_.insert(ViewFactory::base(v) + v.offset()).second) {
          return Status::OK();
        }
        if (!IsValidUtf8(v.as_str())) return Corrupt(v.offset(), "str is not valid UTF-8");
        return Status::OK();
      case TypeKind::kDecimal: {
        auto d = v.as_decimal();
        return d.ok() ? Status::OK() : d.status();
      }
      case TypeKind::kList:
      case TypeKind::kTuple:
        return VisitElements(v, depth);
      case TypeKind::kFrozenSet:
        return VisitSet(v, depth);
      case TypeKind::kDict:
        return VisitDict(v, depth);
      case TypeKind::kStruct:
        return VisitStruct(v, depth);
      case TypeKind::kNdArray:
        if (v.dtype() == DType::kBool) {
          for (char c : v.ndarray_data()) {
            if (static_cast<uint8_t>(c) > 1) return Corrupt(v.offset(), "ndarray bool is neither 0 nor 1");
          }
        }
        return Status::OK();
      default:
        return Status::OK();  // ints, floats, bytes: any bits are valid
    }
  }

 private:
  // A value another record holds, reached through a value reference (its
  // bounds and backward direction were checked when the view was made): it
  // must be a well-formed value of the type the reference's place expects.
  // Each (place, type) is walked once per verifier; later references to it
  // cost a lookup plus its remembered expansion.
  Status VisitReferenced(const View& v, int depth) {
    const Key key{ViewFactory::base(v) + v.offset(), &v.type()};
    auto it = checked_targets_.find(key);
    Checked c;
    if (it != checked_targets_.end()) {
      c = it->second;
      if (c.expanded < 0) return Corrupt(v.offset(), "value references form a cycle");
    } else {
      checked_targets_.emplace(key, Checked{-1, 0});
      Frame target{ViewFactory::base(v), int64_t{ViewFactory::size(v)} + 64, 0, depth};
      Frame* saved = frame_;
      frame_ = &target;
      Status st = Visit(v, depth);
      frame_ = saved;
      if (!st.ok()) return Status::Corruption("referenced value: " + st.message());
      c = Checked{target.expanded, target.max_depth - depth};
      checked_targets_[key] = c;
    }
    // Reading the value nests as deep as its expansion: Materialize and
    // RenderJson recurse through references.
    if (depth + c.height > kMaxDepth) {
      return Corrupt(v.offset(), "nested deeper than " + std::to_string(kMaxDepth));
    }
    frame_->max_depth = std::max(frame_->max_depth, depth + c.height);
    frame_->expanded += c.expanded;
    if (frame_->expanded > kMaxExpandedVisits) {
      return Corrupt(v.offset(), "references expand to more than a record may hold");
    }
    return Status::OK();
  }

  Status VisitElements(const View& v, int depth) {
    for (size_t i = 0; i < v.size(); ++i) {
      MAPFS_ASSIGN_OR_RETURN(View e, v.At(i));
      MAPFS_RETURN_IF_ERROR(Visit(e, depth + 1));
    }
    return Status::OK();
  }

  Status VisitSet(const View& v, int depth) {
    if (ViewFactory::aux(v) == kSetBitmap) {
      const uint8_t* bits = ViewFactory::base(v) + ViewFactory::body(v);
      uint64_t ones = 0;
      for (uint32_t i = 0; i < ViewFactory::extent(v); ++i) ones += std::popcount(bits[i]);
      if (ones != v.size()) return Corrupt(v.offset(), "frozenset bitmap count mismatch");
      // Every member must fit the element type: check the smallest and largest.
      const uint8_t* end = bits + ViewFactory::extent(v);
      while (end > bits && end[-1] == 0) --end;
      if (end == bits) return Status::OK();
      __int128 base = ViewFactory::base_value(v);
      __int128 highest = base + (end - bits - 1) * 8 + (7 - std::countl_zero(end[-1]));
      IntRange range = IntRangeOf(v.type().params[0].kind);
      if (base < range.min || highest > static_cast<__int128>(range.max)) {
        return Corrupt(v.offset(), "frozenset bitmap outside the element range");
      }
      return Status::OK();
    }
    MAPFS_RETURN_IF_ERROR(VisitElements(v, depth));
    return CheckSortedUnique(v.size(), [&](size_t i) { return v.At(i); }, v.offset());
  }

  Status VisitDict(const View& v, int depth) {
    for (size_t i = 0; i < v.size(); ++i) {
      MAPFS_ASSIGN_OR_RETURN(View k, v.KeyAt(i));
      MAPFS_RETURN_IF_ERROR(Visit(k, depth + 1));
      MAPFS_ASSIGN_OR_RETURN(View val, v.ValueAt(i));
      MAPFS_RETURN_IF_ERROR(Visit(val, depth + 1));
    }
    return CheckSortedUnique(v.size(), [&](size_t i) { return v.KeyAt(i); }, v.offset());
  }

  template <typename Get>
  Status CheckSortedUnique(size_t n, Get get, uint32_t where) {
    for (size_t i = 1; i < n; ++i) {
      MAPFS_ASSIGN_OR_RETURN(View a, get(i - 1));
      MAPFS_ASSIGN_OR_RETURN(View b, get(i));
      if (CompareViewsBudget(a, b, &compare_budget_) >= 0) {
        return Corrupt(where, "elements not sorted and unique");
      }
    }
    return Status::OK();
  }

  Status VisitStruct(const View& v, int depth) {
    const StructDef& def = v.struct_def();
    size_t n = def.fields.size();
    const uint8_t* bitmap = ViewFactory::base(v) + v.offset();
    for (size_t bit = n; bit < def.layout.bitmap_bytes * 8; ++bit) {
      if (bitmap[bit / 8] & (1u << (bit % 8))) return Corrupt(v.offset(), "presence bit of no field");
    }
    for (size_t i = 0; i < n; ++i) {
      MAPFS_ASSIGN_OR_RETURN(View f, v.Field(static_cast<int>(i)));
      MAPFS_RETURN_IF_ERROR(Visit(f, depth + 1));
    }
    return Status::OK();
  }

  struct Key {
    const uint8_t* at;
    const Type* type;
    bool operator==(const Key& o) const { return at == o.at && type == o.type; }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return std::hash<const void*>()(k.at) ^ (std::hash<const void*>()(k.type) << 1);
    }
  };

  Frame* frame_ = nullptr;
  int64_t compare_budget_ = int64_t{1} << 24;
  std::unordered_set<const uint8_t*> checked_strings_;
  // Referenced values already walked.
  std::unordered_map<Key, Checked, KeyHash> checked_targets_;
};

Result<Value> MaterializeVerified(const View& v) {
  if (v.is_null()) return Value::Null();
  TypeKind k = v.kind();
  if (IsIntKind(k)) {
    if (IsSignedIntKind(k) || v.as_uint() <= static_cast<uint64_t>(INT64_MAX)) {
      return Value::Int(v.as_int());
    }
    return Value::UInt(v.as_uint());
  }
  switch (k) {
    case TypeKind::kBool: return Value::Bool(v.as_bool());
    case TypeKind::kFloat32: case TypeKind::kFloat64: return Value::Float(v.as_float());
    case TypeKind::kStr: return Value::Str(std::string(v.as_str()));
    case TypeKind::kBytes: return Value::Bytes(std::string(v.as_bytes()));
    case TypeKind::kDate: return Value::FromDate(v.as_date());
    case TypeKind::kDateTime: return Value::FromDateTime(v.as_datetime());
    case TypeKind::kDecimal: {
      MAPFS_ASSIGN_OR_RETURN(Decimal d, v.as_decimal());
      return Value::FromDecimal(std::move(d));
    }
    case TypeKind::kList: case TypeKind::kTuple: case TypeKind::kFrozenSet: {
      std::vector<Value> items;
      items.reserve(v.size());
      for (size_t i = 0; i < v.size(); ++i) {
        MAPFS_ASSIGN_OR_RETURN(View e, v.At(i));
        MAPFS_ASSIGN_OR_RETURN(Value item, MaterializeVerified(e));
        items.push_back(std::move(item));
      }
      if (k == TypeKind::kList) return Value::List(std::move(items));
      if (k == TypeKind::kTuple) return Value::Tuple(std::move(items));
      return Value::FrozenSet(std::move(items));
    }
    case TypeKind::kDict: {
      std::vector<std::pair<Value, Value>> items;
      items.reserve(v.size());
      for (size_t i = 0; i < v.size(); ++i) {
        MAPFS_ASSIGN_OR_RETURN(View kv, v.KeyAt(i));
        MAPFS_ASSIGN_OR_RETURN(View vv, v.ValueAt(i));
        MAPFS_ASSIGN_OR_RETURN(Value key, MaterializeVerified(kv));
        MAPFS_ASSIGN_OR_RETURN(Value val, MaterializeVerified(vv));
        items.emplace_back(std::move(key), std::move(val));
      }
      return Value::Dict(std::move(items));
    }
    case TypeKind::kStruct: {
      const StructDef& def = v.struct_def();
      std::vector<std::pair<std::string, Value>> fields;
      for (size_t i = 0; i < def.fields.size(); ++i) {
        MAPFS_ASSIGN_OR_RETURN(View f, v.Field(static_cast<int>(i)));
        if (f.is_null()) continue;
        MAPFS_ASSIGN_OR_RETURN(Value val, MaterializeVerified(f));
        fields.emplace_back(def.fields[i].name, std::move(val));
      }
      return Value::Struct(def.name, std::move(fields));
    }
    case TypeKind::kNdArray: {
      NdArray a;
      a.dtype = v.dtype();
      for (size_t i = 0; i < v.ndim(); ++i) a.shape.push_back(v.dim(i));
      a.data = std::string(v.ndarray_data());
      return Value::FromNdArray(std::move(a));
    }
    default:
      return Status::Corruption("unexpected type in a record");
  }
}

}  // namespace

Status Verify(const View& v) {
  if (v.is_null()) return Status::OK();
  Verifier verifier;
  return verifier.VerifyRoot(v);
}

class RecordVerifier::Impl {
 public:
  Verifier verifier;
};

RecordVerifier::RecordVerifier() : impl_(std::make_unique<Impl>()) {}
RecordVerifier::~RecordVerifier() = default;

Status RecordVerifier::Verify(const View& v) {
  if (v.is_null()) return Status::OK();
  return impl_->verifier.VerifyRoot(v);
}

Result<Value> Materialize(const View& v) {
  MAPFS_RETURN_IF_ERROR(Verify(v));
  return MaterializeVerified(v);
}

}  // namespace mapfs
