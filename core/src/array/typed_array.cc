// TypedArray: typecode dispatch, value range checks, Python index rules, and
// capacity growth of the backing file (docs/arrays.md). Slices are in
// typed_array_slices.cc.
//
// The file (or memfd) is kept `capacity_ * itemsize_` bytes long while the
// array is open, with the space allocated up front, so stores through the
// mapping never fault on a full filesystem; Sync/Close trim it to the logical
// length. Growth maps the larger file afresh (no copy: both mappings share the
// page cache) and drops the old mapping.
#include "mapfs/typed_array.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <utility>

#include "file_util.h"

namespace mapfs {
namespace {

static_assert(std::endian::native == std::endian::little,
              "TypedArray files are little-endian; a big-endian port must swap on load/store");

constexpr size_t kPageSize = 4096;

size_t RoundUpToPage(size_t n) { return (n + kPageSize - 1) / kPageSize * kPageSize; }

}  // namespace

// ---- Number ----

bool Number::operator==(const Number& o) const {
  if (kind_ == Kind::kFloat && o.kind_ == Kind::kFloat) return d_ == o.d_;
  if (kind_ == Kind::kFloat || o.kind_ == Kind::kFloat) {
    const Number& f = kind_ == Kind::kFloat ? *this : o;
    const Number& n = kind_ == Kind::kFloat ? o : *this;
    // Exact comparison, as Python does: 2**53 + 1 != float(2**53 + 1).
    if (n.kind_ == Kind::kInt) {
      std::optional<int64_t> v = f.As<int64_t>();
      return v && *v == n.i_;
    }
    std::optional<uint64_t> v = f.As<uint64_t>();
    return v && *v == n.u_;
  }
  if (kind_ == Kind::kInt) {
    return o.kind_ == Kind::kInt ? i_ == o.i_ : std::cmp_equal(i_, o.u_);
  }
  return o.kind_ == Kind::kInt ? std::cmp_equal(u_, o.i_) : u_ == o.u_;
}

std::string Number::ToString() const {
  switch (kind_) {
    case Kind::kInt: return std::to_string(i_);
    case Kind::kUInt: return std::to_string(u_);
    case Kind::kFloat: break;
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d_);
  return ec == std::errc() ? std::string(buf, end) : "?";
}

// ---- construction and lifetime ----

bool TypedArray::IsValidTypecode(char typecode) { return ItemSizeOf(typecode) != 0; }

size_t TypedArray::ItemSizeOf(char typecode) {
  switch (typecode) {
    case 'b': case 'B': return 1;
    case 'h': case 'H': return 2;
    case 'i': case 'I': case 'f': return 4;
    case 'l': case 'L': case 'q': case 'Q': case 'd': return 8;
    default: return 0;
  }
}

static Status BadTypecode(char typecode) {
  return Status::InvalidArgument(std::string("bad typecode '") + typecode +
                                 "' (must be one of b B h H i I l L q Q f d)");
}

struct TypedArray::Mapping {
  UniqueFd fd;
  MappedRegion region;
};

TypedArray::TypedArray() : map_(std::make_unique<Mapping>()) {}

const std::byte* TypedArray::base() const {
  return static_cast<const std::byte*>(map_->region.addr());
}
std::byte* TypedArray::mutable_base() { return static_cast<std::byte*>(map_->region.addr()); }

Result<TypedArray> TypedArray::Anonymous(char typecode) {
  if (!IsValidTypecode(typecode)) return BadTypecode(typecode);
  int fd = ::memfd_create("mapfs-typed-array", MFD_CLOEXEC);
  if (fd < 0) return Status::FromErrno("memfd_create");
  TypedArray a;
  a.map_->fd.Reset(fd);
  a.typecode_ = typecode;
  a.itemsize_ = ItemSizeOf(typecode);
  return a;
}

Result<TypedArray> TypedArray::OpenFile(const std::string& path, char typecode, FileMode mode) {
  if (!IsValidTypecode(typecode)) return BadTypecode(typecode).WithContext(path);
  int flags = O_RDWR | O_CREAT;
  if (mode == FileMode::kReadOnly) flags = O_RDONLY;
  if (mode == FileMode::kTruncate) flags |= O_TRUNC;
  MAPFS_ASSIGN_OR_RETURN(UniqueFd fd, UniqueFd::Open(path, flags));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno(path);
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(path + ": not a regular file");
  TypedArray a;
  a.path_ = path;
  a.typecode_ = typecode;
  a.itemsize_ = ItemSizeOf(typecode);
  a.read_only_ = mode == FileMode::kReadOnly;
  const size_t bytes = static_cast<size_t>(st.st_size);
  if (bytes % a.itemsize_ != 0) {
    return Status::Corruption(path + ": file size " + std::to_string(bytes) +
                              " is not a multiple of the item size " +
                              std::to_string(a.itemsize_) + " of typecode '" + typecode + "'");
  }
  const int prot = a.read_only_ ? PROT_READ : PROT_READ | PROT_WRITE;
  auto region = MappedRegion::Map(fd.get(), a.read_only_ ? bytes : RoundUpToPage(bytes), prot,
                                  MAP_SHARED);
  if (!region.ok()) return region.status().WithContext(path);
  a.map_->region = std::move(region).value();
  a.map_->fd = std::move(fd);
  a.size_ = a.capacity_ = bytes / a.itemsize_;
  return a;
}

TypedArray::TypedArray(TypedArray&& o) noexcept
    : path_(std::move(o.path_)),
      typecode_(o.typecode_),
      itemsize_(o.itemsize_),
      read_only_(o.read_only_),
      size_(std::exchange(o.size_, 0)),
      capacity_(std::exchange(o.capacity_, 0)),
      map_(std::exchange(o.map_, std::make_unique<Mapping>())) {}

TypedArray& TypedArray::operator=(TypedArray&& o) noexcept {
  if (this != &o) {
    (void)TrimFile();
    path_ = std::move(o.path_);
    typecode_ = o.typecode_;
    itemsize_ = o.itemsize_;
    read_only_ = o.read_only_;
    size_ = std::exchange(o.size_, 0);
    capacity_ = std::exchange(o.capacity_, 0);
    map_ = std::exchange(o.map_, std::make_unique<Mapping>());
  }
  return *this;
}

TypedArray::~TypedArray() { (void)TrimFile(); }

std::string TypedArray::Name() const { return path_.empty() ? "anonymous array" : path_; }

Status TypedArray::CheckWritable() const {
  if (!map_->fd.valid()) return Status::InvalidArgument(Name() + ": array is closed");
  if (read_only_) return Status::IOError(Name() + ": array is read-only", EROFS);
  return Status::OK();
}

Status TypedArray::TrimFile() {
  if (!map_->fd.valid() || read_only_ || path_.empty()) return Status::OK();
  const size_t bytes = size_ * itemsize_;
  if (capacity_ * itemsize_ == bytes) return Status::OK();
  if (::ftruncate(map_->fd.get(), static_cast<off_t>(bytes)) != 0) return Status::FromErrno(path_);
  capacity_ = size_;
  return Status::OK();
}

Status TypedArray::Reserve(size_t n) {
  if (n <= capacity_) return Status::OK();
  MAPFS_RETURN_IF_ERROR(CheckWritable());
  const size_t max_items = static_cast<size_t>(std::numeric_limits<off_t>::max()) / itemsize_ / 2;
  if (n > max_items) return Status::InvalidArgument(Name() + ": array too large");
  // Geometric growth keeps appends amortized O(1); whole pages, since the
  // mapping is page-granular anyway.
  size_t want = std::max({n, capacity_ * 2, kPageSize / itemsize_});
  const size_t new_bytes = RoundUpToPage(want * itemsize_);
  const size_t old_bytes = capacity_ * itemsize_;
  int err = ::posix_fallocate(map_->fd.get(), static_cast<off_t>(old_bytes),
                              static_cast<off_t>(new_bytes - old_bytes));
  if (err != 0) {
    (void)!::ftruncate(map_->fd.get(), static_cast<off_t>(old_bytes));
    return Status::IOError(Name() + ": growing to " + std::to_string(new_bytes) +
                               " bytes: " + std::strerror(err), err);
  }
  if (new_bytes > map_->region.size()) {
    auto region = MappedRegion::Map(map_->fd.get(), new_bytes, PROT_READ | PROT_WRITE, MAP_SHARED);
    if (!region.ok()) {
      (void)!::ftruncate(map_->fd.get(), static_cast<off_t>(old_bytes));
      return region.status().WithContext(Name());
    }
    map_->region = std::move(region).value();
  }
  capacity_ = new_bytes / itemsize_;
  return Status::OK();
}

Status TypedArray::Resize(size_t n) {
  MAPFS_RETURN_IF_ERROR(CheckWritable());
  MAPFS_RETURN_IF_ERROR(Reserve(n));
  if (n > size_) std::memset(mutable_base() + size_ * itemsize_, 0, (n - size_) * itemsize_);
  size_ = n;
  return Status::OK();
}

Status TypedArray::Sync() {
  if (!map_->fd.valid() || read_only_ || path_.empty()) return Status::OK();
  MAPFS_RETURN_IF_ERROR(TrimFile());
  if (size_ > 0 && ::msync(map_->region.addr(), RoundUpToPage(size_ * itemsize_), MS_SYNC) != 0) {
    return Status::FromErrno(path_);
  }
  return Status::OK();
}

Status TypedArray::Close() {
  Status st = Sync();
  map_->region.Reset();
  map_->fd.Reset();
  size_ = capacity_ = 0;
  return st;
}

// ---- items ----

Number TypedArray::Load(size_t i) const {
  return VisitTypecode(typecode_, [&]<typename T>(std::type_identity<T>) {
    T v;
    std::memcpy(&v, base() + i * itemsize_, sizeof v);
    return Number(v);
  });
}

// Encodes `value` as the typecode's bytes into `out` (itemsize bytes), or
// says why it does not fit.
static Status EncodeItem(char typecode, const Number& value, std::byte* out) {
  return VisitTypecode(typecode, [&]<typename T>(std::type_identity<T>) -> Status {
    std::optional<T> v;
    if constexpr (std::is_integral_v<T>) {
      if (value.kind() == Number::Kind::kFloat) {
        return Status::InvalidArgument("typecode '" + std::string(1, typecode) +
                                       "' needs an integer, got " + value.ToString());
      }
      v = value.As<T>();
    } else {
      // A finite double beyond FLT_MAX would silently become infinity.
      if (std::is_same_v<T, float> && value.kind() == Number::Kind::kFloat &&
          std::isfinite(value.float_value()) &&
          std::fabs(value.float_value()) > std::numeric_limits<float>::max()) {
        v = std::nullopt;
      } else {
        v = value.As<T>();
      }
    }
    if (!v) {
      return Status::InvalidArgument("value " + value.ToString() +
                                     " out of range for typecode '" + std::string(1, typecode) +
                                     "'");
    }
    std::memcpy(out, &*v, sizeof(T));
    return Status::OK();
  });
}

Status TypedArray::Store(size_t i, Number value) {
  std::byte buf[8];
  Status st = EncodeItem(typecode_, value, buf);
  if (!st.ok()) return st.WithContext(Name());
  std::memcpy(mutable_base() + i * itemsize_, buf, itemsize_);
  return Status::OK();
}

Result<size_t> TypedArray::NormalizeIndex(int64_t index, std::string_view what) const {
  int64_t len = static_cast<int64_t>(size_);
  int64_t i = index < 0 ? index + len : index;
  if (i < 0 || i >= len) {
    return Status::OutOfRange(Name() + ": " + std::string(what) + " index " +
                              std::to_string(index) + " out of range (size " +
                              std::to_string(size_) + ")");
  }
  return static_cast<size_t>(i);
}

Result<Number> TypedArray::Get(int64_t index) const {
  MAPFS_ASSIGN_OR_RETURN(size_t i, NormalizeIndex(index, "get"));
  return Load(i);
}

Status TypedArray::Set(int64_t index, Number value) {
  MAPFS_RETURN_IF_ERROR(CheckWritable());
  MAPFS_ASSIGN_OR_RETURN(size_t i, NormalizeIndex(index, "set"));
  return Store(i, value);
}

Status TypedArray::Append(Number value) {
  MAPFS_RETURN_IF_ERROR(CheckWritable());
  std::byte buf[8];
  Status st = EncodeItem(typecode_, value, buf);
  if (!st.ok()) return st.WithContext(Name());
  MAPFS_RETURN_IF_ERROR(Reserve(size_ + 1));
  std::memcpy(mutable_base() + size_ * itemsize_, buf, itemsize_);
  ++size_;
  return Status::OK();
}

Status TypedArray::Extend(std::span<const Number> values) {
  MAPFS_RETURN_IF_ERROR(CheckWritable());
  // All or nothing: encode every value before the array changes.
  std::string encoded(values.size() * itemsize_, '\0');
  for (size_t k = 0; k < values.size(); ++k) {
    Status st = EncodeItem(typecode_, values[k],
                           reinterpret_cast<std::byte*>(encoded.data()) + k * itemsize_);
    if (!st.ok()) return st.WithContext(Name() + ": extend item " + std::to_string(k));
  }
  return FromBytes(encoded);
}

Status TypedArray::CheckSameTypecode(const TypedArray& other) const {
  if (other.typecode_ == typecode_) return Status::OK();
  return Status::InvalidArgument(Name() + ": can only use an array of typecode '" +
                                 std::string(1, typecode_) + "' here, got '" +
                                 std::string(1, other.typecode_) + "'");
}

Status TypedArray::Extend(const TypedArray& other) {
  MAPFS_RETURN_IF_ERROR(CheckSameTypecode(other));
  if (&other == this) return FromBytes(ToBytes());
  const auto b = other.bytes();
  return FromBytes(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

Status TypedArray::FromBytes(std::string_view bytes) {
  MAPFS_RETURN_IF_ERROR(CheckWritable());
  if (bytes.size() % itemsize_ != 0) {
    return Status::InvalidArgument(Name() + ": byte length " + std::to_string(bytes.size()) +
                                   " is not a multiple of the item size " +
                                   std::to_string(itemsize_));
  }
  if (bytes.empty()) return Status::OK();
  // Bytes that point into our own mapping would move with it on growth.
  const auto* p = reinterpret_cast<const std::byte*>(bytes.data());
  if (p >= base() && p < base() + map_->region.size()) return FromBytes(std::string(bytes));
  const size_t old = size_;
  MAPFS_RETURN_IF_ERROR(Resize(size_ + bytes.size() / itemsize_));
  std::memcpy(mutable_base() + old * itemsize_, bytes.data(), bytes.size());
  return Status::OK();
}

std::string TypedArray::ToBytes() const {
  return std::string(reinterpret_cast<const char*>(base()), size_ * itemsize_);
}

std::vector<Number> TypedArray::ToList() const {
  std::vector<Number> out;
  out.reserve(size_);
  for (size_t i = 0; i < size_; ++i) out.push_back(Load(i));
  return out;
}

Status TypedArray::Insert(int64_t index, Number value) {
  MAPFS_RETURN_IF_ERROR(CheckWritable());
  std::byte buf[8];
  Status st = EncodeItem(typecode_, value, buf);
  if (!st.ok()) return st.WithContext(Name());
  const int64_t len = static_cast<int64_t>(size_);
  int64_t where = index < 0 ? std::max<int64_t>(index + len, 0) : std::min(index, len);
  const size_t w = static_cast<size_t>(where);
  MAPFS_RETURN_IF_ERROR(Resize(size_ + 1));
  std::byte* b = mutable_base();
  std::memmove(b + (w + 1) * itemsize_, b + w * itemsize_, (size_ - 1 - w) * itemsize_);
  std::memcpy(b + w * itemsize_, buf, itemsize_);
  return Status::OK();
}

Result<Number> TypedArray::Pop(int64_t index) {
  MAPFS_RETURN_IF_ERROR(CheckWritable());
  if (size_ == 0) return Status::OutOfRange(Name() + ": pop from empty array");
  MAPFS_ASSIGN_OR_RETURN(size_t i, NormalizeIndex(index, "pop"));
  Number v = Load(i);
  std::byte* b = mutable_base();
  std::memmove(b + i * itemsize_, b + (i + 1) * itemsize_, (size_ - 1 - i) * itemsize_);
  --size_;
  return v;
}

Result<size_t> TypedArray::Index(Number value, int64_t start, int64_t stop) const {
  const int64_t len = static_cast<int64_t>(size_);
  if (start < 0) start = std::max<int64_t>(start + len, 0);
  if (stop < 0) stop = std::max<int64_t>(stop + len, 0);
  stop = std::min(stop, len);
  for (int64_t i = start; i < stop; ++i) {
    if (ItemEquals(static_cast<size_t>(i), value)) return static_cast<size_t>(i);
  }
  return Status::NotFound(Name() + ": value " + value.ToString() + " not in array");
}

bool TypedArray::ItemEquals(size_t i, const Number& value) const { return Load(i) == value; }

size_t TypedArray::Count(Number value) const {
  return VisitTypecode(typecode_, [&]<typename T>(std::type_identity<T>) -> size_t {
    const T* items = reinterpret_cast<const T*>(base());
    if constexpr (std::is_integral_v<T>) {
      // One conversion up front; a value T cannot hold matches nothing.
      std::optional<T> want = value.As<T>();
      if (!want) return 0;
      return static_cast<size_t>(std::count(items, items + size_, *want));
    } else {
      return static_cast<size_t>(std::count_if(
          items, items + size_, [&](T x) { return Number(x) == value; }));
    }
  });
}

Status TypedArray::Remove(Number value) {
  MAPFS_RETURN_IF_ERROR(CheckWritable());
  MAPFS_ASSIGN_OR_RETURN(size_t i, Index(value));
  return Pop(static_cast<int64_t>(i)).status();
}

Status TypedArray::Reverse() {
  MAPFS_RETURN_IF_ERROR(CheckWritable());
  VisitTypecode(typecode_, [&]<typename T>(std::type_identity<T>) {
    T* items = reinterpret_cast<T*>(mutable_base());
    std::reverse(items, items + size_);
  });
  return Status::OK();
}

Status TypedArray::ByteSwap() {
  MAPFS_RETURN_IF_ERROR(CheckWritable());
  std::byte* b = mutable_base();
  for (size_t i = 0; i < size_; ++i) std::reverse(b + i * itemsize_, b + (i + 1) * itemsize_);
  return Status::OK();
}

Status TypedArray::Clear() {
  MAPFS_RETURN_IF_ERROR(CheckWritable());
  size_ = 0;
  return Status::OK();
}

}  // namespace mapfs
