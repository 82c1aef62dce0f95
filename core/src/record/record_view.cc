// Views on packed records: header checks when a view is made, unchecked reads
// after that. The encoding is specified in docs/format.md, "Records".
#include <algorithm>
#include <bit>
#include <cstring>

#include "mapfs/record.h"
#include "record_format.h"
#include "record_internal.h"
#include "segment_format.h"

namespace mapfs {

static_assert(std::endian::native == std::endian::little, "mapfs assumes a little-endian host");

using namespace record_format;  // NOLINT: the codec vocabulary of this file

namespace {

Status Corrupt(uint64_t pos, const char* what) {
  return Status::Corruption("record offset " + std::to_string(pos) + ": " + what);
}

// Types of `object` values, by tag. Static so views can point at them.
struct ObjectTypes {
  Type object = Type::Object();
  Type boolean = Type::Scalar(TypeKind::kBool);
  Type int64 = Type::Scalar(TypeKind::kInt64);
  Type uint64 = Type::Scalar(TypeKind::kUInt64);
  Type float64 = Type::Scalar(TypeKind::kFloat64);
  Type str = Type::Scalar(TypeKind::kStr);
  Type bytes = Type::Scalar(TypeKind::kBytes);
  Type date = Type::Scalar(TypeKind::kDate);
  Type datetime = Type::Scalar(TypeKind::kDateTime);
  Type decimal = Type::Scalar(TypeKind::kDecimal);
  Type list = Type::List(Type::Object());
  Type tuple = Type::Tuple({});
  Type frozenset = Type::FrozenSet(Type::Object());
  Type dict = Type::Dict(Type::Object(), Type::Object());
  Type ndarray = Type::NdArray(std::nullopt);
};
const ObjectTypes& Objects() {
  static const ObjectTypes* types = new ObjectTypes();
  return *types;
}

// Element width inside list bodies: 0 means "a width byte follows the count".
unsigned ListElementWidth(const Type& elem) {
  if (IsIntKind(elem.kind)) return 0;
  size_t w = FixedWidth(elem.kind);
  return w ? static_cast<unsigned>(w) : kRefSize;
}

// Parses a list body at `pos`: count, optional width byte, elements.
Status ParseList(const uint8_t* base, uint32_t size, uint64_t pos, const Type& elem,
                 uint64_t* count, uint32_t* elements, uint8_t* width) {
  if (!ReadVarint(base, size, &pos, count)) return Corrupt(pos, "truncated list count");
  unsigned w = ListElementWidth(elem);
  if (w == 0) {
    if (pos >= size) return Corrupt(pos, "truncated list width");
    w = base[pos++];
    if (w != 1 && w != 2 && w != 4 && w != 8) return Corrupt(pos - 1, "bad int width");
  }
  if (*count > (size - pos) / w) return Corrupt(pos, "list runs past the record");
  *elements = static_cast<uint32_t>(pos);
  *width = static_cast<uint8_t>(w);
  return Status::OK();
}

// Offset of slot `i` in a tuple's slot area: the sum of the present earlier slots.
uint64_t TupleSlotOffset(const Type& t, const uint8_t* bitmap, size_t i) {
  uint64_t off = 0;
  for (size_t j = 0; j < i; ++j) {
    if (bitmap[j / 8] & (1u << (j % 8))) {
      size_t w = FixedWidth(t.params[j].kind);
      off += w ? w : kRefSize;
    }
  }
  return off;
}

// Slot offset of field `i` within a struct's slot area (docs/format.md).
uint64_t StructSlotOffset(const StructLayout& layout, const uint8_t* bitmap, uint64_t first_word,
                          size_t i) {
  const std::vector<uint64_t>& masks = layout.before_masks[i];
  size_t words = masks.size() / 4;
  uint64_t off = 0;
  for (size_t w = 0; w < words; ++w) {
    uint64_t bits = first_word;
    if (w > 0) {
      bits = 0;
      size_t n = std::min<size_t>(8, layout.bitmap_bytes - w * 8);
      std::memcpy(&bits, bitmap + w * 8, n);
    }
    off += std::popcount(bits & masks[w * 4 + 0]) + 2 * std::popcount(bits & masks[w * 4 + 1]) +
           4 * std::popcount(bits & masks[w * 4 + 2]) + 8 * std::popcount(bits & masks[w * 4 + 3]);
  }
  return off;
}

uint64_t FirstBitmapWord(const uint8_t* bitmap, uint32_t bitmap_bytes) {
  uint64_t word = 0;
  std::memcpy(&word, bitmap, std::min<uint32_t>(8, bitmap_bytes));
  return word;
}

}  // namespace

const Type& ElementTypeOf(const Type& t) {
  if (t.params.empty()) return Objects().object;  // variadic tuple
  return t.params[0];
}
const Type& ViewFactory::ElementType(const View& v) { return ElementTypeOf(*v.type_); }
const Type& ViewFactory::ObjectType() { return Objects().object; }

Result<View> ViewFactory::Make(const Schema* schema, const Type* t, const uint8_t* base,
                               uint32_t size, uint64_t pos, const SegmentData* segment) {
  View v;
  v.schema_ = schema;
  v.type_ = t;
  v.base_ = base;
  v.size_ = size;
  v.segment_ = segment;
  if (pos >= size) {
    // Off the hot path: a plain ref is always inside its record.
    if (segment != nullptr && pos >= kValueRefBit && pos <= UINT32_MAX) {
      return ResolveReference(schema, t, base, size, segment, static_cast<uint32_t>(pos));
    }
    return Corrupt(pos, "offset past the end of the record");
  }
  v.pos_ = static_cast<uint32_t>(pos);
  size_t fixed = FixedWidth(t->kind);
  if (fixed) {
    if (fixed > size - pos) return Corrupt(pos, "value runs past the record");
    v.width_ = static_cast<uint8_t>(fixed);
    return v;
  }
  switch (t->kind) {
    case TypeKind::kStr:
    case TypeKind::kBytes: return MakeString(v, pos);
    case TypeKind::kDecimal: return MakeDecimal(v, pos);
    case TypeKind::kList:
      MAPFS_RETURN_IF_ERROR(ParseList(base, size, pos, t->params[0], &v.count_, &v.body_, &v.width_));
      return v;
    case TypeKind::kTuple:
      if (t->params.empty()) {  // variadic: a list of objects
        MAPFS_RETURN_IF_ERROR(ParseList(base, size, pos, Objects().object, &v.count_, &v.body_,
                                        &v.width_));
        return v;
      }
      return MakeTuple(v, pos);
    case TypeKind::kFrozenSet: return MakeFrozenSet(v, pos);
    case TypeKind::kDict: return MakeDict(v, pos);
    case TypeKind::kStruct: return MakeStruct(v, pos);
    case TypeKind::kNdArray: return MakeNdArray(v, pos);
    case TypeKind::kObject: return MakeObject(v, pos);
    default:
      return Corrupt(pos, "unexpected type");
  }
}

// str and bytes: a varint length, then the bytes.
Result<View> ViewFactory::MakeString(View v, uint64_t pos) {
  uint64_t len;
  if (!ReadVarint(v.base_, v.size_, &pos, &len)) return Corrupt(pos, "truncated length");
  if (len > v.size_ - pos) return Corrupt(pos, "string runs past the record");
  v.body_ = static_cast<uint32_t>(pos);
  v.count_ = len;
  return v;
}

// decimal: flags, then (finite values) the exponent, digit count and digits.
Result<View> ViewFactory::MakeDecimal(View v, uint64_t pos) {
  const uint8_t* base = v.base_;
  const uint32_t size = v.size_;
  uint8_t flags = base[pos++];
  if (flags > 5) return Corrupt(pos - 1, "bad decimal flags");
  if ((flags >> 1) == 0) {
    uint64_t exponent, ndigits;
    if (!ReadVarint(base, size, &pos, &exponent) || !ReadVarint(base, size, &pos, &ndigits)) {
      return Corrupt(pos, "truncated decimal");
    }
    // Two digits per byte, rounded up; written so a huge count cannot wrap.
    if (ndigits == 0 || ndigits / 2 + ndigits % 2 > size - pos) {
      return Corrupt(pos, "decimal digits run past the record");
    }
    v.count_ = ndigits;
  }
  v.body_ = static_cast<uint32_t>(pos);
  return v;
}

// Fixed-length tuple: a presence bitmap, then the slots of the present items.
Result<View> ViewFactory::MakeTuple(View v, uint64_t pos) {
  const uint32_t size = v.size_;
  size_t n = v.type_->params.size();
  uint64_t bitmap_bytes = (n + 7) / 8;
  if (bitmap_bytes > size - pos) return Corrupt(pos, "tuple bitmap runs past the record");
  uint64_t slots = TupleSlotOffset(*v.type_, v.base_ + pos, n);
  if (slots > size - pos - bitmap_bytes) return Corrupt(pos, "tuple runs past the record");
  v.count_ = n;
  v.body_ = static_cast<uint32_t>(pos + bitmap_bytes);
  return v;
}

// frozenset: a mode byte, then a sorted list or an int bitmap.
Result<View> ViewFactory::MakeFrozenSet(View v, uint64_t pos) {
  const uint8_t* base = v.base_;
  const uint32_t size = v.size_;
  const Type& elem = v.type_->params[0];
  uint8_t mode = base[pos++];
  v.aux_ = mode;
  if (mode == kSetSorted) {
    MAPFS_RETURN_IF_ERROR(ParseList(base, size, pos, elem, &v.count_, &v.body_, &v.width_));
    return v;
  }
  if (mode != kSetBitmap || !IsIntKind(elem.kind)) {
    return Corrupt(pos - 1, "bad frozenset mode");
  }
  uint64_t zbase, count, nbytes;
  if (!ReadVarint(base, size, &pos, &zbase) || !ReadVarint(base, size, &pos, &count) ||
      !ReadVarint(base, size, &pos, &nbytes)) {
    return Corrupt(pos, "truncated frozenset bitmap header");
  }
  if (nbytes > size - pos || count > nbytes * 8) return Corrupt(pos, "bad frozenset bitmap");
  v.base_value_ = UnZigZag(zbase);
  v.count_ = count;
  v.body_ = static_cast<uint32_t>(pos);
  v.extent_ = static_cast<uint32_t>(nbytes);
  return v;
}

// dict: refs to a key list and a value list of equal length.
Result<View> ViewFactory::MakeDict(View v, uint64_t pos) {
  const uint8_t* base = v.base_;
  const uint32_t size = v.size_;
  const Type* t = v.type_;
  if (2 * kRefSize > size - pos) return Corrupt(pos, "dict runs past the record");
  uint32_t keys_ref = LoadLE<uint32_t>(base + pos);
  uint32_t values_ref = LoadLE<uint32_t>(base + pos + 4);
  if (keys_ref >= size || values_ref >= size) return Corrupt(pos, "dict offset past the end");
  uint64_t nkeys, nvalues;
  uint32_t values_body;
  uint8_t values_width;
  MAPFS_RETURN_IF_ERROR(ParseList(base, size, keys_ref, t->params[0], &nkeys, &v.body_, &v.width_));
  MAPFS_RETURN_IF_ERROR(
      ParseList(base, size, values_ref, t->params[1], &nvalues, &values_body, &values_width));
  if (nkeys != nvalues) return Corrupt(pos, "dict has different key and value counts");
  v.count_ = nkeys;
  v.extent_ = values_body;
  v.aux_ = values_width;
  return v;
}

// struct: a presence bitmap, then the slots of the present fields, whose
// widths the layout's class masks give.
Result<View> ViewFactory::MakeStruct(View v, uint64_t pos) {
  const Schema* schema = v.schema_;
  const Type* t = v.type_;
  const uint32_t size = v.size_;
  if (schema == nullptr || t->struct_index < 0 ||
      static_cast<size_t>(t->struct_index) >= schema->structs().size()) {
    return Corrupt(pos, "struct type not in the schema");
  }
  const StructDef& def = schema->struct_def(t->struct_index);
  const StructLayout& layout = def.layout;
  if (layout.bitmap_bytes > size - pos) return Corrupt(pos, "struct bitmap runs past the record");
  const uint8_t* bitmap = v.base_ + pos;
  uint64_t first = FirstBitmapWord(bitmap, layout.bitmap_bytes);
  uint64_t slots = 0;
  size_t words = layout.class_masks.size() / 4;
  for (size_t w = 0; w < words; ++w) {
    uint64_t bits = first;
    if (w > 0) {
      bits = 0;
      std::memcpy(&bits, bitmap + w * 8, std::min<size_t>(8, layout.bitmap_bytes - w * 8));
    }
    const uint64_t* m = &layout.class_masks[w * 4];
    slots += std::popcount(bits & m[0]) + 2 * std::popcount(bits & m[1]) +
             4 * std::popcount(bits & m[2]) + 8 * std::popcount(bits & m[3]);
  }
  if (slots > size - pos - layout.bitmap_bytes) return Corrupt(pos, "struct runs past the record");
  v.base_value_ = static_cast<int64_t>(first);
  v.count_ = def.fields.size();
  v.body_ = static_cast<uint32_t>(pos + layout.bitmap_bytes);
  return v;
}

// ndarray: dtype, rank and shape, then the items aligned to their size.
Result<View> ViewFactory::MakeNdArray(View v, uint64_t pos) {
  const uint8_t* base = v.base_;
  const uint32_t size = v.size_;
  const Type* t = v.type_;
  uint8_t dtype = base[pos++];
  if (dtype >= kDTypeCount) return Corrupt(pos - 1, "bad ndarray dtype");
  if (t->dtype && static_cast<uint8_t>(*t->dtype) != dtype) {
    return Corrupt(pos - 1, "ndarray dtype differs from the schema");
  }
  uint64_t ndim;
  if (!ReadVarint(base, size, &pos, &ndim) || ndim > kMaxNdim) {
    return Corrupt(pos, "bad ndarray rank");
  }
  uint64_t itemsize = DTypeSize(static_cast<DType>(dtype));
  uint64_t bytes = itemsize;
  for (uint64_t d = 0; d < ndim; ++d) {
    uint64_t dim;
    if (!ReadVarint(base, size, &pos, &dim)) return Corrupt(pos, "truncated ndarray shape");
    if (dim != 0 && bytes > size / dim) return Corrupt(pos, "ndarray larger than the record");
    bytes *= dim;
  }
  uint64_t align = std::min<uint64_t>(itemsize, 8);
  pos = (pos + align - 1) / align * align;
  if (pos > size || bytes > size - pos) return Corrupt(pos, "ndarray data runs past the record");
  v.aux_ = dtype;
  v.count_ = ndim;
  v.body_ = static_cast<uint32_t>(pos);
  v.extent_ = static_cast<uint32_t>(bytes);
  return v;
}

// object: a tag byte, then the value of the type the tag names (bools and
// ints live in the view itself).
Result<View> ViewFactory::MakeObject(View v, uint64_t pos) {
  const Schema* schema = v.schema_;
  const uint8_t* base = v.base_;
  const uint32_t size = v.size_;
  uint8_t tag = base[pos];
  const ObjectTypes& o = Objects();
  uint64_t p = pos + 1;
  switch (tag) {
    case kTagNull: return View();
    case kTagFalse:
    case kTagTrue:
      v.type_ = &o.boolean;
      v.width_ = 0;
      v.base_value_ = tag == kTagTrue;
      return v;
    case kTagInt:
    case kTagUInt: {
      uint64_t raw;
      if (!ReadVarint(base, size, &p, &raw)) return Corrupt(p, "truncated int");
      v.type_ = tag == kTagInt ? &o.int64 : &o.uint64;
      v.width_ = 0;
      v.base_value_ = tag == kTagInt ? UnZigZag(raw) : static_cast<int64_t>(raw);
      return v;
    }
    case kTagFloat: return Make(schema, &o.float64, base, size, p, v.segment_);
    case kTagStr: return Make(schema, &o.str, base, size, p, v.segment_);
    case kTagBytes: return Make(schema, &o.bytes, base, size, p, v.segment_);
    case kTagDate: return Make(schema, &o.date, base, size, p, v.segment_);
    case kTagDateTime: return Make(schema, &o.datetime, base, size, p, v.segment_);
    case kTagDecimal: return Make(schema, &o.decimal, base, size, p, v.segment_);
    case kTagList: return Make(schema, &o.list, base, size, p, v.segment_);
    case kTagTuple: return Make(schema, &o.tuple, base, size, p, v.segment_);
    case kTagFrozenSet: return Make(schema, &o.frozenset, base, size, p, v.segment_);
    case kTagDict: return Make(schema, &o.dict, base, size, p, v.segment_);
    case kTagNdArray: return Make(schema, &o.ndarray, base, size, p, v.segment_);
    default: {
      std::optional<int> s = schema ? schema->FindTypecode(static_cast<char>(tag)) : std::nullopt;
      if (!s) return Corrupt(pos, "unknown object tag");
      return Make(schema, &schema->struct_type(*s), base, size, p, v.segment_);
    }
  }
}

Status ViewFactory::ReferenceTarget(const uint8_t* base, uint32_t size,
                                    const SegmentData* segment, uint32_t ref,
                                    const uint8_t** record, uint32_t* record_size,
                                    uint32_t* value_pos) {
  namespace sf = segment_format;
  const uint64_t at = ref & ~kValueRefBit;
  uint64_t p = at;
  if (p >= size) return Corrupt(at, "value reference past the end of the record");
  uint64_t item8 = 0, value = 0;
  if (!ReadVarint(base, size, &p, &item8) || !ReadVarint(base, size, &p, &value)) {
    return Corrupt(at, "truncated value reference");
  }
  const uint8_t* data = segment->data;
  if (base < data || static_cast<uint64_t>(base - data) > segment->size) {
    return Corrupt(at, "value reference outside a segment's data section");
  }
  // The target's item and record must end before this record starts.
  const uint64_t here = static_cast<uint64_t>(base - data);
  if (item8 > here / sf::kItemAlign || item8 * sf::kItemAlign + sizeof(sf::ItemHeader) > here) {
    return Corrupt(at, "value reference to an item that is not before its record");
  }
  const uint64_t item = item8 * sf::kItemAlign;
  if (segment->check != nullptr) {
    MAPFS_RETURN_IF_ERROR(segment->check(segment->context, item, sizeof(sf::ItemHeader)));
  }
  sf::ItemHeader h;
  std::memcpy(&h, data + item, sizeof(h));
  const uint64_t start = item + sf::ItemRecordOffset(h.key_size);
  if (start > here || h.record_size > here - start) {
    return Corrupt(at, "value reference to a record that is not before its record");
  }
  if (segment->check != nullptr) {
    MAPFS_RETURN_IF_ERROR(segment->check(segment->context, start, h.record_size));
  }
  if (value >= h.record_size) return Corrupt(at, "value reference past its target record");
  *record = data + start;
  *record_size = h.record_size;
  *value_pos = static_cast<uint32_t>(value);
  return Status::OK();
}

Result<View> ViewFactory::ResolveReference(const Schema* schema, const Type* t,
                                           const uint8_t* base, uint32_t size,
                                           const SegmentData* segment, uint32_t ref) {
  const uint8_t* record;
  uint32_t record_size, value_pos;
  MAPFS_RETURN_IF_ERROR(
      ReferenceTarget(base, size, segment, ref, &record, &record_size, &value_pos));
  // value_pos < record_size, so Make reads the target value itself and never
  // resolves another reference here.
  return Make(schema, t, record, record_size, value_pos, segment);
}

uint64_t View::as_uint() const {
  if (width_ == 0) return static_cast<uint64_t>(base_value_);
  if (IsSignedIntKind(type_->kind)) return static_cast<uint64_t>(LoadSigned(base_ + pos_, width_));
  return LoadUnsigned(base_ + pos_, width_);
}

bool View::is_negative_int() const {
  if (type_->kind == TypeKind::kUInt64 || !IsSignedIntKind(type_->kind)) return false;
  return as_int() < 0;
}

double View::as_float() const {
  if (type_->kind == TypeKind::kFloat32) return LoadLE<float>(base_ + pos_);
  return LoadLE<double>(base_ + pos_);
}
float View::as_float32() const { return LoadLE<float>(base_ + pos_); }
Date View::as_date() const { return Date{LoadLE<int32_t>(base_ + pos_)}; }
DateTime View::as_datetime() const { return DateTime{LoadLE<int64_t>(base_ + pos_)}; }

std::string_view View::as_bytes() const {
  return {reinterpret_cast<const char*>(base_ + body_), static_cast<size_t>(count_)};
}

Result<Decimal> View::as_decimal() const {
  uint8_t flags = base_[pos_];
  Decimal d;
  d.negative = flags & 1;
  d.kind = static_cast<Decimal::Kind>(flags >> 1);
  if (d.kind != Decimal::Kind::kFinite) {
    d.digits.clear();
    return d;
  }
  uint64_t p = pos_ + 1, exponent = 0, ndigits = 0;
  ReadVarint(base_, size_, &p, &exponent);  // proven by Make
  ReadVarint(base_, size_, &p, &ndigits);
  d.exponent = UnZigZag(exponent);
  d.digits.resize(ndigits);
  for (uint64_t i = 0; i < ndigits; ++i) {
    uint8_t byte = base_[body_ + i / 2];
    uint8_t nibble = i % 2 == 0 ? byte >> 4 : byte & 0xf;
    if (nibble > 9) return Corrupt(body_ + i / 2, "bad decimal digit");
    d.digits[i] = static_cast<char>('0' + nibble);
  }
  return d;
}

uint64_t View::dim(size_t i) const {
  uint64_t p = pos_ + 1, value = 0;
  ReadVarint(base_, size_, &p, &value);  // ndim; the shape was proven by Make
  for (size_t d = 0; d <= i; ++d) ReadVarint(base_, size_, &p, &value);
  return value;
}

std::string_view View::ndarray_data() const {
  return {reinterpret_cast<const char*>(base_ + body_), extent_};
}

bool View::HasField(int index) const {
  if (index < 0 || static_cast<uint64_t>(index) >= count_) return false;
  if (index < 64) return (static_cast<uint64_t>(base_value_) >> index) & 1;
  return base_[pos_ + index / 8] & (1u << (index % 8));
}

Result<View> View::FieldSlow(int index) const {
  if (index < 0 || static_cast<uint64_t>(index) >= count_) {
    return Status::InvalidArgument("field index " + std::to_string(index) + " out of range");
  }
  const StructDef& def = schema_->struct_def(type_->struct_index);
  const Type* ft = &def.fields[index].type;
  if (count_ <= 64) {
    // The common case: one bitmap word, kept in base_value_ when the view was made.
    uint64_t bits = static_cast<uint64_t>(base_value_);
    if (!((bits >> index) & 1)) return View();
    const StructLayout::Slot& s = def.layout.slots[index];
    uint64_t slot = body_ + std::popcount(bits & s.before[0]) +
                    2 * std::popcount(bits & s.before[1]) + 4 * std::popcount(bits & s.before[2]) +
                    8 * std::popcount(bits & s.before[3]);
    if (s.is_inline) {
      return ViewFactory::Inline(schema_, ft, base_, size_, static_cast<uint32_t>(slot), s.size);
    }
    return ViewFactory::Follow(*this, ft, LoadLE<uint32_t>(base_ + slot));
  }
  if (!HasField(index)) return View();
  uint64_t slot = body_ + StructSlotOffset(def.layout, base_ + pos_,
                                           static_cast<uint64_t>(base_value_), index);
  uint8_t w = def.layout.slot_size[index];
  if (IsFixedWidthKind(ft->kind)) {
    return ViewFactory::Inline(schema_, ft, base_, size_, static_cast<uint32_t>(slot), w);
  }
  return ViewFactory::Follow(*this, ft, LoadLE<uint32_t>(base_ + slot));
}

Result<View> View::Field(std::string_view name) const {
  const StructDef& def = schema_->struct_def(type_->struct_index);
  for (size_t i = 0; i < def.fields.size(); ++i) {
    if (def.fields[i].name == name) return Field(static_cast<int>(i));
  }
  return Status::NotFound("no field '" + std::string(name) + "' in struct " + def.name);
}

Result<View> View::At(size_t i) const {
  if (i >= count_) return Status::OutOfRange("index " + std::to_string(i) + " out of range");
  const Type& t = *type_;
  if (t.kind == TypeKind::kTuple && !t.params.empty()) {
    const uint8_t* bitmap = base_ + pos_;
    if (!(bitmap[i / 8] & (1u << (i % 8)))) return View();
    uint64_t slot = body_ + TupleSlotOffset(t, bitmap, i);
    const Type* et = &t.params[i];
    size_t fixed = FixedWidth(et->kind);
    if (fixed) {
      return ViewFactory::Inline(schema_, et, base_, size_, static_cast<uint32_t>(slot),
                                 static_cast<uint8_t>(fixed));
    }
    return ViewFactory::Follow(*this, et, LoadLE<uint32_t>(base_ + slot));
  }
  const Type* et = &ElementTypeOf(t);
  if (t.kind == TypeKind::kFrozenSet && aux_ == kSetBitmap) {
    uint64_t seen = 0;
    for (uint32_t b = 0; b < extent_; ++b) {
      uint8_t byte = base_[body_ + b];
      int ones = std::popcount(byte);
      if (seen + ones > i) {
        for (int bit = 0; bit < 8; ++bit) {
          if ((byte >> bit) & 1 && seen++ == i) {
            View v = ViewFactory::Inline(schema_, et, base_, size_, pos_, 0);
            v.base_value_ = base_value_ + static_cast<int64_t>(b) * 8 + bit;
            return v;
          }
        }
      }
      seen += ones;
    }
    return Corrupt(body_, "frozenset bitmap has fewer bits than its count");
  }
  uint64_t at = body_ + i * width_;
  if (IsFixedWidthKind(et->kind)) {
    return ViewFactory::Inline(schema_, et, base_, size_, static_cast<uint32_t>(at), width_);
  }
  return ViewFactory::Follow(*this, et, LoadLE<uint32_t>(base_ + at));
}

ElementRange View::Elements() const { return ElementRange(*this); }

Result<View> View::KeyAt(size_t i) const {
  if (i >= count_) return Status::OutOfRange("index " + std::to_string(i) + " out of range");
  const Type* kt = &type_->params[0];
  uint64_t at = body_ + i * width_;
  if (IsFixedWidthKind(kt->kind)) {
    return ViewFactory::Inline(schema_, kt, base_, size_, static_cast<uint32_t>(at), width_);
  }
  return ViewFactory::Follow(*this, kt, LoadLE<uint32_t>(base_ + at));
}

Result<View> View::ValueAt(size_t i) const {
  if (i >= count_) return Status::OutOfRange("index " + std::to_string(i) + " out of range");
  const Type* vt = &type_->params[1];
  uint64_t at = extent_ + i * aux_;
  if (IsFixedWidthKind(vt->kind)) {
    return ViewFactory::Inline(schema_, vt, base_, size_, static_cast<uint32_t>(at), aux_);
  }
  return ViewFactory::Follow(*this, vt, LoadLE<uint32_t>(base_ + at));
}

Result<View> ViewRecord(const Schema& schema, int struct_index, std::string_view data) {
  return ViewSegmentRecord(schema, struct_index, nullptr, data);  // a standalone record
}

Result<View> ViewSegmentRecord(const Schema& schema, int struct_index, const SegmentData* segment,
                               std::string_view data) {
  if (struct_index < 0 || static_cast<size_t>(struct_index) >= schema.structs().size()) {
    return Status::InvalidArgument("struct index " + std::to_string(struct_index) +
                                   " not in the schema");
  }
  if (data.size() > kMaxRecordSize) return Status::InvalidArgument("record larger than 4 GiB");
  return ViewFactory::Make(&schema, &schema.struct_type(struct_index),
                           reinterpret_cast<const uint8_t*>(data.data()),
                           static_cast<uint32_t>(data.size()), 0, segment);
}

Result<View> ViewRecordAt(const Schema& schema, int struct_index, std::string_view buffer,
                          size_t offset) {
  if (offset > buffer.size()) return Status::OutOfRange("offset past the end of the buffer");
  return ViewRecord(schema, struct_index, buffer.substr(offset));
}

Result<View> ViewValue(const Schema& schema, const Type& type, std::string_view data) {
  if (data.size() > kMaxRecordSize) return Status::InvalidArgument("value larger than 4 GiB");
  return ViewFactory::Make(&schema, &type, reinterpret_cast<const uint8_t*>(data.data()),
                           static_cast<uint32_t>(data.size()), 0);
}

}  // namespace mapfs
