// The daemon's error log; see log.h.
#include "log.h"

#include <syslog.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>

namespace mapfs::fs {

namespace {
std::atomic<bool> g_syslog{false};
}  // namespace

void LogToSyslog() {
  ::openlog("mapfs", LOG_PID | LOG_CONS, LOG_DAEMON);
  g_syslog = true;
}

void LogError(const char* format, ...) {
  char line[2048];
  va_list ap;
  va_start(ap, format);
  std::vsnprintf(line, sizeof(line), format, ap);
  va_end(ap);
  // One fprintf per line so that threads do not interleave within a line.
  std::fprintf(stderr, "mapfs: %s\n", line);
  if (g_syslog) ::syslog(LOG_ERR, "%s", line);
}

}  // namespace mapfs::fs
