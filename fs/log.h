// Error log of the filesystem daemon: standard error in the foreground,
// syslog (facility daemon, ident "mapfs") once detached. Thread-safe.
#ifndef MAPFS_FS_LOG_H_
#define MAPFS_FS_LOG_H_

namespace mapfs::fs {

// Sends further log lines to syslog as well as standard error (after
// daemonizing, standard error is /dev/null).
void LogToSyslog();
// One line, printf-style; a newline is added.
void LogError(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace mapfs::fs

#endif  // MAPFS_FS_LOG_H_
