// The rate limit of warnings and errors; see log_limiter.h.
#include "log_limiter.h"

#include <algorithm>
#include <chrono>

namespace mapfs::fs {

namespace {

std::string Suppressed(uint64_t count, int64_t since_ms) {
  return "suppressed " + std::to_string(count) + " similar message" + (count == 1 ? "" : "s") +
         " in the last " + std::to_string((since_ms + 999) / 1000) + " s";
}

}  // namespace

LogLimiter::LogLimiter(LogLimits limits, Clock clock)
    : limits_(limits), clock_(std::move(clock)) {}

int64_t LogLimiter::SteadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool LogLimiter::TakeLineLocked(int64_t now) {
  const int64_t second = now / 1000;
  if (second != second_) {
    second_ = second;
    lines_this_second_ = 0;
  }
  if (lines_this_second_ >= limits_.lines_per_second) return false;
  ++lines_this_second_;
  return true;
}

void LogLimiter::ReportCappedLocked(int64_t now, std::vector<Line>* out) {
  if (capped_ == 0 || !TakeLineLocked(now)) return;
  out->push_back({capped_level_, "suppressed " + std::to_string(capped_) + " log message" +
                                     (capped_ == 1 ? "" : "s") + " (more than " +
                                     std::to_string(limits_.lines_per_second) + " a second)"});
  capped_ = 0;
  capped_level_ = LogLevel::kWarn;
}

std::vector<LogLimiter::Line> LogLimiter::Admit(LogLevel level, std::string_view message) {
  const int64_t now = clock_();
  const int64_t repeat_ms = limits_.repeat_seconds * 1000;
  std::vector<Line> out;
  std::lock_guard<std::mutex> lock(mu_);
  auto cap = [&] {
    ++capped_;
    capped_level_ = std::max(capped_level_, level);
    return out;
  };
  auto it = index_.find(message);
  if (it != index_.end()) {
    Seen& seen = *it->second;
    if (now - seen.logged_at < repeat_ms) {
      ++seen.suppressed;
      return out;
    }
    ReportCappedLocked(now, &out);
    if (!TakeLineLocked(now)) return cap();
    std::string text(message);
    if (seen.suppressed > 0) text += " (" + Suppressed(seen.suppressed, now - seen.logged_at) + ")";
    out.push_back({level, std::move(text)});
    seen.logged_at = now;
    seen.suppressed = 0;
    seen_.splice(seen_.end(), seen_, it->second);  // the newest last
    return out;
  }
  ReportCappedLocked(now, &out);
  if (!TakeLineLocked(now)) return cap();
  out.push_back({level, std::string(message)});
  seen_.push_back(Seen{std::string(message), level, now, 0});
  index_.emplace(seen_.back().text, std::prev(seen_.end()));
  while (seen_.size() > limits_.max_messages) {
    // Forgotten: its suppressed copies still count in the next report.
    capped_ += seen_.front().suppressed;
    index_.erase(seen_.front().text);
    seen_.pop_front();
  }
  return out;
}

std::vector<LogLimiter::Line> LogLimiter::Flush() {
  const int64_t now = clock_();
  const int64_t repeat_ms = limits_.repeat_seconds * 1000;
  std::vector<Line> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = seen_.begin(); it != seen_.end();) {
    if (now - it->logged_at < repeat_ms) {
      ++it;
      continue;
    }
    if (it->suppressed > 0) {
      out.push_back({it->level, Suppressed(it->suppressed, now - it->logged_at) + ": " + it->text});
    }
    index_.erase(it->text);
    it = seen_.erase(it);
  }
  ReportCappedLocked(now, &out);
  return out;
}

}  // namespace mapfs::fs
