// Parsing of mount options; see mount_options.h for the list.
#include "mount_options.h"

#include <cerrno>
#include <cstdlib>

namespace mapfs::fs {

namespace {

std::optional<unsigned long> ParseUnsigned(const std::string& text, int base) {
  if (text.empty() || text[0] == '-' || text[0] == '+') return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const unsigned long v = std::strtoul(text.c_str(), &end, base);
  if (errno != 0 || end != text.c_str() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

Status ParseMountOptions(std::string_view list, MountOptions* opts) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    const std::string item(list.substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    const std::string name = item.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : item.substr(eq + 1);
    const bool has_value = eq != std::string::npos;
    auto bad = [&](std::string_view why) {
      return Status::InvalidArgument("mount option '" + item + "': " + std::string(why));
    };
    auto number = [&](int base, unsigned long max) -> std::optional<unsigned long> {
      std::optional<unsigned long> v = ParseUnsigned(value, base);
      if (!v || *v > max) return std::nullopt;
      return v;
    };
    if (name == "allow_other" && !has_value) {
      opts->allow_other = true;
    } else if (name == "default_permissions" && !has_value) {
      opts->default_permissions = true;
    } else if ((name == "ro" || name == "rw") && !has_value) {
      // mount(8) passes rw unless told ro; the mount is read-only either way.
    } else if (name == "debug" && !has_value) {
      opts->debug = true;
    } else if (name == "open" && !has_value) {
      opts->no_open = false;
    } else if (name == "no_open" && !has_value) {
      opts->no_open = true;
    } else if (name == "uid" || name == "gid") {
      std::optional<unsigned long> v = number(10, 0xFFFFFFFEul);
      if (!v) return bad("expected a numeric id");
      if (name == "uid") opts->uid = static_cast<uid_t>(*v); else opts->gid = static_cast<gid_t>(*v);
    } else if (name == "mode") {
      std::optional<unsigned long> v = number(8, 07777);
      if (!v) return bad("expected octal permission bits such as 0444");
      opts->file_mode = static_cast<mode_t>(*v);
    } else if (name == "cache_timeout") {
      std::optional<unsigned long> v = number(10, 100ul * 365 * 86400);
      if (!v) return bad("expected seconds");
      opts->cache_timeout = static_cast<double>(*v);
    } else if (name == "threads") {
      std::optional<unsigned long> v = number(10, 256);
      if (!v || *v == 0) return bad("expected 1..256");
      opts->threads = static_cast<unsigned>(*v);
    } else if (name == "render_cache_mb") {
      std::optional<unsigned long> v = number(10, 1ul << 20);
      if (!v) return bad("expected MiB");
      opts->render_cache_bytes = size_t{*v} << 20;
    } else if (!has_value && (name == "dev" || name == "nodev" || name == "suid" ||
                              name == "nosuid" || name == "exec" || name == "noexec" ||
                              name == "atime" || name == "noatime" || name == "auto" ||
                              name == "noauto" || name == "user" || name == "nouser" ||
                              name == "_netdev")) {
      // Meaningful to mount(8) only.
    } else {
      return bad("unknown option");
    }
  }
  return Status::OK();
}

}  // namespace mapfs::fs
