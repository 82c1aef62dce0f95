#include "test_util.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <iostream>
#include <stdexcept>

namespace mapfs::testing {

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/mapfs-test-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFileOrDie(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  if (!out) throw std::runtime_error("cannot write " + path);
}

Schema MakeSchema(const std::vector<StructSpec>& specs) {
  auto resolve = [&](std::string_view name) -> std::optional<int> {
    for (size_t i = 0; i < specs.size(); ++i) {
      if (specs[i].name == name) return static_cast<int>(i);
    }
    return std::nullopt;
  };
  std::vector<StructDef> defs;
  for (const StructSpec& spec : specs) {
    StructDef def;
    def.name = spec.name;
    def.typecode = spec.typecode;
    for (const auto& [field, type_text] : spec.fields) {
      auto type = ParseType(type_text, resolve);
      if (!type.ok()) {
        std::cerr << "bad test type '" << type_text << "': " << type.status().ToString() << "\n";
        std::abort();
      }
      def.fields.push_back(Field{field, *type});
    }
    defs.push_back(std::move(def));
  }
  auto schema = Schema::Create(std::move(defs));
  if (!schema.ok()) {
    std::cerr << "bad test schema: " << schema.status().ToString() << "\n";
    std::abort();
  }
  return std::move(schema).value();
}

}  // namespace mapfs::testing
