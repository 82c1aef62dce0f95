// libFuzzer target for the YAML readers: the first byte picks a schema or a
// mount configuration, the rest is the file's text. Either must fail with a
// message that starts with the file name (never a crash, a hang or an escaped
// exception), or succeed; a schema that loads must write itself back as YAML
// that loads to the same schema.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "mapfs/mount_config.h"
#include "mapfs/schema_yaml.h"

namespace {

constexpr char kName[] = "fuzz.yaml";

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "%s: %s\n", what, detail.c_str());
  std::abort();
}

void CheckError(const mapfs::Status& st) {
  if (!st.message().starts_with(kName)) Fail("error without the file name", st.ToString());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    auto config = mapfs::ParseMountConfig(text, kName);
    if (!config.ok()) CheckError(config.status());
    return 0;
  }
  auto schema = mapfs::ParseSchemaYaml(text, kName);
  if (!schema.ok()) {
    CheckError(schema.status());
    return 0;
  }
  const std::string yaml = schema->ToYaml();
  auto again = mapfs::ParseSchemaYaml(yaml, kName);
  if (!again.ok()) Fail("written schema does not load", again.status().ToString() + "\n" + yaml);
  if (again->ToCanonicalJson() != schema->ToCanonicalJson()) Fail("schema changed", yaml);
  return 0;
}
