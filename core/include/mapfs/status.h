// Status and Result<T>: how every libmapfs call reports success or failure.
//
// The core never throws across its API. A Status is cheap when OK (one null
// pointer) so it can sit on hot paths; an error carries a code and a message
// that names the file, the place and the reason.
//
//   Result<Segment> seg = Segment::Open("people.mapfs");
//   if (!seg.ok()) { std::cerr << seg.status().ToString() << "\n"; return 1; }
#ifndef MAPFS_STATUS_H_
#define MAPFS_STATUS_H_

#include <cassert>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace mapfs {

enum class StatusCode : int {
  kOk = 0,
  kNotFound = 1,
  kCorruption = 2,       // bytes on disk or in memory break the format
  kInvalidArgument = 3,  // the caller's input is wrong (bad JSON, bad schema, ...)
  kNotSupported = 4,
  kIOError = 5,          // the operating system said no; errno is kept
  kAlreadyExists = 6,
  kOutOfRange = 7,
};

class [[nodiscard]] Status {
 public:
  Status() noexcept = default;
  Status(const Status& other) : state_(other.state_ ? new State(*other.state_) : nullptr) {}
  Status(Status&&) noexcept = default;
  Status& operator=(const Status& other) {
    if (this != &other) state_.reset(other.state_ ? new State(*other.state_) : nullptr);
    return *this;
  }
  Status& operator=(Status&&) noexcept = default;

  static Status OK() { return Status(); }
  static Status NotFound(std::string msg) { return Status(StatusCode::kNotFound, std::move(msg)); }
  static Status Corruption(std::string msg) {
    return Status(StatusCode::kCorruption, std::move(msg));
  }
  static Status InvalidArgument(std::string msg) {
    return Status(StatusCode::kInvalidArgument, std::move(msg));
  }
  static Status NotSupported(std::string msg) {
    return Status(StatusCode::kNotSupported, std::move(msg));
  }
  static Status AlreadyExists(std::string msg) {
    return Status(StatusCode::kAlreadyExists, std::move(msg));
  }
  static Status OutOfRange(std::string msg) {
    return Status(StatusCode::kOutOfRange, std::move(msg));
  }
  // An operating-system failure; `err` is the errno value, kept for callers
  // (the filesystem maps it back to the same errno).
  static Status IOError(std::string msg, int err);
  // IOError from the current errno, as "<context>: <strerror>".
  static Status FromErrno(std::string_view context);

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  int posix_errno() const { return state_ ? state_->err : 0; }
  const std::string& message() const;
  bool IsNotFound() const { return code() == StatusCode::kNotFound; }
  bool IsCorruption() const { return code() == StatusCode::kCorruption; }
  bool IsInvalidArgument() const { return code() == StatusCode::kInvalidArgument; }
  bool IsIOError() const { return code() == StatusCode::kIOError; }

  // "Corruption: people.mapfs: offset 4096: index runs past end of file".
  std::string ToString() const;
  // A copy with `context + ": "` put before the message (same code and errno).
  Status WithContext(std::string_view context) const;

 private:
  struct State {
    StatusCode code;
    int err;
    std::string msg;
  };
  Status(StatusCode code, std::string msg, int err = 0)
      : state_(new State{code, err, std::move(msg)}) {}
  std::unique_ptr<State> state_;
};

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok());
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { assert(ok()); return *value_; }
  const T& value() const& { assert(ok()); return *value_; }
  T&& value() && { assert(ok()); return std::move(*value_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace mapfs

// Propagates a non-OK Status from an expression returning Status.
#define MAPFS_RETURN_IF_ERROR(expr)          \
  do {                                       \
    ::mapfs::Status _mapfs_st = (expr);      \
    if (!_mapfs_st.ok()) return _mapfs_st;   \
  } while (0)

#define MAPFS_CONCAT_INNER_(a, b) a##b
#define MAPFS_CONCAT_(a, b) MAPFS_CONCAT_INNER_(a, b)
// `MAPFS_ASSIGN_OR_RETURN(auto x, Foo());` declares x from a Result or returns its Status.
#define MAPFS_ASSIGN_OR_RETURN(lhs, expr) \
  MAPFS_ASSIGN_OR_RETURN_IMPL_(MAPFS_CONCAT_(_mapfs_res_, __LINE__), lhs, expr)
#define MAPFS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

#endif  // MAPFS_STATUS_H_
