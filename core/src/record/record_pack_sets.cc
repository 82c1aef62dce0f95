// Sorted containers of the record encoding (docs/format.md, "Records"):
// frozenset and dict elements in the format's total order, duplicates dropped
// (sets) or refused (dict keys), and int sets as bitmaps when smaller.
#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include "record_pack_internal.h"

namespace mapfs {

using namespace record_format;  // NOLINT: the codec vocabulary of this file

// Sorts `items` by the total order of docs/format.md and drops duplicates;
// returns the order as indices into `items`. Keys that must be unique (dict)
// report duplicates as an error.
Status RecordPacker::Impl::SortedOrder(const Type& elem, size_t n,
                                       const std::function<const Value&(size_t)>& get, int depth,
                                       bool unique_required, std::vector<size_t>* order) {
  order->resize(n);
  for (size_t i = 0; i < n; ++i) {
    PathScope scope(this, nullptr, i);
    if (get(i).is_null() && elem.kind != TypeKind::kObject) {
      return Error("null in a set or dict key of " + schema_.TypeName(elem));
    }
    (*order)[i] = i;
  }
  std::function<int(size_t, size_t)> cmp;
  std::vector<uint64_t> keys;
  std::unique_ptr<Impl> child;
  std::vector<View> views;
  if (IsIntKind(elem.kind) || IsFixedWidthKind(elem.kind)) {
    keys.resize(n);
    bool is_signed = IsSignedIntKind(elem.kind);
    for (size_t i = 0; i < n; ++i) {
      PathScope scope(this, nullptr, i);
      const Value& item = get(i);
      if (IsIntKind(elem.kind)) {
        MAPFS_RETURN_IF_ERROR(IntBits(elem.kind, item, &keys[i]));
        if (is_signed) keys[i] ^= uint64_t{1} << 63;  // order negatives first
      } else if (elem.kind == TypeKind::kFloat32 || elem.kind == TypeKind::kFloat64) {
        double d = 0;
        MAPFS_RETURN_IF_ERROR(FloatOf(elem, item, &d));
        if (elem.kind == TypeKind::kFloat32) d = static_cast<float>(d);
        keys[i] = FloatOrderKey(d);
      } else if (elem.kind == TypeKind::kBool) {
        if (item.kind() != Value::Kind::kBool) return TypeError(elem, item);
        keys[i] = item.as_bool();
      } else if (elem.kind == TypeKind::kDate) {
        if (item.kind() != Value::Kind::kDate) return TypeError(elem, item);
        keys[i] = static_cast<uint64_t>(static_cast<int64_t>(item.as_date().days)) ^
                  (uint64_t{1} << 63);
      } else {
        if (item.kind() != Value::Kind::kDateTime) return TypeError(elem, item);
        keys[i] = static_cast<uint64_t>(item.as_datetime().micros) ^ (uint64_t{1} << 63);
      }
    }
    cmp = [&](size_t a, size_t b) { return keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : 0; };
  } else if ((elem.kind == TypeKind::kStr || elem.kind == TypeKind::kBytes)) {
    for (size_t i = 0; i < n; ++i) {
      Value::Kind want = elem.kind == TypeKind::kStr ? Value::Kind::kStr : Value::Kind::kBytes;
      if (get(i).kind() != want) {
        PathScope scope(this, nullptr, i);
        return TypeError(elem, get(i));
      }
    }
    cmp = [&](size_t a, size_t b) { return get(a).text().compare(get(b).text()); };
  } else {
    // Pack each element once on the side and compare the encodings.
    child = std::make_unique<Impl>(schema_);
    child->path_ = path_;
    std::vector<uint32_t> positions(n);
    for (size_t i = 0; i < n; ++i) {
      PathScope scope(child.get(), nullptr, i);
      MAPFS_RETURN_IF_ERROR(child->AppendBody(elem, get(i), depth + 1, &positions[i]));
    }
    views.resize(n);
    const uint8_t* base = reinterpret_cast<const uint8_t*>(child->out_.data());
    for (size_t i = 0; i < n; ++i) {
      MAPFS_ASSIGN_OR_RETURN(views[i], ViewFactory::Make(&schema_, &elem, base,
                                                         static_cast<uint32_t>(child->out_.size()),
                                                         positions[i]));
    }
    cmp = [&](size_t a, size_t b) { return CompareViews(views[a], views[b]); };
  }
  std::stable_sort(order->begin(), order->end(), [&](size_t a, size_t b) { return cmp(a, b) < 0; });
  size_t kept = 0;
  for (size_t i = 0; i < order->size(); ++i) {
    if (kept > 0 && cmp((*order)[kept - 1], (*order)[i]) == 0) {
      if (unique_required) {
        PathScope scope(this, nullptr, (*order)[i]);
        return Error("duplicate dict key");
      }
      continue;
    }
    (*order)[kept++] = (*order)[i];
  }
  order->resize(kept);
  if (!keys.empty()) {
    // Sets of ints may become a bitmap; remember the sorted keys for that.
    sorted_keys_.clear();
    for (size_t i : *order) sorted_keys_.push_back(keys[i]);
  }
  return Status::OK();
}

Status RecordPacker::Impl::AppendSet(const Type& elem, const std::vector<Value>& items, int depth,
                                     uint32_t* pos) {
  if (IsIntKind(elem.kind)) return AppendIntSet(elem, items, pos);
  std::vector<size_t> order;
  auto get = [&](size_t i) -> const Value& { return items[i]; };
  MAPFS_RETURN_IF_ERROR(SortedOrder(elem, items.size(), get, depth, false, &order));
  *pos = Here();
  if (IsIntKind(elem.kind) && !order.empty() && TryAppendBitmap(elem)) return Status::OK();
  out_.push_back(static_cast<char>(kSetSorted));
  uint32_t list_pos;
  return AppendList(elem, order.size(), [&](size_t i) -> const Value& { return items[order[i]]; },
                    depth, &list_pos);
}

// Int sets, the common case, sorted in a reused buffer: no index vector,
// no comparator object. Same bytes as the general path.
Status RecordPacker::Impl::AppendIntSet(const Type& elem, const std::vector<Value>& items,
                                        uint32_t* pos) {
  bool is_signed = IsSignedIntKind(elem.kind);
  sorted_keys_.resize(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    PathScope scope(this, nullptr, i);
    if (items[i].is_null()) return Error("null in a set or dict key of " + schema_.TypeName(elem));
    MAPFS_RETURN_IF_ERROR(IntBits(elem.kind, items[i], &sorted_keys_[i]));
    if (is_signed) sorted_keys_[i] ^= uint64_t{1} << 63;  // order negatives first
  }
  std::sort(sorted_keys_.begin(), sorted_keys_.end());
  sorted_keys_.erase(std::unique(sorted_keys_.begin(), sorted_keys_.end()), sorted_keys_.end());
  *pos = Here();
  if (!sorted_keys_.empty() && TryAppendBitmap(elem)) return Status::OK();
  out_.push_back(static_cast<char>(kSetSorted));
  size_t n = sorted_keys_.size();
  AppendVarint(&out_, n);
  uint64_t flip = is_signed ? uint64_t{1} << 63 : 0;
  unsigned w = 1;
  if (n > 0) {
    uint64_t lo = sorted_keys_.front() ^ flip, hi = sorted_keys_.back() ^ flip;
    w = is_signed ? SignedWidth(static_cast<int64_t>(lo), static_cast<int64_t>(hi))
                  : UnsignedWidth(hi);
  }
  out_.push_back(static_cast<char>(w));
  size_t at = out_.size();
  out_.resize(at + n * w);
  for (size_t i = 0; i < n; ++i) {
    uint64_t v = sorted_keys_[i] ^ flip;
    std::memcpy(out_.data() + at + i * w, &v, w);
  }
  return Status::OK();
}

// Encodes the sorted int set in sorted_keys_ as a bitmap when that is smaller.
bool RecordPacker::Impl::TryAppendBitmap(const Type& elem) {
  bool is_signed = IsSignedIntKind(elem.kind);
  auto value_of = [&](uint64_t key) {
    return is_signed ? static_cast<int64_t>(key ^ (uint64_t{1} << 63)) : static_cast<int64_t>(key);
  };
  uint64_t first = sorted_keys_.front(), last = sorted_keys_.back();
  if (!is_signed && last > static_cast<uint64_t>(INT64_MAX)) return false;
  uint64_t span = last - first;
  if (span >= (uint64_t{1} << 32)) return false;
  uint64_t nbytes = span / 8 + 1;
  unsigned w = is_signed ? SignedWidth(value_of(first), value_of(last)) : UnsignedWidth(last);
  uint64_t list_bytes = sorted_keys_.size() * w + 1;
  if (nbytes + 8 >= list_bytes) return false;
  out_.push_back(static_cast<char>(kSetBitmap));
  int64_t base = value_of(first);
  AppendVarint(&out_, ZigZag(base));
  AppendVarint(&out_, sorted_keys_.size());
  AppendVarint(&out_, nbytes);
  size_t at = out_.size();
  out_.resize(at + nbytes);
  for (uint64_t k : sorted_keys_) {
    uint64_t bit = k - first;
    out_[at + bit / 8] = static_cast<char>(out_[at + bit / 8] | (1 << (bit % 8)));
  }
  return true;
}

Status RecordPacker::Impl::AppendDict(const Type& t, const Value& v, int depth, uint32_t* pos) {
  size_t n = v.dict_size();
  std::vector<size_t> order;
  MAPFS_RETURN_IF_ERROR(SortedOrder(t.params[0], n,
                                    [&](size_t i) -> const Value& { return v.dict_key(i); },
                                    depth, true, &order));
  *pos = Here();
  size_t refs = out_.size();
  out_.resize(refs + 2 * kRefSize);
  uint32_t keys_pos, values_pos;
  MAPFS_RETURN_IF_ERROR(AppendList(t.params[0], n,
                                   [&](size_t i) -> const Value& { return v.dict_key(order[i]); },
                                   depth, &keys_pos));
  PutRef(refs, keys_pos);
  MAPFS_RETURN_IF_ERROR(AppendList(t.params[1], n,
                                   [&](size_t i) -> const Value& { return v.dict_value(order[i]); },
                                   depth, &values_pos));
  PutRef(refs + kRefSize, values_pos);
  return Status::OK();
}

}  // namespace mapfs
