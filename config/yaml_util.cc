// What the YAML loaders share; see yaml_util.h.
#include "yaml_util.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <exception>
#include <optional>
#include <sstream>

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

Result<TopKey> ReadTopKey(std::string_view filename, const YAML::Node& root,
                          const std::string& name) {
  const std::string quoted = "'" + name + "'";
  if (!root.IsMap()) return ErrorAt(filename, root.Mark(), "expected a mapping with " + quoted);
  std::optional<TopKey> found;
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (!it->first.IsScalar()) return ErrorAt(filename, it->first.Mark(), "expected a key");
    const std::string& key = it->first.Scalar();
    if (key != name) {
      return ErrorAt(filename, it->first.Mark(),
                     "unknown key '" + key + "' (expected " + name + ")");
    }
    if (found) return ErrorAt(filename, it->first.Mark(), "duplicate key " + quoted);
    found = TopKey{it->first, it->second};
  }
  if (!found) return ErrorAt(filename, root.Mark(), "missing " + quoted);
  return *std::move(found);
}

namespace {

// Remembers where a document's root node starts; nothing else of it.
class RootMark : public YAML::EventHandler {
 public:
  std::optional<YAML::Mark> root;

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { Note(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { Note(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    Note(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Note(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Note(mark);
  }
  void OnMapEnd() override {}

 private:
  void Note(const YAML::Mark& mark) {
    if (!root) root = mark;
  }
};

}  // namespace

Result<YAML::Node> ParseSingleDocument(std::string_view text, std::string_view filename,
                                       const std::string& empty_message) {
  // Not YAML::LoadAll: yaml-cpp 0.7 can parse a document without consuming a
  // token (a stray ',' where a node belongs) and then reports that same
  // document forever (yaml-cpp #1040). Only the first two documents matter:
  // the one used, and whether another follows. A document reported twice at
  // the same place is that stuck parse.
  const std::string input(text);
  YAML::Node root;
  try {
    std::istringstream in(input);
    YAML::Parser parser(in);
    RootMark first, second;
    if (!parser.HandleNextDocument(first)) {
      return ErrorAt(filename, YAML::Mark::null_mark(), empty_message);
    }
    if (parser.HandleNextDocument(second)) {
      const YAML::Mark at = second.root.value_or(YAML::Mark::null_mark());
      auto same_place = [](const RootMark& a, const RootMark& b) {
        return a.root && b.root && a.root->pos == b.root->pos;
      };
      RootMark third;
      if (same_place(first, second) ||
          (parser.HandleNextDocument(third) && same_place(second, third))) {
        const size_t pos = static_cast<size_t>(at.pos);
        return ErrorAt(filename, at,
                       pos < input.size() ? "unexpected '" + input.substr(pos, 1) + "'"
                                          : "unexpected end of file");
      }
      return ErrorAt(filename, at, "more than one YAML document");
    }
    root = YAML::Load(input);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own message for this is "bad file".
    return ErrorAt(filename, e.mark, "nested too deeply");
  } catch (const YAML::Exception& e) {
    return ErrorAt(filename, e.mark, e.msg);
  } catch (const std::exception& e) {
    return ErrorAt(filename, YAML::Mark::null_mark(), e.what());
  }
  if (root.IsNull()) return ErrorAt(filename, YAML::Mark::null_mark(), empty_message);
  return root;
}

}  // namespace mapfs::yaml_util
