// Helpers shared by the GoogleTest suites: temp dirs and file I/O.
#ifndef MAPFS_TESTS_TEST_UTIL_H_
#define MAPFS_TESTS_TEST_UTIL_H_

#include <string>

namespace mapfs::testing {

// A fresh directory under $TMPDIR, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string ReadFileOrDie(const std::string& path);
void WriteFileOrDie(const std::string& path, const std::string& contents);

}  // namespace mapfs::testing


#include <utility>
#include <vector>

#include "mapfs/types.h"

namespace mapfs::testing {

// Builds a schema from (struct name, typecode, [(field, type text)]) triples;
// aborts the test binary on an invalid definition.
struct StructSpec {
  std::string name;
  std::string typecode;
  std::vector<std::pair<std::string, std::string>> fields;
};
Schema MakeSchema(const std::vector<StructSpec>& specs);

}  // namespace mapfs::testing

#endif  // MAPFS_TESTS_TEST_UTIL_H_
