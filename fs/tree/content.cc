// File contents of mounted values; the formats are docs/layout.md's ("Field files").
#include "content.h"

#include <cinttypes>
#include <cstdio>
#include <optional>

#include <xxhash.h>

#include "mapfs/text_format.h"

namespace mapfs::fs {

bool IsDirectoryValue(const View& v) {
  if (v.is_null()) return false;
  switch (v.kind()) {
    case TypeKind::kStruct:
    case TypeKind::kList:
    case TypeKind::kTuple:
    case TypeKind::kFrozenSet:
    case TypeKind::kDict:
      return true;
    default:
      return false;
  }
}

FileForm FileFormOf(const View& v) {
  switch (v.kind()) {
    case TypeKind::kStr:
    case TypeKind::kBytes:
      return FileForm::kRaw;
    case TypeKind::kNdArray:
      return FileForm::kNdArray;
    default:
      return FileForm::kText;
  }
}

namespace {

// The scalar text shared by field files and key names (no newline).
Status AppendScalarText(const View& v, std::string* out) {
  const TypeKind k = v.kind();
  if (IsIntKind(k)) {
    *out += v.is_negative_int() ? std::to_string(v.as_int()) : std::to_string(v.as_uint());
    return Status::OK();
  }
  switch (k) {
    case TypeKind::kFloat32: AppendFloat32(out, v.as_float32()); break;
    case TypeKind::kFloat64: AppendDouble(out, v.as_float()); break;
    case TypeKind::kBool: *out += v.as_bool() ? "true" : "false"; break;
    case TypeKind::kDate: *out += v.as_date().ToString(); break;
    case TypeKind::kDateTime: *out += v.as_datetime().ToString(); break;
    case TypeKind::kDecimal: {
      MAPFS_ASSIGN_OR_RETURN(Decimal d, v.as_decimal());
      *out += d.ToString();
      break;
    }
    default:
      return Status::Corruption("not a scalar value");
  }
  return Status::OK();
}

uint64_t DecimalDigits(uint64_t v) {
  uint64_t n = 1;
  for (; v >= 10; v /= 10) ++n;
  return n;
}

}  // namespace

std::optional<uint64_t> TextSizeOf(const View& v) {
  const TypeKind k = v.kind();
  if (IsIntKind(k)) {
    if (!v.is_negative_int()) return DecimalDigits(v.as_uint());
    // -(v + 1) + 1 is |v| without overflowing at INT64_MIN.
    return 1 + DecimalDigits(static_cast<uint64_t>(-(v.as_int() + 1)) + 1);
  }
  switch (k) {
    case TypeKind::kBool:
      return v.as_bool() ? 4 : 5;
    case TypeKind::kDate: {
      // YYYY-MM-DD for years 0..9999; other years take their own width.
      int y, m, d;
      v.as_date().ToYmd(&y, &m, &d);
      if (y < 0 || y > 9999) return std::nullopt;
      return 10;
    }
    case TypeKind::kDateTime: {
      // YYYY-MM-DDTHH:MM:SS[.ffffff]Z for years 0..9999.
      const int64_t micros = v.as_datetime().micros;
      constexpr int64_t kMicrosPerDay = int64_t{86400} * 1000000;
      int64_t day = micros / kMicrosPerDay;
      if (micros % kMicrosPerDay < 0) --day;  // floor, as DateTime::ToString
      int y, m, d;
      Date{static_cast<int32_t>(day)}.ToYmd(&y, &m, &d);
      if (y < 0 || y > 9999) return std::nullopt;
      return micros % 1000000 != 0 ? 27 : 20;
    }
    default:
      return std::nullopt;  // floats and decimals: their text is their shortest form
  }
}

Status AppendFieldText(const View& v, std::string* out) {
  MAPFS_RETURN_IF_ERROR(AppendScalarText(v, out));
  out->push_back('\n');
  return Status::OK();
}

std::string NpyHeader(const View& v) {
  std::string dict = "{'descr': '";
  dict += DTypeNumpyDescr(v.dtype());
  dict += "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < v.ndim(); ++i) {
    if (i) dict += ", ";
    dict += std::to_string(v.dim(i));
  }
  if (v.ndim() == 1) dict += ",";
  dict += "), }";
  // numpy pads the whole header (10 fixed bytes + dict + "\n") to 64 bytes.
  const size_t unpadded = 10 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(dict.size() & 0xff));
  out.push_back(static_cast<char>(dict.size() >> 8));
  out += dict;
  return out;
}

