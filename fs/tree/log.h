// The daemon's log, with levels (spdlog): standard error in the foreground
// (which systemd's journal captures), syslog (facility daemon, ident
// "mapfs") once detached. Lines look like "mapfs: error: ...". Thread-safe.
// Warnings and errors are rate-limited (log_limiter.h): the same message at
// most once a minute, at most 20 lines a second, with counts of what was
// suppressed.
#ifndef MAPFS_FS_LOG_H_
#define MAPFS_FS_LOG_H_

#include <string_view>

#include "mapfs/status.h"

namespace mapfs::fs {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Lines below `level` are dropped (default: info).
void SetLogLevel(LogLevel level);
// Parses "debug", "info", "warn" or "error".
Result<LogLevel> ParseLogLevel(std::string_view name);
// Sends further lines to syslog as well as standard error (after
// daemonizing, standard error is /dev/null).
void LogToSyslog();

// Writes the counts of suppressed messages whose interval is over (called
// once a second by the reload watcher).
void FlushSuppressedLogs();

// One line each, printf-style; a newline is added.
void LogError(const char* format, ...) __attribute__((format(printf, 1, 2)));
void LogWarn(const char* format, ...) __attribute__((format(printf, 1, 2)));
void LogInfo(const char* format, ...) __attribute__((format(printf, 1, 2)));
void LogDebug(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace mapfs::fs

#endif  // MAPFS_FS_LOG_H_
