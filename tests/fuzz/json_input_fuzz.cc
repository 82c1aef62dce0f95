// libFuzzer target for JSONL input: arbitrary bytes as one line of a Person
// file. Parsing must fail with InvalidArgument or give a value that packs,
// verifies, renders to JSON, and parses back from that JSON into the same
// record bytes: the rendering is the input format, so it must round-trip.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz_schema.h"
#include "mapfs/json_input.h"
#include "mapfs/record.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "%s: %s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mapfs;
  const Schema& schema = fuzzing::PersonSchema();
  static JsonRecordParser* parser = new JsonRecordParser(schema, fuzzing::kPerson);
  std::string_view line(reinterpret_cast<const char*>(data), size);
  auto value = parser->ParseLine(line);
  if (!value.ok()) {
    if (!value.status().IsInvalidArgument()) Fail("unexpected status", value.status().ToString());
    return 0;
  }
  auto packed = Pack(schema, fuzzing::kPerson, *value);
  if (!packed.ok()) {
    // Only a record too large for the format may fail to pack.
    if (!packed.status().IsInvalidArgument()) Fail("pack", packed.status().ToString());
    return 0;
  }
  auto view = ViewRecord(schema, fuzzing::kPerson, *packed);
  if (!view.ok()) Fail("view of a packed record", view.status().ToString());
  Status verified = Verify(*view);
  if (!verified.ok()) Fail("verify of a packed record", verified.ToString());
  std::string json;
  Status rendered = RenderJson(*view, &json);
  if (!rendered.ok()) Fail("render", rendered.ToString());
  auto reparsed = parser->ParseLine(json);
  if (!reparsed.ok()) Fail("rendered JSON does not parse", reparsed.status().ToString() + "\n" + json);
  auto repacked = Pack(schema, fuzzing::kPerson, *reparsed);
  if (!repacked.ok() || *repacked != *packed) Fail("rendered JSON packs differently", json);
  return 0;
}
