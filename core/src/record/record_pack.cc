// Packs owned Values into the record encoding (docs/format.md, "Records"),
// checking each value against its schema type: scalars, lists, tuples,
// structs, ndarrays and objects. Sorted containers are in record_pack_sets.cc.
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "mapfs/text_format.h"
#include "record_pack_internal.h"

namespace mapfs {

using namespace record_format;  // NOLINT: the codec vocabulary of this file

namespace {


const char* KindName(Value::Kind k) {
  switch (k) {
    case Value::Kind::kNull: return "null";
    case Value::Kind::kBool: return "bool";
    case Value::Kind::kInt: case Value::Kind::kUInt: return "int";
    case Value::Kind::kFloat: return "float";
    case Value::Kind::kStr: return "str";
    case Value::Kind::kBytes: return "bytes";
    case Value::Kind::kDate: return "date";
    case Value::Kind::kDateTime: return "datetime";
    case Value::Kind::kDecimal: return "decimal";
    case Value::Kind::kList: return "list";
    case Value::Kind::kTuple: return "tuple";
    case Value::Kind::kFrozenSet: return "frozenset";
    case Value::Kind::kDict: return "dict";
    case Value::Kind::kStruct: return "struct";
    case Value::Kind::kNdArray: return "ndarray";
  }
  return "?";
}

bool IsSequence(Value::Kind k) {
  return k == Value::Kind::kList || k == Value::Kind::kTuple || k == Value::Kind::kFrozenSet;
}

}  // namespace

Status RecordPacker::Impl::Error(const std::string& msg) const {
  if (path_.empty()) return Status::InvalidArgument(msg);
  std::string where;
  for (const PathElem& e : path_) {
    if (e.name) {
      if (!where.empty()) where += '.';
      where += *e.name;
    } else {
      where += '[' + std::to_string(e.index) + ']';
    }
  }
  return Status::InvalidArgument("field \"" + where + "\": " + msg);
}

Status RecordPacker::Impl::TypeError(const Type& t, const Value& v) const {
  return Error("expected " + schema_.TypeName(t) + ", got " + KindName(v.kind()));
}

// Writes a fixed-width value into out_[at, at + FixedWidth).
Status RecordPacker::Impl::WriteFixed(const Type& t, const Value& v, size_t at) {
  if (v.is_null()) return Error("null where " + schema_.TypeName(t) + " is required");
  if (IsIntKind(t.kind)) {
    uint64_t bits;
    MAPFS_RETURN_IF_ERROR(IntBits(t.kind, v, &bits));
    std::memcpy(out_.data() + at, &bits, FixedWidth(t.kind));
    return Status::OK();
  }
  switch (t.kind) {
    case TypeKind::kFloat32: case TypeKind::kFloat64: {
      double d = 0;
      MAPFS_RETURN_IF_ERROR(FloatOf(t, v, &d));
      if (t.kind == TypeKind::kFloat32) StoreLE<float>(&out_, at, static_cast<float>(d));
      else StoreLE<double>(&out_, at, d);
      return Status::OK();
    }
    case TypeKind::kBool:
      if (v.kind() != Value::Kind::kBool) return TypeError(t, v);
      out_[at] = v.as_bool() ? 1 : 0;
      return Status::OK();
    case TypeKind::kDate:
      if (v.kind() != Value::Kind::kDate) return TypeError(t, v);
      StoreLE<int32_t>(&out_, at, v.as_date().days);
      return Status::OK();
    case TypeKind::kDateTime:
      if (v.kind() != Value::Kind::kDateTime) return TypeError(t, v);
      StoreLE<int64_t>(&out_, at, v.as_datetime().micros);
      return Status::OK();
    default:
      return Error("internal: not a fixed-width type");
  }
}

// Leaf bodies identical to an earlier one in this record are stored once:
// the just-appended copy at [pos, end) is dropped and the earlier one reused.
uint32_t RecordPacker::Impl::DedupLeaf(uint32_t pos) {
  std::string_view body(out_.data() + pos, out_.size() - pos);
  uint64_t h = XXH3_64bits(body.data(), body.size());
  auto same = [&](const Blob& b) {
    return b.hash == h && b.len == body.size() &&
           std::memcmp(out_.data() + b.pos, body.data(), body.size()) == 0;
  };
  if (blobs_.size() < kLinearBlobs) {
    for (const Blob& b : blobs_) {
      if (same(b)) { out_.resize(pos); return b.pos; }
    }
  } else {
    auto it = blob_index_.find(h);
    if (it != blob_index_.end() && same(blobs_[it->second])) {
      uint32_t earlier = blobs_[it->second].pos;
      out_.resize(pos);
      return earlier;
    }
  }
  blobs_.push_back({h, pos, static_cast<uint32_t>(body.size())});
  if (blobs_.size() == kLinearBlobs) {
    for (size_t i = 0; i < blobs_.size(); ++i) blob_index_.emplace(blobs_[i].hash, i);
  } else if (blobs_.size() > kLinearBlobs) {
    blob_index_.emplace(h, blobs_.size() - 1);
  }
  return pos;
}

uint32_t RecordPacker::Impl::AppendBlob(std::string_view bytes) {
  uint32_t pos = Here();
  AppendVarint(&out_, bytes.size());
  out_.append(bytes);
  return DedupLeaf(pos);
}

Status RecordPacker::Impl::AppendDecimalBody(const Decimal& d) {
  uint8_t flags = static_cast<uint8_t>((d.negative ? 1 : 0) | (static_cast<int>(d.kind) << 1));
  out_.push_back(static_cast<char>(flags));
  if (d.kind != Decimal::Kind::kFinite) return Status::OK();
  if (d.digits.empty()) return Error("decimal without digits");
  AppendVarint(&out_, ZigZag(d.exponent));
  AppendVarint(&out_, d.digits.size());
  for (size_t i = 0; i < d.digits.size(); i += 2) {
    char hi = d.digits[i], lo = i + 1 < d.digits.size() ? d.digits[i + 1] : '0';
    if (hi < '0' || hi > '9' || lo < '0' || lo > '9') return Error("decimal digit not 0-9");
    out_.push_back(static_cast<char>(((hi - '0') << 4) | (lo - '0')));
  }
  return Status::OK();
}

Status RecordPacker::Impl::DecimalOf(const Value& v, Decimal* d) const {
  if (v.kind() == Value::Kind::kDecimal) { *d = v.as_decimal(); return Status::OK(); }
  if (v.kind() == Value::Kind::kInt || v.kind() == Value::Kind::kUInt) {
    bool neg = v.kind() == Value::Kind::kInt && v.as_int() < 0;
    uint64_t mag = v.kind() == Value::Kind::kUInt ? v.as_uint()
                   : neg ? ~static_cast<uint64_t>(v.as_int()) + 1
                         : static_cast<uint64_t>(v.as_int());
    d->kind = Decimal::Kind::kFinite;
    d->negative = neg;
    d->digits = std::to_string(mag);
    d->exponent = 0;
    return Status::OK();
  }
  return TypeError(Type::Scalar(TypeKind::kDecimal), v);
}

// Appends the encoding of a value whose slot holds a ref; *pos = its offset.
Status RecordPacker::Impl::AppendBody(const Type& t, const Value& v, int depth, uint32_t* pos) {
  if (depth > kMaxDepth) return Error("nested deeper than " + std::to_string(kMaxDepth));
  switch (t.kind) {
    case TypeKind::kStr:
      if (v.kind() != Value::Kind::kStr) return TypeError(t, v);
      if (!IsValidUtf8(v.text())) return Error("str is not valid UTF-8");
      *pos = AppendBlob(v.text());
      break;
    case TypeKind::kBytes:
      if (v.kind() != Value::Kind::kBytes) return TypeError(t, v);
      *pos = AppendBlob(v.text());
      break;
    case TypeKind::kDecimal: {
      Decimal d;
      MAPFS_RETURN_IF_ERROR(DecimalOf(v, &d));
      *pos = Here();
      MAPFS_RETURN_IF_ERROR(AppendDecimalBody(d));
      *pos = DedupLeaf(*pos);
      break;
    }
    case TypeKind::kList:
      if (!IsSequence(v.kind())) return TypeError(t, v);
      MAPFS_RETURN_IF_ERROR(AppendList(t.params[0], v.items().size(),
                                       [&](size_t i) -> const Value& { return v.items()[i]; },
                                       depth, pos));
      break;
    case TypeKind::kTuple:
      if (!IsSequence(v.kind())) return TypeError(t, v);
      if (t.params.empty()) {
        MAPFS_RETURN_IF_ERROR(AppendList(ViewFactory::ObjectType(), v.items().size(),
                                         [&](size_t i) -> const Value& { return v.items()[i]; },
                                         depth, pos));
      } else {
        MAPFS_RETURN_IF_ERROR(AppendTuple(t, v, depth, pos));
      }
      break;
    case TypeKind::kFrozenSet:
      if (!IsSequence(v.kind())) return TypeError(t, v);
      MAPFS_RETURN_IF_ERROR(AppendSet(t.params[0], v.items(), depth, pos));
      break;
    case TypeKind::kDict:
      if (v.kind() != Value::Kind::kDict) return TypeError(t, v);
      MAPFS_RETURN_IF_ERROR(AppendDict(t, v, depth, pos));
      break;
    case TypeKind::kStruct:
      MAPFS_RETURN_IF_ERROR(AppendStruct(t.struct_index, v, depth, pos));
      break;
    case TypeKind::kNdArray:
      if (v.kind() != Value::Kind::kNdArray) return TypeError(t, v);
      MAPFS_RETURN_IF_ERROR(AppendNdArray(t, v.ndarray(), pos));
      break;
    case TypeKind::kObject:
      MAPFS_RETURN_IF_ERROR(AppendObject(v, depth, pos));
      break;
    default:
      return Error("internal: fixed-width type has no body");
  }
  return CheckSize();
}

Status RecordPacker::Impl::AppendTuple(const Type& t, const Value& v, int depth, uint32_t* pos) {
  size_t n = t.params.size();
  if (v.items().size() != n) {
    return Error("expected " + schema_.TypeName(t) + " of " + std::to_string(n) +
                 " elements, got " + std::to_string(v.items().size()));
  }
  *pos = Here();
  size_t bitmap = out_.size();
  out_.resize(bitmap + (n + 7) / 8);
  std::vector<size_t> slot_at(n, 0);
  for (size_t i = 0; i < n; ++i) {
    if (v.items()[i].is_null()) continue;
    out_[bitmap + i / 8] = static_cast<char>(out_[bitmap + i / 8] | (1 << (i % 8)));
    size_t w = FixedWidth(t.params[i].kind);
    slot_at[i] = out_.size();
    out_.resize(out_.size() + (w ? w : kRefSize));
  }
  for (size_t i = 0; i < n; ++i) {
    const Value& item = v.items()[i];
    if (item.is_null()) continue;
    PathScope scope(this, nullptr, i);
    if (IsFixedWidthKind(t.params[i].kind)) {
      MAPFS_RETURN_IF_ERROR(WriteFixed(t.params[i], item, slot_at[i]));
    } else {
      uint32_t child;
      MAPFS_RETURN_IF_ERROR(AppendBody(t.params[i], item, depth + 1, &child));
      PutRef(slot_at[i], child);
    }
  }
  return Status::OK();
}

Status RecordPacker::Impl::AppendStruct(int struct_index, const Value& v, int depth,
                                        uint32_t* pos) {
  const StructDef& def = schema_.struct_def(struct_index);
  if (v.kind() != Value::Kind::kStruct) return TypeError(schema_.struct_type(struct_index), v);
  if (!v.text().empty() && v.text() != def.name) {
    return Error("expected struct " + def.name + ", got struct " + v.text());
  }
  size_t n = def.fields.size();
  const Value* small[32];
  std::vector<const Value*> large;
  const Value** present = small;
  if (n > 32) {
    large.assign(n, nullptr);
    present = large.data();
  } else {
    std::fill(small, small + n, nullptr);
  }
  const auto& names = v.field_names();
  for (size_t i = 0; i < names.size(); ++i) {
    int f;
    if (i < n && def.fields[i].name == names[i]) {
      f = static_cast<int>(i);
    } else {
      auto found = def.FindField(names[i]);
      if (!found) return Error("unknown field \"" + names[i] + "\" in struct " + def.name);
      f = *found;
    }
    if (present[f] != nullptr) return Error("field \"" + names[i] + "\" given twice");
    if (!v.items()[i].is_null()) present[f] = &v.items()[i];
  }
  *pos = Here();
  size_t bitmap = out_.size();
  out_.resize(bitmap + def.layout.bitmap_bytes);
  size_t slot = out_.size();
  size_t slots_size = 0;
  for (size_t f = 0; f < n; ++f) {
    if (!present[f]) continue;
    out_[bitmap + f / 8] = static_cast<char>(out_[bitmap + f / 8] | (1 << (f % 8)));
    slots_size += def.layout.slot_size[f];
  }
  out_.resize(slot + slots_size);
  for (size_t f = 0; f < n; ++f) {
    if (!present[f]) continue;
    PathScope scope(this, &def.fields[f].name, 0);
    const Type& ft = def.fields[f].type;
    size_t at = slot;
    slot += def.layout.slot_size[f];
    if (IsFixedWidthKind(ft.kind)) {
      MAPFS_RETURN_IF_ERROR(WriteFixed(ft, *present[f], at));
    } else {
      uint32_t child;
      MAPFS_RETURN_IF_ERROR(AppendBody(ft, *present[f], depth + 1, &child));
      PutRef(at, child);
    }
  }
  return Status::OK();
}

Status RecordPacker::Impl::AppendNdArray(const Type& t, const NdArray& a, uint32_t* pos) {
  if (t.dtype && *t.dtype != a.dtype) {
    return Error("expected " + schema_.TypeName(t) + ", got ndarray<" +
                 std::string(DTypeName(a.dtype)) + ">");
  }
  if (a.shape.size() > kMaxNdim) return Error("ndarray has more than 32 dimensions");
  size_t itemsize = DTypeSize(a.dtype);
  uint64_t count = 1;
  for (uint64_t d : a.shape) {
    if (d != 0 && count > (uint64_t{1} << 40) / d) return Error("ndarray too large");
    count *= d;
  }
  if (count * itemsize != a.data.size()) {
    return Error("ndarray data has " + std::to_string(a.data.size()) + " bytes, shape needs " +
                 std::to_string(count * itemsize));
  }
  *pos = Here();
  out_.push_back(static_cast<char>(a.dtype));
  AppendVarint(&out_, a.shape.size());
  for (uint64_t d : a.shape) AppendVarint(&out_, d);
  size_t align = std::min<size_t>(itemsize, 8);
  out_.resize((out_.size() + align - 1) / align * align, '\0');
  out_.append(a.data);
  *pos = DedupLeaf(*pos);
  return Status::OK();
}

Status RecordPacker::Impl::AppendObject(const Value& v, int depth, uint32_t* pos) {
  *pos = Here();
  auto tag = [&](Tag t) { out_.push_back(static_cast<char>(t)); };
  uint32_t unused;
  switch (v.kind()) {
    case Value::Kind::kNull: tag(kTagNull); break;
    case Value::Kind::kBool: tag(v.as_bool() ? kTagTrue : kTagFalse); break;
    case Value::Kind::kInt: tag(kTagInt); AppendVarint(&out_, ZigZag(v.as_int())); break;
    case Value::Kind::kUInt:
      // Canonical: a uint that fits int64 is stored (and read back) as an int.
      if (v.as_uint() <= static_cast<uint64_t>(INT64_MAX)) {
        tag(kTagInt);
        AppendVarint(&out_, ZigZag(static_cast<int64_t>(v.as_uint())));
      } else {
        tag(kTagUInt);
        AppendVarint(&out_, v.as_uint());
      }
      break;
    case Value::Kind::kFloat: {
      tag(kTagFloat);
      double d = v.as_float();
      out_.append(reinterpret_cast<const char*>(&d), 8);
      break;
    }
    case Value::Kind::kStr:
      if (!IsValidUtf8(v.text())) return Error("str is not valid UTF-8");
      tag(kTagStr);
      AppendVarint(&out_, v.text().size());
      out_.append(v.text());
      break;
    case Value::Kind::kBytes:
      tag(kTagBytes);
      AppendVarint(&out_, v.text().size());
      out_.append(v.text());
      break;
    case Value::Kind::kDate: {
      tag(kTagDate);
      int32_t days = v.as_date().days;
      out_.append(reinterpret_cast<const char*>(&days), 4);
      break;
    }
    case Value::Kind::kDateTime: {
      tag(kTagDateTime);
      int64_t micros = v.as_datetime().micros;
      out_.append(reinterpret_cast<const char*>(&micros), 8);
      break;
    }
    case Value::Kind::kDecimal:
      tag(kTagDecimal);
      MAPFS_RETURN_IF_ERROR(AppendDecimalBody(v.as_decimal()));
      break;
    case Value::Kind::kList: case Value::Kind::kTuple:
      tag(v.kind() == Value::Kind::kList ? kTagList : kTagTuple);
      return AppendList(ViewFactory::ObjectType(), v.items().size(),
                        [&](size_t i) -> const Value& { return v.items()[i]; }, depth, &unused);
    case Value::Kind::kFrozenSet: {
      // The set body must follow its tag, so sort before writing the tag.
      tag(kTagFrozenSet);
      return AppendSet(ViewFactory::ObjectType(), v.items(), depth, &unused);
    }
    case Value::Kind::kDict: {
      static const Type kObjectDict = Type::Dict(Type::Object(), Type::Object());
      tag(kTagDict);
      return AppendDict(kObjectDict, v, depth, &unused);
    }
    case Value::Kind::kNdArray:
      tag(kTagNdArray);
      return AppendNdArray(Type::NdArray(std::nullopt), v.ndarray(), &unused);
    case Value::Kind::kStruct: {
      auto index = schema_.FindStruct(v.text());
      if (!index) return Error("unknown struct '" + v.text() + "' in an object value");
      const StructDef& def = schema_.struct_def(*index);
      if (def.typecode.empty()) {
        return Error("struct " + def.name + " has no typecode, so it cannot be an object value");
      }
      out_.push_back(def.typecode[0]);
      return AppendStruct(*index, v, depth, &unused);
    }
  }
  if (v.kind() != Value::Kind::kNull && v.kind() != Value::Kind::kBool) *pos = DedupLeaf(*pos);
  return Status::OK();
}

RecordPacker::RecordPacker(const Schema& schema) : impl_(std::make_unique<Impl>(schema)) {}
RecordPacker::~RecordPacker() = default;

Result<std::string_view> RecordPacker::Pack(int struct_index, const Value& value) {
  return impl_->Pack(struct_index, value);
}

Result<std::string_view> RecordPacker::PackValue(const Type& type, const Value& value) {
  return impl_->PackValue(type, value);
}

Result<std::string> Pack(const Schema& schema, int struct_index, const Value& value) {
  RecordPacker packer(schema);
  MAPFS_ASSIGN_OR_RETURN(std::string_view bytes, packer.Pack(struct_index, value));
  return std::string(bytes);
}

Result<size_t> PackInto(const Schema& schema, int struct_index, const Value& value,
                        std::span<uint8_t> buffer, size_t offset) {
  RecordPacker packer(schema);
  MAPFS_ASSIGN_OR_RETURN(std::string_view bytes, packer.Pack(struct_index, value));
  if (offset > buffer.size() || bytes.size() > buffer.size() - offset) {
    return Status::OutOfRange("record needs " + std::to_string(bytes.size()) + " bytes at offset " +
                              std::to_string(offset) + ", buffer has " +
                              std::to_string(buffer.size()));
  }
  std::memcpy(buffer.data() + offset, bytes.data(), bytes.size());
  return bytes.size();
}

}  // namespace mapfs
