// TypedArray slices with Python's rules (docs/arrays.md): a[start:stop:step]
// read, assigned (an extended slice only from an array of its length) and
// deleted.
#include "mapfs/typed_array.h"

#include <algorithm>
#include <cstring>
#include <optional>

namespace mapfs {
namespace {

// Python's PySlice_AdjustIndices: the items of a[start:stop:step] are
// start + k*step for k in [0, length).
struct SliceSpec {
  int64_t start, stop, step, length;
};

SliceSpec AdjustSlice(size_t size, std::optional<int64_t> start_opt,
                      std::optional<int64_t> stop_opt, int64_t step) {
  const int64_t len = static_cast<int64_t>(size);
  auto adjust = [&](std::optional<int64_t> v, int64_t if_none) {
    if (!v) return if_none;
    int64_t x = *v;
    if (x < 0) {
      x = x < -len ? (step < 0 ? -1 : 0) : x + len;
    } else if (x >= len) {
      x = step < 0 ? len - 1 : len;
    }
    return x;
  };
  SliceSpec s;
  s.step = step;
  s.start = adjust(start_opt, step < 0 ? len - 1 : 0);
  s.stop = adjust(stop_opt, step < 0 ? -1 : len);
  if (step < 0) {
    s.length = s.stop < s.start ? (s.start - s.stop - 1) / (-step) + 1 : 0;
  } else {
    s.length = s.start < s.stop ? (s.stop - s.start - 1) / step + 1 : 0;
  }
  return s;
}

}  // namespace

Result<TypedArray> TypedArray::Slice(std::optional<int64_t> start, std::optional<int64_t> stop,
                                     int64_t step) const {
  if (step == 0) return Status::InvalidArgument(Name() + ": slice step cannot be zero");
  SliceSpec s = AdjustSlice(size_, start, stop, step);
  MAPFS_ASSIGN_OR_RETURN(TypedArray out, Anonymous(typecode_));
  MAPFS_RETURN_IF_ERROR(out.Resize(static_cast<size_t>(s.length)));
  std::byte* dst = out.mutable_base();
  if (step == 1) {
    if (s.length > 0) {
      std::memcpy(dst, base() + s.start * itemsize_, static_cast<size_t>(s.length) * itemsize_);
    }
  } else {
    for (int64_t k = 0; k < s.length; ++k) {
      std::memcpy(dst + k * itemsize_, base() + (s.start + k * step) * itemsize_, itemsize_);
    }
  }
  return out;
}

Status TypedArray::AssignSlice(std::optional<int64_t> start, std::optional<int64_t> stop,
                               int64_t step, const TypedArray& src) {
  MAPFS_RETURN_IF_ERROR(CheckWritable());
  MAPFS_RETURN_IF_ERROR(CheckSameTypecode(src));
  if (step == 0) return Status::InvalidArgument(Name() + ": slice step cannot be zero");
  // a[...] = a: take a copy first, since the source moves as we shift items.
  std::string copy;
  const std::byte* from = src.base();
  const size_t needed = src.size_;
  if (&src == this) {
    copy = ToBytes();
    from = reinterpret_cast<const std::byte*>(copy.data());
  }
  SliceSpec s = AdjustSlice(size_, start, stop, step);
  if (step == 1) {
    const size_t lo = static_cast<size_t>(s.start);
    const size_t hi = std::max(lo, static_cast<size_t>(s.stop));
    const size_t old_size = size_;
    const size_t tail = old_size - hi;
    const size_t new_size = old_size - (hi - lo) + needed;
    if (new_size > old_size) MAPFS_RETURN_IF_ERROR(Resize(new_size));
    std::byte* b = mutable_base();
    if (tail > 0) std::memmove(b + (lo + needed) * itemsize_, b + hi * itemsize_, tail * itemsize_);
    if (needed > 0) std::memcpy(b + lo * itemsize_, from, needed * itemsize_);
    size_ = new_size;
    return Status::OK();
  }
  if (static_cast<int64_t>(needed) != s.length) {
    return Status::InvalidArgument(Name() + ": attempt to assign array of size " +
                                   std::to_string(needed) + " to extended slice of size " +
                                   std::to_string(s.length));
  }
  std::byte* b = mutable_base();
  for (int64_t k = 0; k < s.length; ++k) {
    std::memcpy(b + (s.start + k * step) * itemsize_, from + k * itemsize_, itemsize_);
  }
  return Status::OK();
}

Status TypedArray::DeleteSlice(std::optional<int64_t> start, std::optional<int64_t> stop,
                               int64_t step) {
  MAPFS_RETURN_IF_ERROR(CheckWritable());
  if (step == 0) return Status::InvalidArgument(Name() + ": slice step cannot be zero");
  SliceSpec s = AdjustSlice(size_, start, stop, step);
  if (s.length == 0) return Status::OK();
  // The same items walked upwards: first = lowest index, stride = |step|.
  int64_t first = step > 0 ? s.start : s.start + step * (s.length - 1);
  int64_t stride = step > 0 ? step : -step;
  int64_t last = first + stride * (s.length - 1);
  std::byte* b = mutable_base();
  size_t out = static_cast<size_t>(first);
  for (size_t i = static_cast<size_t>(first); i < size_; ++i) {
    int64_t d = static_cast<int64_t>(i) - first;
    if (static_cast<int64_t>(i) <= last && d % stride == 0) continue;
    if (out != i) std::memcpy(b + out * itemsize_, b + i * itemsize_, itemsize_);
    ++out;
  }
  size_ = out;
  return Status::OK();
}

}  // namespace mapfs
