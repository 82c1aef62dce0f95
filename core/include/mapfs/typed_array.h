// TypedArray: a growable array of fixed-width numbers backed by a memory
// mapping, with the typecodes and operations of Python's `array.array`
// (docs/arrays.md). The backing is either a file, which then holds nothing but the
// items in little-endian order (any program can read it; see docs/arrays.md),
// or anonymous memory (a memfd, so it is shared with children across fork()).
//
//   MAPFS_ASSIGN_OR_RETURN(TypedArray a,
//                          TypedArray::OpenFile("ids.arr", 'Q', FileMode::kTruncate));
//   MAPFS_RETURN_IF_ERROR(a.Append(42u));
//   MAPFS_ASSIGN_OR_RETURN(Number n, a.Get(-1));   // 42
//   MAPFS_RETURN_IF_ERROR(a.Close());               // file is now exactly 8 bytes
//
// Indices follow Python: negative ones count from the end; slices take
// optional start/stop and a non-zero step.
#ifndef MAPFS_TYPED_ARRAY_H_
#define MAPFS_TYPED_ARRAY_H_

#include <cmath>
#include <concepts>
#include <cstddef>
#include <memory>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "mapfs/status.h"

namespace mapfs {

// One element value as it crosses the TypedArray API. Every typecode's values
// fit one of the three kinds without loss, so no conversion happens before
// the array checks the value against its typecode.
class Number {
 public:
  enum class Kind : uint8_t { kInt, kUInt, kFloat };

  Number() : Number(int64_t{0}) {}
  template <std::signed_integral T>
  Number(T v) : kind_(Kind::kInt), i_(static_cast<int64_t>(v)) {}  // NOLINT: implicit
  template <std::unsigned_integral T>
  Number(T v) : kind_(Kind::kUInt), u_(static_cast<uint64_t>(v)) {}  // NOLINT: implicit
  template <std::floating_point T>
  Number(T v) : kind_(Kind::kFloat), d_(static_cast<double>(v)) {}  // NOLINT: implicit

  Kind kind() const { return kind_; }
  int64_t int_value() const { return i_; }      // kInt only
  uint64_t uint_value() const { return u_; }    // kUInt only
  double float_value() const { return d_; }     // kFloat only

  // The value as T if T holds it exactly (floats: if it is integral and in
  // range for an integer T; any value converts to a floating T).
  template <typename T>
  std::optional<T> As() const;

  // Numeric equality across kinds (1 == 1u == 1.0); NaN equals nothing.
  bool operator==(const Number& o) const;
  std::string ToString() const;

 private:
  Kind kind_;
  union {
    int64_t i_;
    uint64_t u_;
    double d_;
  };
};

// How OpenFile treats the file.
enum class FileMode {
  kReadOnly,   // the file must exist; every mutation fails
  kReadWrite,  // open, creating an empty file if missing; contents kept
  kTruncate,   // create, or empty an existing file
};

// Calls f(std::type_identity<T>{}) with T the C type of `typecode`, one of
// the typecodes of docs/arrays.md ('l' and 'L' are 8 bytes, as on LP64).
// Any other code is taken as 'd': validate typecodes before dispatching.
template <typename F>
decltype(auto) VisitTypecode(char typecode, F&& f) {
  switch (typecode) {
    case 'b': return f(std::type_identity<int8_t>{});
    case 'B': return f(std::type_identity<uint8_t>{});
    case 'h': return f(std::type_identity<int16_t>{});
    case 'H': return f(std::type_identity<uint16_t>{});
    case 'i': return f(std::type_identity<int32_t>{});
    case 'I': return f(std::type_identity<uint32_t>{});
    case 'l': case 'q': return f(std::type_identity<int64_t>{});
    case 'L': case 'Q': return f(std::type_identity<uint64_t>{});
    case 'f': return f(std::type_identity<float>{});
    default: return f(std::type_identity<double>{});
  }
}

// The array. Move-only; owns its descriptor and mapping. Not thread-safe:
// concurrent readers are fine, a mutation needs exclusive access. Growth may
// move the mapping, so pointers and spans obtained from it are invalidated by
// any call that adds items. Other processes mapping the same file see the
// items, but only this owner's mapping follows growth.
class TypedArray {
 public:
  // `typecode` is one of b B h H i I l L q Q f d (l/L are 8 bytes).
  static Result<TypedArray> Anonymous(char typecode);
  // A file-backed array. A file whose length is not a multiple of the item
  // size is a Corruption error naming it.
  static Result<TypedArray> OpenFile(const std::string& path, char typecode, FileMode mode);

