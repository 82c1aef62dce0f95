// The daemon's log; see log.h.
#include "log.h"

#include "log_limiter.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>
#include <syslog.h>

#include <cstdarg>
#include <cstdio>
#include <memory>
#include <mutex>
#include <vector>

namespace mapfs::fs {

namespace {

spdlog::level::level_enum SpdLevel(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

// Unbuffered standard error: a line must be out before the daemon dies.
spdlog::logger& Logger() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    auto stderr_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    // "mapfs: error: ...", "mapfs: ..." for info: what users grep for.
    stderr_sink->set_pattern("mapfs: %^%l: %$%v");
    auto l = std::make_shared<spdlog::logger>("mapfs", stderr_sink);
    l->set_level(spdlog::level::info);
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return *logger;
}

// Warnings and errors can be caused by any reader (a corrupt node read in a
// loop): they go through the rate limit (log_limiter.h).
LogLimiter& Limiter() {
  static LogLimiter limiter;
  return limiter;
}

void Write(const std::vector<LogLimiter::Line>& lines) {
  for (const LogLimiter::Line& l : lines) Logger().log(SpdLevel(l.level), "{}", l.text);
}

void Log(LogLevel level, const char* format, va_list ap) {
  spdlog::logger& logger = Logger();
  if (!logger.should_log(SpdLevel(level))) return;
  char line[2048];
  std::vsnprintf(line, sizeof(line), format, ap);
  if (level >= LogLevel::kWarn) return Write(Limiter().Admit(level, line));
  logger.log(SpdLevel(level), "{}", line);
}

}  // namespace

void FlushSuppressedLogs() { Write(Limiter().Flush()); }

void SetLogLevel(LogLevel level) { Logger().set_level(SpdLevel(level)); }

Result<LogLevel> ParseLogLevel(std::string_view name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "info") return LogLevel::kInfo;
  if (name == "warn") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  return Status::InvalidArgument("unknown log level '" + std::string(name) +
                                 "' (expected debug, info, warn or error)");
}

void LogToSyslog() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto sink = std::make_shared<spdlog::sinks::syslog_sink_mt>("mapfs", LOG_PID, LOG_DAEMON,
                                                                 /*enable_formatting=*/true);
    sink->set_pattern("%l: %v");
    Logger().sinks().push_back(sink);
  });
}

#define MAPFS_DEFINE_LOG(Name, level)       \
  void Name(const char* format, ...) {      \
    va_list ap;                             \
    va_start(ap, format);                   \
    Log(level, format, ap);                 \
    va_end(ap);                             \
  }
MAPFS_DEFINE_LOG(LogError, LogLevel::kError)
MAPFS_DEFINE_LOG(LogWarn, LogLevel::kWarn)
MAPFS_DEFINE_LOG(LogInfo, LogLevel::kInfo)
MAPFS_DEFINE_LOG(LogDebug, LogLevel::kDebug)
#undef MAPFS_DEFINE_LOG

}  // namespace mapfs::fs
