// The rate limit of warnings and errors, on an injected clock.
#include "log_limiter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mapfs::fs {
namespace {

using Lines = std::vector<LogLimiter::Line>;

struct FakeClock {
  int64_t ms = 1'000'000;
  LogLimiter::Clock clock() {
    return [this] { return ms; };
  }
};

std::vector<std::string> Texts(const Lines& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) out.push_back(l.text);
  return out;
}

TEST(LogLimiter, TheSameMessageIsWrittenOncePerIntervalWithTheCountOfTheRest) {
  FakeClock t;
  LogLimiter limiter(LogLimits{.repeat_seconds = 60, .lines_per_second = 20}, t.clock());
  const std::string msg = "/d/a.mapfs: record at offset 96: bad varint";
  EXPECT_EQ(limiter.Admit(LogLevel::kError, msg), (Lines{{LogLevel::kError, msg}}));
  int written = 1;
  for (int i = 0; i < 999; ++i) {
    t.ms += 10;  // 1,000 reads in 10 s
    written += static_cast<int>(limiter.Admit(LogLevel::kError, msg).size());
  }
  EXPECT_EQ(written, 1);
  EXPECT_TRUE(limiter.Flush().empty()) << "the interval is not over";

  // After the interval, the next copy is written with the count.
  t.ms += 60'000;
  EXPECT_EQ(Texts(limiter.Admit(LogLevel::kError, msg)),
            (std::vector<std::string>{msg + " (suppressed 999 similar messages in the last 70 s)"}));
  // A copy within the new interval, then the interval ends with no new one:
  // Flush reports it on its own and forgets the message.
  t.ms += 1'000;
  EXPECT_TRUE(limiter.Admit(LogLevel::kError, msg).empty());
  t.ms += 59'000;
  EXPECT_EQ(limiter.Flush(),
            (Lines{{LogLevel::kError, "suppressed 1 similar message in the last 60 s: " + msg}}));
  EXPECT_TRUE(limiter.Flush().empty());
  EXPECT_EQ(limiter.Admit(LogLevel::kError, msg).size(), 1u) << "forgotten: written again";
}

TEST(LogLimiter, DifferentMessagesAreCappedPerSecondAndTheExcessReported) {
  FakeClock t;
  LogLimiter limiter(LogLimits{.repeat_seconds = 60, .lines_per_second = 5}, t.clock());
  int written = 0;
  for (int i = 0; i < 1000; ++i) {
    written += static_cast<int>(
        limiter.Admit(LogLevel::kError, "record at offset " + std::to_string(i)).size());
  }
  EXPECT_EQ(written, 5);
  t.ms += 1'000;
  const Lines next = limiter.Admit(LogLevel::kWarn, "another");
  EXPECT_EQ(Texts(next), (std::vector<std::string>{
                             "suppressed 995 log messages (more than 5 a second)", "another"}));
  EXPECT_EQ(next[0].level, LogLevel::kError) << "reported at the level of the worst suppressed";
  // Flush reports the excess too when no message comes.
  for (int i = 0; i < 10; ++i) limiter.Admit(LogLevel::kWarn, "w" + std::to_string(i));
  t.ms += 1'000;
  EXPECT_EQ(Texts(limiter.Flush()),
            (std::vector<std::string>{"suppressed 7 log messages (more than 5 a second)"}));
}

TEST(LogLimiter, RemembersABoundedNumberOfMessages) {
  FakeClock t;
  LogLimiter limiter(
      LogLimits{.repeat_seconds = 60, .lines_per_second = 1'000'000, .max_messages = 3},
      t.clock());
  for (const char* m : {"a", "b", "c", "d"}) EXPECT_EQ(limiter.Admit(LogLevel::kWarn, m).size(), 1u);
  // "a" was forgotten to make room for "d": written again; "d" was not.
  EXPECT_EQ(limiter.Admit(LogLevel::kWarn, "a").size(), 1u);
  EXPECT_TRUE(limiter.Admit(LogLevel::kWarn, "d").empty());
}

}  // namespace
}  // namespace mapfs::fs