  TypedArray(TypedArray&& o) noexcept;
  TypedArray& operator=(TypedArray&& o) noexcept;
  TypedArray(const TypedArray&) = delete;
  TypedArray& operator=(const TypedArray&) = delete;
  // Trims the file to its logical length (errors are lost: call Close()).
  ~TypedArray();

  static bool IsValidTypecode(char typecode);
  static size_t ItemSizeOf(char typecode);  // 0 for an invalid typecode

  char typecode() const { return typecode_; }
  size_t itemsize() const { return itemsize_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return capacity_; }
  bool read_only() const { return read_only_; }
  const std::string& path() const { return path_; }  // "" when anonymous

  // Element access. Errors: OutOfRange for a bad index, InvalidArgument for a
  // value the typecode cannot hold (e.g. 300 for 'b', 1.5 for 'i').
  Result<Number> Get(int64_t index) const;
  Status Set(int64_t index, Number value);

  Status Append(Number value);
  Status Extend(std::span<const Number> values);
  // Appends another array's items; the typecodes must match (it may be *this).
  Status Extend(const TypedArray& other);
  // Inserts before `index`, clamped to [0, size] as Python does.
  Status Insert(int64_t index, Number value);
  // Removes and returns the item at `index` (default: the last one).
  Result<Number> Pop(int64_t index = -1);
  // Removes the first item equal to `value`; NotFound if there is none.
  Status Remove(Number value);
  // The position of the first item equal to `value` in [start, stop).
  Result<size_t> Index(Number value, int64_t start = 0,
                       int64_t stop = INT64_MAX) const;
  size_t Count(Number value) const;
  Status Reverse();
  // Reverses the byte order of every item in place.
  Status ByteSwap();

  // A copy of a[start:stop:step] as a new anonymous array.
  Result<TypedArray> Slice(std::optional<int64_t> start, std::optional<int64_t> stop,
                           int64_t step = 1) const;
  // a[start:stop:step] = src. With step 1 the sizes may differ (the array
  // grows or shrinks); otherwise src must have as many items as the slice.
  Status AssignSlice(std::optional<int64_t> start, std::optional<int64_t> stop, int64_t step,
                     const TypedArray& src);
  // del a[start:stop:step].
  Status DeleteSlice(std::optional<int64_t> start, std::optional<int64_t> stop,
                     int64_t step = 1);
  Status Clear();

  // Appends raw items; `bytes.size()` must be a multiple of itemsize().
  Status FromBytes(std::string_view bytes);
  std::string ToBytes() const;
  std::vector<Number> ToList() const;
  // The items converted to T; InvalidArgument if one does not fit exactly.
  template <typename T>
  Result<std::vector<T>> ToVector() const;

  // Zero-copy typed views; T must be the typecode's own C type (e.g. int64_t
  // for 'q' and 'l', float for 'f'). Valid until the array grows or dies.
  template <typename T>
  Result<std::span<const T>> Span() const;
  template <typename T>
  Result<std::span<T>> MutableSpan();
  // The raw item bytes; same lifetime as Span().
  std::span<const std::byte> bytes() const { return {base(), size_ * itemsize_}; }

  // Ensures room for `n` items without moving the mapping again.
  Status Reserve(size_t n);
  // Trims the file to size()*itemsize() and flushes it (msync MS_SYNC).
  Status Sync();
  // Sync() for a writable file, then releases the mapping and descriptor.
  Status Close();

  class ConstIterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Number;
    using difference_type = std::ptrdiff_t;
    using reference = Number;
    ConstIterator() = default;
    ConstIterator(const TypedArray* a, size_t i) : a_(a), i_(i) {}
    Number operator*() const { return a_->Load(i_); }
    ConstIterator& operator++() { ++i_; return *this; }
    ConstIterator operator++(int) { ConstIterator t = *this; ++i_; return t; }
    bool operator==(const ConstIterator& o) const { return i_ == o.i_; }

   private:
    const TypedArray* a_ = nullptr;
    size_t i_ = 0;
  };
  ConstIterator begin() const { return {this, 0}; }
  ConstIterator end() const { return {this, size_}; }

