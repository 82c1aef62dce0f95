// LogLimiter: the rate limit of the daemon's warnings and errors, so that a
// user who can read the mount (any user, under allow_other) cannot fill the
// log by reading a corrupt node in a loop.
//
// Two limits (docs/layout.md, "Mounting"):
//  - the same message is written at most once per `repeat_seconds`; the
//    copies in between are counted, and the count is reported with the
//    message's next line, or on its own once the interval is over;
//  - at most `lines_per_second` lines are written in any one second (a
//    flood of different messages); what goes over is counted and reported
//    as one line in the next second that has room.
//
// Admit and Flush return the lines to write, so the limiter writes nothing
// itself and is tested with an injected clock. Thread-safe; remembers at
// most `max_messages` distinct messages (the oldest are forgotten first).
//
//   LogLimiter limiter;
//   for (const LogLimiter::Line& l : limiter.Admit(LogLevel::kError, text)) Write(l);
//   ... once a second: for (const auto& l : limiter.Flush()) Write(l);
#ifndef MAPFS_FS_LOG_LIMITER_H_
#define MAPFS_FS_LOG_LIMITER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "log.h"

namespace mapfs::fs {

struct LogLimits {
  int64_t repeat_seconds = 60;
  int64_t lines_per_second = 20;
  size_t max_messages = 1024;
};

class LogLimiter {
 public:
  // Milliseconds of a monotonic clock.
  using Clock = std::function<int64_t()>;
  struct Line {
    LogLevel level;
    std::string text;
    bool operator==(const Line& o) const { return level == o.level && text == o.text; }
  };

  explicit LogLimiter(LogLimits limits = {}, Clock clock = SteadyMillis);

  // The lines to write for one message: none (suppressed), the message, or a
  // report of suppressed lines and then the message.
  std::vector<Line> Admit(LogLevel level, std::string_view message);
  // Reports of the messages whose interval is over and that were suppressed
  // meanwhile; forgets them.
  std::vector<Line> Flush();

  static int64_t SteadyMillis();

 private:
  struct Seen {
    std::string text;
    LogLevel level;
    int64_t logged_at;     // ms, when last written
    uint64_t suppressed;   // copies since then
  };
  // Whether a line may be written now under the per-second cap; counts it
  // if so, else counts it as suppressed.
  bool TakeLineLocked(int64_t now);
  // The report of lines the per-second cap suppressed, if any and if a line
  // may be written now.
  void ReportCappedLocked(int64_t now, std::vector<Line>* out);
  void ReportSuppressedLocked(const Seen& seen, std::vector<Line>* out);

  const LogLimits limits_;
  const Clock clock_;
  std::mutex mu_;
  std::list<Seen> seen_;  // the oldest first
  std::unordered_map<std::string_view, std::list<Seen>::iterator> index_;  // keys: seen_ texts
  int64_t second_ = -1;          // the second (ms / 1000) lines are counted in
  int64_t lines_this_second_ = 0;
  uint64_t capped_ = 0;          // lines the per-second cap suppressed, not yet reported
  LogLevel capped_level_ = LogLevel::kWarn;
};

}  // namespace mapfs::fs

#endif  // MAPFS_FS_LOG_LIMITER_H_
