// libFuzzer target for the dataset manifest parser: any bytes either parse
// into a Manifest whose canonical form parses back to itself, or fail with a
// Status; never a crash, hang or exception.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mapfs/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto m = mapfs::Manifest::Parse(text, "fuzz/dataset.json");
  if (!m.ok()) return 0;
  const std::string canonical = m->Serialize();
  auto again = mapfs::Manifest::Parse(canonical, "fuzz/dataset.json");
  if (!again.ok() || again->Serialize() != canonical) std::abort();
  return 0;
}
