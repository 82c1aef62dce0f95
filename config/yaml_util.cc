// What the YAML loaders share; see yaml_util.h.
#include "yaml_util.h"

#include <yaml-cpp/depthguard.h>

#include <exception>
#include <vector>

namespace mapfs::yaml_util {

std::string Where(std::string_view filename, const YAML::Mark& mark, int extra_cols) {
  int line = mark.is_null() ? 1 : mark.line + 1;
  int col = mark.is_null() ? 1 : mark.column + 1 + extra_cols;
  return std::string(filename) + ":" + std::to_string(line) + ":" + std::to_string(col);
}

Status ErrorAt(std::string_view filename, const YAML::Mark& mark, const std::string& msg,
               int extra_cols) {
  return Status::InvalidArgument(Where(filename, mark, extra_cols) + ": " + msg);
}

Result<YAML::Node> ParseSingleDocument(std::string_view text, std::string_view filename,
                                       const std::string& empty_message) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own message for this is "bad file".
    return ErrorAt(filename, e.mark, "nested too deeply");
  } catch (const YAML::Exception& e) {
    return ErrorAt(filename, e.mark, e.msg);
  } catch (const std::exception& e) {
    return ErrorAt(filename, YAML::Mark::null_mark(), e.what());
  }
  if (docs.empty() || (docs.size() == 1 && docs[0].IsNull())) {
    return ErrorAt(filename, YAML::Mark::null_mark(), empty_message);
  }
  if (docs.size() > 1) return ErrorAt(filename, docs[1].Mark(), "more than one YAML document");
  return docs[0];
}

}  // namespace mapfs::yaml_util
