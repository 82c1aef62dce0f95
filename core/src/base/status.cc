// Status formatting and the errno bridge.
#include "mapfs/status.h"

#include <cerrno>
#include <cstring>

namespace mapfs {

Status Status::IOError(std::string msg, int err) {
  return Status(StatusCode::kIOError, std::move(msg), err);
}

Status Status::FromErrno(std::string_view context) {
  int err = errno;
  std::string msg(context);
  msg += ": ";
  msg += std::strerror(err);
  return IOError(std::move(msg), err);
}

const std::string& Status::message() const {
  static const std::string kEmpty;
  return state_ ? state_->msg : kEmpty;
}

std::string Status::ToString() const {
  if (!state_) return "OK";
  const char* name = "Unknown";
  switch (state_->code) {
    case StatusCode::kOk: name = "OK"; break;
    case StatusCode::kNotFound: name = "NotFound"; break;
    case StatusCode::kCorruption: name = "Corruption"; break;
    case StatusCode::kInvalidArgument: name = "InvalidArgument"; break;
    case StatusCode::kNotSupported: name = "NotSupported"; break;
    case StatusCode::kIOError: name = "IOError"; break;
    case StatusCode::kAlreadyExists: name = "AlreadyExists"; break;
    case StatusCode::kOutOfRange: name = "OutOfRange"; break;
  }
  return std::string(name) + ": " + state_->msg;
}

Status Status::WithContext(std::string_view context) const {
  if (!state_) return Status();
  std::string msg(context);
  msg += ": ";
  msg += state_->msg;
  return Status(state_->code, std::move(msg), state_->err);
}

}  // namespace mapfs