Result<uint64_t> FileSize(const View& v) {
  switch (FileFormOf(v)) {
    case FileForm::kRaw:
      return uint64_t{v.as_bytes().size()};
    case FileForm::kNdArray:
      return uint64_t{NpyHeader(v).size() + v.ndarray_data().size()};
    case FileForm::kText: {
      if (std::optional<uint64_t> n = TextSizeOf(v)) return *n + 1;  // + "\n"
      std::string text;
      MAPFS_RETURN_IF_ERROR(AppendFieldText(v, &text));
      return uint64_t{text.size()};
    }
  }
  return Status::Corruption("unknown value kind");
}

Status AppendKeyText(const View& v, std::string* out) {
  if (v.is_null()) {
    *out += "null";
    return Status::OK();
  }
  if (v.kind() == TypeKind::kStr || v.kind() == TypeKind::kBytes) {
    *out += v.as_bytes();
    return Status::OK();
  }
  if (IsDirectoryValue(v) || v.kind() == TypeKind::kNdArray) return RenderJson(v, out);
  return AppendScalarText(v, out);
}

namespace {

struct InfoFigures {
  uint64_t record_count, key_count, size, checksum;
  size_t shards;  // 0: a segment
};

std::string InfoJsonOf(const Segment& seg, const InfoFigures& f) {
  std::string out = "{\"kind\":";
  AppendJsonString(&out, CollectionKindName(seg.kind()));
  out += ",\"key_type\":";
  if (seg.key_kind() == KeyKind::kNone) {
    out += "null";
  } else if (seg.key_field_index() >= 0) {
    const StructDef& root = seg.schema().struct_def(seg.root_struct_index());
    AppendJsonString(&out, seg.schema().TypeName(root.fields[seg.key_field_index()].type));
    out += ",\"key_field\":";
    AppendJsonString(&out, root.fields[seg.key_field_index()].name);
  } else {
    AppendJsonString(&out, KeyKindName(seg.key_kind()));
  }
  out += ",\"type\":";
  AppendJsonString(&out, seg.schema().struct_def(seg.root_struct_index()).name);
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                ",\"record_count\":%" PRIu64 ",\"key_count\":%" PRIu64
                ",\"format_version\":\"%u.%u\",\"size\":%" PRIu64
                ",\"checksum\":\"xxh3:%016" PRIx64 "\"",
                f.record_count, f.key_count, unsigned{seg.major_version()},
                unsigned{seg.minor_version()}, f.size, f.checksum);
  out += buf;
  if (f.shards > 0) out += ",\"shards\":" + std::to_string(f.shards);
  out += "}\n";
  return out;
}

}  // namespace

std::string InfoJson(const Segment& seg) {
  return InfoJsonOf(seg, {seg.record_count(), seg.key_count(), seg.file_size(),
                          seg.header_checksum(), 0});
}

std::string DatasetInfoJson(const Dataset& ds, std::string_view manifest) {
  uint64_t size = 0;
  for (size_t i = 0; i < ds.shard_count(); ++i) size += ds.shard(i).file_size();
  return InfoJsonOf(ds.shard(0), {ds.record_count(), ds.key_count(), size,
                                  XXH3_64bits(manifest.data(), manifest.size()),
                                  ds.shard_count()});
}

}  // namespace mapfs::fs
