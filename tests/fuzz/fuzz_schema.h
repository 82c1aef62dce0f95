// The schema the record-level fuzzers share: the Person sample of docs/schema.md, which has a
// field of every kind, and the Point struct it nests.
#ifndef MAPFS_TESTS_FUZZ_FUZZ_SCHEMA_H_
#define MAPFS_TESTS_FUZZ_FUZZ_SCHEMA_H_

#include <cstdlib>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "mapfs/types.h"

namespace mapfs::fuzzing {

constexpr int kPerson = 1;

inline const Schema& PersonSchema() {
  static const Schema* schema = [] {
    auto resolve = [](std::string_view name) -> std::optional<int> {
      if (name == "Point") return 0;
      if (name == "Person") return kPerson;
      return std::nullopt;
    };
    auto def = [&](const char* name, const char* typecode,
                   std::vector<std::pair<const char*, const char*>> fields) {
      StructDef d;
      d.name = name;
      d.typecode = typecode;
      for (auto [f, t] : fields) d.fields.push_back({f, *ParseType(t, resolve)});
      return d;
    };
    auto s = Schema::Create(
        {def("Point", "P", {{"x", "float64"}, {"y", "float64"}}),
         def("Person", "",
             {{"id", "uint64"}, {"name", "str"}, {"age", "int32"}, {"score", "float64"},
              {"active", "bool"}, {"photo", "bytes"}, {"born", "date"}, {"seen", "datetime"},
              {"balance", "decimal"}, {"tags", "frozenset<int64>"}, {"aliases", "list<str>"},
              {"pair", "tuple<str, int64>"}, {"attrs", "dict<str, object>"}, {"home", "Point"},
              {"embedding", "ndarray<float32>"}, {"extra", "object"}, {"note", "str"}})});
    if (!s.ok()) std::abort();
    return new Schema(std::move(s).value());
  }();
  return *schema;
}

}  // namespace mapfs::fuzzing

#endif  // MAPFS_TESTS_FUZZ_FUZZ_SCHEMA_H_
