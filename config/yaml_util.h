// What the YAML loaders of config/ share: parsing one document and turning
// yaml-cpp positions into "FILE:LINE:COL: message" errors.
#ifndef MAPFS_CONFIG_YAML_UTIL_H_
#define MAPFS_CONFIG_YAML_UTIL_H_

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>

#include "mapfs/status.h"

namespace mapfs::yaml_util {

// "FILE:LINE:COL" of a 0-based yaml-cpp mark, shifted right by `extra_cols`;
// a mark yaml-cpp does not know (an empty document) is 1:1.
std::string Where(std::string_view filename, const YAML::Mark& mark, int extra_cols = 0);

// InvalidArgument "FILE:LINE:COL: msg".
Status ErrorAt(std::string_view filename, const YAML::Mark& mark, const std::string& msg,
               int extra_cols = 0);

// The top-level mapping of a file that holds one key, `name` (mounts.yaml's
// `mounts`, a schema's `structs`): that key (for positions) and its value.
// Errors at their node: a root that is not a mapping, a non-scalar or
// other key, `name` twice, or no `name` at all.
struct TopKey {
  YAML::Node key;
  YAML::Node value;
};
Result<TopKey> ReadTopKey(std::string_view filename, const YAML::Node& root,
                          const std::string& name);

// The one document of `text`; `empty_message` when there is none, an error at
// the second document when there are several, and yaml-cpp's syntax errors at
// their position.
Result<YAML::Node> ParseSingleDocument(std::string_view text, std::string_view filename,
                                       const std::string& empty_message);

}  // namespace mapfs::yaml_util

#endif  // MAPFS_CONFIG_YAML_UTIL_H_