 private:
  TypedArray();
  const std::byte* base() const;
  std::byte* mutable_base();
  std::string Name() const;
  Status CheckWritable() const;
  // InvalidArgument unless `other` has this array's typecode.
  Status CheckSameTypecode(const TypedArray& other) const;
  // Normalizes a Python index; OutOfRange naming `what` if it is outside.
  Result<size_t> NormalizeIndex(int64_t index, std::string_view what) const;
  Number Load(size_t i) const;
  // Stores `value` at item i, which must be < capacity; InvalidArgument if
  // the value does not fit the typecode.
  Status Store(size_t i, Number value);
  bool ItemEquals(size_t i, const Number& value) const;
  // Changes the logical size (growing capacity as needed); new items are zero.
  Status Resize(size_t n);
  Status TrimFile();
  template <typename T>
  static constexpr bool IsCType(char typecode);

  std::string path_;
  char typecode_ = 0;
  size_t itemsize_ = 0;
  bool read_only_ = false;
  size_t size_ = 0;
  size_t capacity_ = 0;  // items the file (and mapping) can hold
  // The file (or memfd) and its mapping; private to typed_array.cc.
  struct Mapping;
  std::unique_ptr<Mapping> map_;
};

template <typename T>
std::optional<T> Number::As() const {
  static_assert(std::is_arithmetic_v<T>);
  if constexpr (std::is_floating_point_v<T>) {
    switch (kind_) {
      case Kind::kInt: return static_cast<T>(i_);
      case Kind::kUInt: return static_cast<T>(u_);
      case Kind::kFloat: return static_cast<T>(d_);
    }
    return std::nullopt;
  } else {
    switch (kind_) {
      case Kind::kInt:
        if (std::in_range<T>(i_)) return static_cast<T>(i_);
        return std::nullopt;
      case Kind::kUInt:
        if (std::in_range<T>(u_)) return static_cast<T>(u_);
        return std::nullopt;
      case Kind::kFloat: {
        // Only integral values in [-2^63, 2^64) can convert exactly.
        if (!std::isfinite(d_) || std::trunc(d_) != d_) return std::nullopt;
        if (d_ >= -9223372036854775808.0 && d_ < 9223372036854775808.0) {
          int64_t v = static_cast<int64_t>(d_);
          if (static_cast<double>(v) != d_ || !std::in_range<T>(v)) return std::nullopt;
          return static_cast<T>(v);
        }
        if (d_ >= 0 && d_ < 18446744073709551616.0) {
          uint64_t v = static_cast<uint64_t>(d_);
          if (static_cast<double>(v) != d_ || !std::in_range<T>(v)) return std::nullopt;
          return static_cast<T>(v);
        }
        return std::nullopt;
      }
    }
    return std::nullopt;
  }
}

template <typename T>
constexpr bool TypedArray::IsCType(char typecode) {
  switch (typecode) {
    case 'b': return std::is_same_v<T, int8_t>;
    case 'B': return std::is_same_v<T, uint8_t>;
    case 'h': return std::is_same_v<T, int16_t>;
    case 'H': return std::is_same_v<T, uint16_t>;
    case 'i': return std::is_same_v<T, int32_t>;
    case 'I': return std::is_same_v<T, uint32_t>;
    case 'l': case 'q':
      return std::is_integral_v<T> && std::is_signed_v<T> && sizeof(T) == 8;
    case 'L': case 'Q':
      return std::is_integral_v<T> && std::is_unsigned_v<T> && sizeof(T) == 8;
    case 'f': return std::is_same_v<T, float>;
    case 'd': return std::is_same_v<T, double>;
    default: return false;
  }
}

template <typename T>
Result<std::span<const T>> TypedArray::Span() const {
  if (!IsCType<T>(typecode_)) {
    return Status::InvalidArgument(Name() + ": element type does not match typecode '" +
                                   std::string(1, typecode_) + "'");
  }
  return std::span<const T>(reinterpret_cast<const T*>(base()), size_);
}

template <typename T>
Result<std::span<T>> TypedArray::MutableSpan() {
  MAPFS_RETURN_IF_ERROR(CheckWritable());
  if (!IsCType<T>(typecode_)) {
    return Status::InvalidArgument(Name() + ": element type does not match typecode '" +
                                   std::string(1, typecode_) + "'");
  }
  return std::span<T>(reinterpret_cast<T*>(mutable_base()), size_);
}

template <typename T>
Result<std::vector<T>> TypedArray::ToVector() const {
  std::vector<T> out;
  out.reserve(size_);
  for (size_t i = 0; i < size_; ++i) {
    Number n = Load(i);
    std::optional<T> v = n.As<T>();
    if (!v) {
      return Status::InvalidArgument(Name() + ": item " + std::to_string(i) + " (" +
                                     n.ToString() + ") does not fit the requested type");
    }
    out.push_back(*v);
  }
  return out;
}

}  // namespace mapfs

#endif  // MAPFS_TYPED_ARRAY_H_
