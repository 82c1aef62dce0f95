// ndarray fields of the JSONL reader: nested JSON arrays walked once into
// leaves and a shape, then converted to the dtype (given or inferred).
#include <limits>

#include "json_input_impl.h"
#include "mapfs/text_format.h"

namespace mapfs {

using namespace json_detail;  // NOLINT: this file's own helpers

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
    DTypeInference infer;
    for (const Leaf& leaf : leaves_) {
      bool integer = false;
      if (leaf.kind == Leaf::kBool) {
        infer.AddBool();
      } else if (leaf.kind == Leaf::kWord || (ScanJsonNumber(leaf.text, &integer), !integer)) {
        infer.AddFloat();
      } else if (leaf.text[0] == '-') {
        infer.AddInt(/*negative=*/true, /*above_int64=*/false);
      } else {
        int64_t s;
        uint64_t u;
        infer.AddInt(/*negative=*/false, ParseJsonInt(leaf.text, &s, &u) != IntClass::kSigned);
      }
    }
    std::optional<DType> inferred = infer.Infer();
    if (!inferred) return Fail("ndarray mixes booleans and numbers");
    dtype = *inferred;
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

}  // namespace mapfs
