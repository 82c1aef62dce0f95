// The mount configuration loader: walks the yaml-cpp node tree and checks
// every key and value itself, so each problem is reported at its node as
// FILE:LINE:COL (yaml-cpp silently keeps duplicate keys and converts values
// loosely). The grammar and messages are in docs/mounts.md.
#include "mapfs/mount_config.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "file_util.h"
#include "mapfs/mount_options.h"
#include "yaml_util.h"
#include "mapfs/shared_array.h"

namespace mapfs {
namespace {

namespace fs = std::filesystem;

constexpr size_t kNameMax = 255;  // NAME_MAX on Linux

// Why `name` cannot be the name of an entry in the mount, or OK.
Status CheckSourceName(const std::string& name) {
  std::string why;
  if (name.empty()) {
    why = "is empty";
  } else if (name.find('/') != std::string::npos) {
    why = "contains '/'";
  } else if (name.find('\0') != std::string::npos) {
    why = "contains NUL";
  } else if (name[0] == '.') {
    why = "starts with '.'";
  } else if (name[0] == '@') {
    why = "starts with '@' (names starting with '@' are reserved)";
  } else if (name.size() > kNameMax) {
    why = "is longer than 255 bytes";
  } else {
    return Status::OK();
  }
  return Status::InvalidArgument("source name '" + name + "' " + why +
                                 "; it must be usable as a file name");
}

class Loader {
 public:
  Loader(std::string_view text, std::string_view filename) : text_(text), filename_(filename) {}

  Result<MountConfig> Load();

 private:
  std::string Where(const YAML::Mark& mark) const { return yaml_util::Where(filename_, mark); }
  Status ErrorAt(const YAML::Mark& mark, const std::string& msg) const {
    return yaml_util::ErrorAt(filename_, mark, msg);
  }
  Status ErrorAt(const YAML::Node& node, const std::string& msg) const {
    return ErrorAt(node.Mark(), msg);
  }
  // The name a mapping key holds; an error for null, sequence or mapping keys.
  Result<std::string> KeyName(const YAML::Node& key, std::string_view what) const {
    if (!key.IsScalar()) return ErrorAt(key, "expected " + std::string(what));
    return key.Scalar();
  }
  // The text of a scalar value; null (an empty value) is reported at its key,
  // which has a position where the missing value has none.
  Result<std::string> ScalarText(const YAML::Node& key, const YAML::Node& value,
                                 const std::string& what) const {
    if (value.IsNull()) return ErrorAt(key, "'" + key.Scalar() + "' has no value");
    if (!value.IsScalar()) return ErrorAt(value, "'" + key.Scalar() + "' must be " + what);
    return value.Scalar();
  }

  Result<YAML::Node> ParseDocument() const;
  // Also sets `*mountpoint_node`, for CheckMountpoints to point at.
  Status ReadMount(MountSpec* spec, const YAML::Node& key, const YAML::Node& def,
                   YAML::Node* mountpoint_node);
  Status ReadSources(MountSpec* spec, const YAML::Node& key, const YAML::Node& sources);
  Status ReadOptions(MountOptions* options, const YAML::Node& options_node);
  Result<std::string> ResolvePath(const YAML::Node& key, const YAML::Node& value,
                                  const std::string& what) const;
  Status CheckMountpoints() const;

