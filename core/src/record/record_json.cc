// The JSON rendering of views (design §4): what @json files and `mapfs get` print.
#include <cmath>
#include <string>

#include "mapfs/record.h"
#include "mapfs/text_format.h"
#include "record_format.h"
#include "record_internal.h"

namespace mapfs {

using namespace record_format;  // NOLINT: the codec vocabulary of this file

namespace {

void AppendFloat(std::string* out, double d, bool is_float32) {
  if (std::isnan(d) || std::isinf(d)) {
    *out += std::isnan(d) ? "\"NaN\"" : d > 0 ? "\"Infinity\"" : "\"-Infinity\"";
    return;
  }
  if (is_float32) AppendFloat32(out, static_cast<float>(d)); else AppendDouble(out, d);
}

void AppendNdArrayElement(std::string* out, DType dtype, const uint8_t* p) {
  switch (dtype) {
    case DType::kInt8: *out += std::to_string(LoadSigned(p, 1)); break;
    case DType::kInt16: *out += std::to_string(LoadSigned(p, 2)); break;
    case DType::kInt32: *out += std::to_string(LoadSigned(p, 4)); break;
    case DType::kInt64: *out += std::to_string(LoadSigned(p, 8)); break;
    case DType::kUInt8: *out += std::to_string(LoadUnsigned(p, 1)); break;
    case DType::kUInt16: *out += std::to_string(LoadUnsigned(p, 2)); break;
    case DType::kUInt32: *out += std::to_string(LoadUnsigned(p, 4)); break;
    case DType::kUInt64: *out += std::to_string(LoadUnsigned(p, 8)); break;
    case DType::kFloat32: AppendFloat(out, LoadLE<float>(p), true); break;
    case DType::kFloat64: AppendFloat(out, LoadLE<double>(p), false); break;
    case DType::kBool: *out += *p ? "true" : "false"; break;
  }
}

// Nested arrays over the C-order data, dimension by dimension.
void AppendNdArray(std::string* out, const View& v, size_t dim, const uint8_t** p) {
  if (dim == v.ndim()) {
    AppendNdArrayElement(out, v.dtype(), *p);
    *p += DTypeSize(v.dtype());
    return;
  }
  out->push_back('[');
  uint64_t n = v.dim(dim);
  for (uint64_t i = 0; i < n; ++i) {
    if (i) out->push_back(',');
    AppendNdArray(out, v, dim + 1, p);
  }
  // An empty dimension still spans its sub-arrays' zero bytes: nothing to skip.
  out->push_back(']');
}

Status AppendJson(std::string* out, const View& v);

// A dict key as a JSON object member name: strings as they are, everything
// else as its text form (ints, floats, dates...) or compact JSON (containers).
Status AppendKey(std::string* out, const View& k) {
  if (!k.is_null() && (k.kind() == TypeKind::kStr)) {
    AppendJsonString(out, k.as_str());
    return Status::OK();
  }
  std::string text;
  MAPFS_RETURN_IF_ERROR(AppendJson(&text, k));
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    *out += text;  // already a JSON string (bytes, dates, decimals, NaN)
  } else {
    AppendJsonString(out, text);
  }
  return Status::OK();
}

Status AppendJson(std::string* out, const View& v) {
  if (v.is_null()) {
    *out += "null";
    return Status::OK();
  }
  TypeKind k = v.kind();
  if (IsIntKind(k)) {
    *out += v.is_negative_int() ? std::to_string(v.as_int()) : std::to_string(v.as_uint());
    return Status::OK();
  }
  switch (k) {
    case TypeKind::kBool: *out += v.as_bool() ? "true" : "false"; break;
    case TypeKind::kFloat32: AppendFloat(out, v.as_float32(), true); break;
    case TypeKind::kFloat64: AppendFloat(out, v.as_float(), false); break;
    case TypeKind::kStr: AppendJsonString(out, v.as_str()); break;
    case TypeKind::kBytes:
      out->push_back('"');
      AppendBase64(out, v.as_bytes());
      out->push_back('"');
      break;
    case TypeKind::kDate: AppendJsonString(out, v.as_date().ToString()); break;
    case TypeKind::kDateTime: AppendJsonString(out, v.as_datetime().ToString()); break;
    case TypeKind::kDecimal: {
      MAPFS_ASSIGN_OR_RETURN(Decimal d, v.as_decimal());
      AppendJsonString(out, d.ToString());
      break;
    }
    case TypeKind::kList: case TypeKind::kTuple: case TypeKind::kFrozenSet: {
      out->push_back('[');
      for (size_t i = 0; i < v.size(); ++i) {
        if (i) out->push_back(',');
        MAPFS_ASSIGN_OR_RETURN(View e, v.At(i));
        MAPFS_RETURN_IF_ERROR(AppendJson(out, e));
      }
      out->push_back(']');
      break;
    }
    case TypeKind::kDict: {
      out->push_back('{');
      for (size_t i = 0; i < v.size(); ++i) {
        if (i) out->push_back(',');
        MAPFS_ASSIGN_OR_RETURN(View key, v.KeyAt(i));
        MAPFS_RETURN_IF_ERROR(AppendKey(out, key));
        out->push_back(':');
        MAPFS_ASSIGN_OR_RETURN(View val, v.ValueAt(i));
        MAPFS_RETURN_IF_ERROR(AppendJson(out, val));
      }
      out->push_back('}');
      break;
    }
    case TypeKind::kStruct: {
      const StructDef& def = v.struct_def();
      out->push_back('{');
      for (size_t i = 0; i < def.fields.size(); ++i) {
        if (i) out->push_back(',');
        AppendJsonString(out, def.fields[i].name);
        out->push_back(':');
        MAPFS_ASSIGN_OR_RETURN(View f, v.Field(static_cast<int>(i)));
        MAPFS_RETURN_IF_ERROR(AppendJson(out, f));
      }
      out->push_back('}');
      break;
    }
    case TypeKind::kNdArray: {
      const uint8_t* p = reinterpret_cast<const uint8_t*>(v.ndarray_data().data());
      AppendNdArray(out, v, 0, &p);
      break;
    }
    default:
      return Status::Corruption("unexpected type in a record");
  }
  return Status::OK();
}

}  // namespace

Status RenderJson(const View& v, std::string* out) {
  MAPFS_RETURN_IF_ERROR(Verify(v));
  return AppendJson(out, v);
}

}  // namespace mapfs
