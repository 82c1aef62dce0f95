// The mount options and their one validator; see mapfs/mount_options.h.
#include "mapfs/mount_options.h"

#include <charconv>
#include <cmath>
#include <string>

namespace mapfs {
namespace {

Status Invalid(std::string_view name, const std::string& must, std::string_view text) {
  return Status::InvalidArgument("'" + std::string(name) + "' must be " + must + ", got '" +
                                 std::string(text) + "'");
}

Result<bool> ParseBool(std::string_view name, std::optional<std::string_view> value) {
  if (!value) return true;  // -o allow_other
  if (*value == "true" || *value == "True" || *value == "TRUE") return true;
  if (*value == "false" || *value == "False" || *value == "FALSE") return false;
  return Invalid(name, "true or false", *value);
}

// A decimal integer in [lo, hi]; `range` says which in the message.
Result<uint64_t> ParseUint(std::string_view name, std::string_view text, uint64_t lo, uint64_t hi,
                           const std::string& range) {
  uint64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  const bool digits_only = !text.empty() && text[0] != '+' && text[0] != '-';
  if (!digits_only || ec != std::errc() || ptr != end || v < lo || v > hi) {
    return Invalid(name, range, text);
  }
  return v;
}

// Octal permission bits: "0444", "444", "0o444" (the text, quoted or not:
// YAML 1.1 would read an unquoted 0444 as octal, YAML 1.2 as decimal 444,
// and either way the user meant chmod's octal).
Result<uint32_t> ParseMode(std::string_view text) {
  std::string_view digits = text;
  if (digits.starts_with("0o") || digits.starts_with("0O")) digits.remove_prefix(2);
  uint32_t v = 0;
  const char* end = digits.data() + digits.size();
  auto [ptr, ec] = std::from_chars(digits.data(), end, v, 8);
  if (digits.empty() || digits[0] == '+' || digits[0] == '-' || ec != std::errc() ||
      ptr != end || v > 07777) {
    return Invalid("mode", "octal permission bits from 0 to 0777 (such as \"0444\")", text);
  }
  if (v > kMaxMountMode) {
    // Served files are never setuid, setgid or sticky: refuse rather than drop.
    return Status::InvalidArgument("'mode' must be permission bits from 0 to 0777, got '" +
                                   std::string(text) +
                                   "': setuid, setgid and sticky bits are not allowed");
  }
  return v;
}

Result<double> ParseSeconds(std::string_view name, std::string_view text) {
  double v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(v) || v < 0) {
    return Invalid(name, "a non-negative number of seconds", text);
  }
  return v == 0 ? 0.0 : v;  // no -0
}

bool* BoolOption(std::string_view name, MountOptions* o) {
  if (name == "allow_other") return &o->allow_other;
  if (name == "default_permissions") return &o->default_permissions;
  if (name == "debug") return &o->debug;
  if (name == "open") return &o->open;
  if (name == "exec") return &o->exec;
  if (name == "passthrough") return &o->passthrough;
  return nullptr;
}

// The mount(8) names that only the kernel mount (or mount(8)) acts on.
bool IsGenericMountFlag(std::string_view name) {
  for (std::string_view n : {"ro", "rw", "dev", "nodev", "suid", "nosuid", "atime", "noatime",
                             "auto", "noauto", "user", "nouser", "_netdev"}) {
    if (name == n) return true;
  }
  return false;
}

}  // namespace

std::string_view MountOptionValueKind(std::string_view name) {
  MountOptions scratch;
  if (BoolOption(name, &scratch) != nullptr) return "true or false";
  if (name == "uid" || name == "gid") return "a non-negative integer";
  if (name == "mode") return "octal permission bits such as \"0444\"";
  if (name == "cache_timeout") return "a non-negative number of seconds";
  if (name == "threads") return "an integer from 1 to 256";
  if (name == "render_cache_mb") return "a number of MiB";
  return {};
}

Status SetMountOption(std::string_view name, std::optional<std::string_view> value,
                      MountOptions* opts) {
  if (bool* flag = BoolOption(name, opts)) {
    MAPFS_ASSIGN_OR_RETURN(*flag, ParseBool(name, value));
    return Status::OK();
  }
  if (MountOptionValueKind(name).empty()) {
    return Status::InvalidArgument("unknown option '" + std::string(name) +
                                   "' (expected allow_other, default_permissions, uid, gid, "
                                   "mode, cache_timeout, threads, render_cache_mb, open, exec, "
                                   "passthrough, debug)");
  }
  if (!value) return Status::InvalidArgument("'" + std::string(name) + "' needs a value");
  if (name == "uid" || name == "gid") {
    MAPFS_ASSIGN_OR_RETURN(uint64_t id, ParseUint(name, *value, 0, kMaxMountId,
                                                  "an integer from 0 to 4294967294"));
    (name == "uid" ? opts->uid : opts->gid) = static_cast<uint32_t>(id);
  } else if (name == "mode") {
    MAPFS_ASSIGN_OR_RETURN(opts->mode, ParseMode(*value));
  } else if (name == "cache_timeout") {
    MAPFS_ASSIGN_OR_RETURN(opts->cache_timeout, ParseSeconds(name, *value));
  } else if (name == "threads") {
    MAPFS_ASSIGN_OR_RETURN(uint64_t n, ParseUint(name, *value, 1, kMaxMountThreads,
                                                 "an integer from 1 to 256"));
    opts->threads = static_cast<unsigned>(n);
  } else {
    MAPFS_ASSIGN_OR_RETURN(opts->render_cache_mb,
                           ParseUint(name, *value, 0, kMaxRenderCacheMb,
                                     "a number of MiB from 0 to 1048576"));
  }
  return Status::OK();
}

Status ParseMountOptionList(std::string_view list, MountOptions* opts) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    const std::string_view item = list.substr(start, comma - start);
    start = comma + 1;
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    const std::string_view name = item.substr(0, eq);
    std::optional<std::string_view> value;
    if (eq != std::string_view::npos) value = item.substr(eq + 1);
    Status st;
    if (!value && name == "noexec") {
      opts->exec = false;
    } else if (!value && name == "no_open") {
      opts->open = false;
    } else if (!value && IsGenericMountFlag(name)) {
      // Meaningful to mount(8) or the kernel only; the mount is read-only.
    } else {
      st = SetMountOption(name, value, opts);
    }
    if (!st.ok()) {
      return Status::InvalidArgument("mount option '" + std::string(item) + "': " +
                                     std::string(st.message()));
    }
  }
  return Status::OK();
}

}  // namespace mapfs