  std::string_view text_;
  std::string filename_;
  std::vector<std::pair<MountSpec, YAML::Node>> mounts_;  // each with its mountpoint node
};

Result<YAML::Node> Loader::ParseDocument() const {
  return yaml_util::ParseSingleDocument(
      text_, filename_, "empty mount configuration (expected a mapping with 'mounts')");
}

Result<MountConfig> Loader::Load() {
  MAPFS_ASSIGN_OR_RETURN(YAML::Node root, ParseDocument());
  MAPFS_ASSIGN_OR_RETURN(yaml_util::TopKey top, yaml_util::ReadTopKey(filename_, root, "mounts"));
  const YAML::Node& mounts = top.value;
  if (mounts.IsNull()) return ErrorAt(top.key, "'mounts' is empty");
  if (!mounts.IsMap()) {
    return ErrorAt(mounts, "'mounts' must be a mapping of mount names to definitions");
  }
  if (mounts.size() == 0) return ErrorAt(mounts, "'mounts' defines no mount");
  for (auto it = mounts.begin(); it != mounts.end(); ++it) {
    MAPFS_ASSIGN_OR_RETURN(std::string name, KeyName(it->first, "a mount name"));
    if (name.empty()) return ErrorAt(it->first, "empty mount name");
    // A name is given on the command line after the options.
    if (name[0] == '-') return ErrorAt(it->first, "mount name '" + name + "' starts with '-'");
    for (const auto& [other, unused] : mounts_) {
      if (other.name == name) {
        return ErrorAt(it->first,
                       "duplicate mount '" + name + "' (first defined at " + other.where + ")");
      }
    }
    MountSpec spec;
    spec.name = name;
    spec.where = Where(it->first.Mark());
    YAML::Node mountpoint_node;
    MAPFS_RETURN_IF_ERROR(ReadMount(&spec, it->first, it->second, &mountpoint_node));
    mounts_.emplace_back(std::move(spec), mountpoint_node);
  }
  MAPFS_RETURN_IF_ERROR(CheckMountpoints());
  MountConfig config;
  config.path = filename_;
  for (auto& [spec, unused] : mounts_) config.mounts.push_back(std::move(spec));
  return config;
}

Status Loader::ReadMount(MountSpec* spec, const YAML::Node& key, const YAML::Node& def,
                         YAML::Node* mountpoint_node) {
  const std::string expected = " (expected mountpoint, sources, options)";
  if (def.IsNull()) return ErrorAt(key, "mount '" + spec->name + "' has no definition" + expected);
  if (!def.IsMap()) return ErrorAt(def, "mount '" + spec->name + "' must be a mapping" + expected);
  bool has_mountpoint = false, has_sources = false, has_options = false;
  for (auto it = def.begin(); it != def.end(); ++it) {
    MAPFS_ASSIGN_OR_RETURN(std::string name, KeyName(it->first, "a key"));
    if (name == "mountpoint") {
      if (has_mountpoint) return ErrorAt(it->first, "duplicate key 'mountpoint'");
      has_mountpoint = true;
      MAPFS_ASSIGN_OR_RETURN(spec->mountpoint, ResolvePath(it->first, it->second, "a path"));
      if (spec->mountpoint == "/") return ErrorAt(it->second, "the mountpoint cannot be '/'");
      mountpoint_node->reset(it->second);
    } else if (name == "sources") {
      if (has_sources) return ErrorAt(it->first, "duplicate key 'sources'");
      has_sources = true;
      MAPFS_RETURN_IF_ERROR(ReadSources(spec, it->first, it->second));
    } else if (name == "options") {
      if (has_options) return ErrorAt(it->first, "duplicate key 'options'");
      has_options = true;
      // An empty `options:` means the defaults, like `options: {}`.
      if (it->second.IsNull()) continue;
      if (!it->second.IsMap()) {
        return ErrorAt(it->second, "'options' must be a mapping of option names to values");
      }
      MAPFS_RETURN_IF_ERROR(ReadOptions(&spec->options, it->second));
    } else {
      return ErrorAt(it->first, "unknown key '" + name + "'" + expected);
    }
  }
  if (!has_mountpoint) return ErrorAt(key, "mount '" + spec->name + "' has no 'mountpoint'");
  if (!has_sources) return ErrorAt(key, "mount '" + spec->name + "' has no 'sources'");
  return Status::OK();
}

Status Loader::ReadSources(MountSpec* spec, const YAML::Node& key, const YAML::Node& sources) {
  if (sources.IsNull()) return ErrorAt(key, "'sources' is empty");
  if (!sources.IsMap()) {
    return ErrorAt(sources, "'sources' must be a mapping of names to segment paths");
  }
  if (sources.size() == 0) return ErrorAt(sources, "'sources' defines no source");
  std::vector<YAML::Node> keys;
  for (auto it = sources.begin(); it != sources.end(); ++it) {
    MAPFS_ASSIGN_OR_RETURN(std::string name, KeyName(it->first, "a source name"));
    Status name_ok = CheckSourceName(name);
    if (!name_ok.ok()) return ErrorAt(it->first, name_ok.message());
    for (size_t i = 0; i < spec->sources.size(); ++i) {
      if (spec->sources[i].name == name) {
        return ErrorAt(it->first, "duplicate source '" + name + "' in mount '" + spec->name +
                                      "' (first defined at " + Where(keys[i].Mark()) + ")");
      }
    }
    MountSource source;
    source.name = name;
    source.where = Where(it->second.IsNull() ? it->first.Mark() : it->second.Mark());
    MAPFS_ASSIGN_OR_RETURN(std::string text,
                           ScalarText(it->first, it->second, "a path or shm://NAME"));
    if (text.starts_with("shm://")) {
      Result<SharedArrayUri> uri = SharedArrayUri::Parse(text);
      if (!uri.ok()) return ErrorAt(it->second, uri.status().message());
      source.kind = MountSource::Kind::kSharedArray;
      source.path = uri->target;
    } else if (size_t scheme = text.find("://");
               scheme != std::string::npos && text.find('/') == scheme + 1) {
      // Looks like a URI (no '/' before "://"), not a path with "://" in it.
      return ErrorAt(it->second,
                     "unsupported source '" + text + "' (expected a path or shm://NAME)");
    } else {
      MAPFS_ASSIGN_OR_RETURN(source.path, ResolvePath(it->first, it->second, "a path"));
    }
    spec->sources.push_back(std::move(source));
    keys.push_back(it->first);
  }
  return Status::OK();
}

Status Loader::ReadOptions(MountOptions* options, const YAML::Node& node) {
  std::vector<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    MAPFS_ASSIGN_OR_RETURN(std::string name, KeyName(it->first, "an option name"));
    for (const std::string& s : seen) {
      if (s == name) return ErrorAt(it->first, "duplicate option '" + name + "'");
    }
    seen.push_back(name);
    YAML::Node key = it->first, value = it->second;  // copies: `it->` yields a temporary
    const std::string_view kind = MountOptionValueKind(name);
    if (kind.empty()) return ErrorAt(key, SetMountOption(name, "", options).message());
    MAPFS_ASSIGN_OR_RETURN(std::string text, ScalarText(key, value, std::string(kind)));
    // The one validator of -o and mounts.yaml; its message gets the value's position.
    Status st = SetMountOption(name, text, options);
    if (!st.ok()) return ErrorAt(value, st.message());
  }
  return Status::OK();
}

Result<std::string> Loader::ResolvePath(const YAML::Node& key, const YAML::Node& value,
                                        const std::string& what) const {
  MAPFS_ASSIGN_OR_RETURN(std::string text, ScalarText(key, value, what));
  const std::string& name = key.Scalar();
  if (text.empty()) return ErrorAt(value, "'" + name + "' is an empty path");
  if (text.find('\0') != std::string::npos) return ErrorAt(value, "path contains NUL");
  // A shell would expand it; here it would silently name a directory "~".
  if (text[0] == '~') return ErrorAt(value, "'~' is not expanded; write the full path");
  fs::path p(text);
  if (p.is_relative()) {
    // Against the config file's directory, so a config keeps working from
    // wherever it is loaded.
    fs::path base = fs::path(filename_).parent_path();
    if (base.is_relative()) {
      std::error_code ec;
      fs::path cwd = fs::current_path(ec);
      if (ec) return ErrorAt(value, "cannot resolve relative path: " + ec.message());
      base = cwd / base;
    }
    p = base / p;
  }
  std::string normal = p.lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

// Two mounts on one directory, or one inside another (whose tree is
// read-only, so the inner mountpoint could not be made), cannot both mount.
Status Loader::CheckMountpoints() const {
  for (size_t i = 0; i < mounts_.size(); ++i) {
    const MountSpec& b = mounts_[i].first;
    for (size_t j = 0; j < i; ++j) {
      const MountSpec& a = mounts_[j].first;
      if (a.mountpoint == b.mountpoint) {
        return ErrorAt(mounts_[i].second, "mountpoint " + b.mountpoint +
                                              " is already used by mount '" + a.name + "' (" +
                                              a.where + ")");
      }
      const MountSpec& outer = a.mountpoint.size() < b.mountpoint.size() ? a : b;
      const MountSpec& inner = &outer == &a ? b : a;
      if (inner.mountpoint.starts_with(outer.mountpoint + "/")) {
        return ErrorAt(mounts_[i].second, "mountpoint " + inner.mountpoint + " of mount '" +
                                              inner.name + "' is inside mountpoint " +
                                              outer.mountpoint + " of mount '" + outer.name + "'");
      }
    }
  }
  return Status::OK();
}

}  // namespace

const MountSpec* MountConfig::Find(std::string_view name) const {
  for (const MountSpec& m : mounts) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

Result<MountConfig> ParseMountConfig(std::string_view yaml_text, std::string_view filename) {
  return Loader(yaml_text, filename).Load();
}

Result<MountConfig> LoadMountConfig(const std::string& path) {
  MAPFS_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
  return ParseMountConfig(file.data(), path);
}

Result<std::vector<MountSpec>> SelectMounts(const MountConfig& config,
                                            const std::vector<std::string>& names) {
  if (names.empty()) return config.mounts;
  std::vector<MountSpec> chosen;
  for (size_t i = 0; i < names.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (names[j] == names[i]) {
        return Status::InvalidArgument(config.path + ": mount '" + names[i] + "' named twice");
      }
    }
    const MountSpec* spec = config.Find(names[i]);
    if (spec == nullptr) {
      std::string known;
      for (const MountSpec& m : config.mounts) known += (known.empty() ? "" : ", ") + m.name;
      return Status::NotFound(config.path + ": no mount named '" + names[i] +
                              "' (it has: " + known + ")");
    }
    chosen.push_back(*spec);
  }
  return chosen;
}

}  // namespace mapfs
