// JSONL record input (the input of `mapfs build`): one JSON object per line becomes one struct
// Value, typed by the schema.
//
//   JsonRecordParser parser(schema, *schema.FindStruct("Person"));
//   Result<Value> rec = parser.ParseLine(R"({"id": 7, "name": "Ada"})");
//   if (!rec.ok()) return rec.status().WithContext("people.jsonl:12");
//
// Conversion rules, where JSON leaves a choice:
// - Missing and null struct fields are absent (omitted from the Value);
//   fields appear in schema order whatever the order in the line. Unknown
//   and repeated field names are errors. null elsewhere (a list element, a
//   dict value) is an error unless the element type is `object`.
// - Integers must be JSON integer tokens: 1.0 and 1e3 are rejected for int
//   fields, as are strings. -0 is 0.
// - Floats take any JSON number (correctly rounded to the field's width;
//   a magnitude too small for it becomes a signed zero, one too large is an
//   error) and the strings "NaN", "Infinity", "-Infinity".
// - decimal takes a string in Python's Decimal syntax or a JSON number whose
//   exact token text is kept (0.1 stays 0.1, 1.50 keeps its zero).
// - bytes are strict base64 (see Base64Decode); date is YYYY-MM-DD and
//   datetime ISO 8601 (see Date::Parse, DateTime::Parse).
// - dict keys are JSON object keys parsed as the key type (ints as decimal
//   text, floats as JSON numbers or NaN/Infinity/-Infinity, bools as
//   true/false, dates, datetimes, decimals, base64 bytes); container and
//   struct key types cannot be written in JSON and are errors.
// - ndarray: nested arrays, shape inferred, rectangular; a bare scalar is
//   0-d. ndarray without a fixed dtype infers bool, int64 (uint64 when an
//   element exceeds int64 and none is negative) or float64 (any
//   non-integer; also the dtype of an empty array).
// - object infers int (uint when above int64), float, str, bool, list,
//   dict<str, object> or null; integers beyond uint64 are errors.
// - Nesting deeper than 64 arrays/objects is an error.
//
// Errors are InvalidArgument: `field "home.x": expected float64, got "abc"`,
// `field "tags[3]": ...`, `unknown field "x"`, or `invalid JSON: <reason>`.
// The offending token is quoted as it appears in the line, cut to about 40
// characters. Callers prefix "file:line: ".
#ifndef MAPFS_JSON_INPUT_H_
#define MAPFS_JSON_INPUT_H_

#include <memory>
#include <string_view>

#include "mapfs/status.h"
#include "mapfs/types.h"
#include "mapfs/value.h"

namespace mapfs {

// Converts JSONL lines into records of one struct type. Keeps a reference to
// `schema`, which must outlive it. Reuses its buffers across lines, so one
// parser per thread; not thread-safe.
class JsonRecordParser {
 public:
  JsonRecordParser(const Schema& schema, int struct_index);
  ~JsonRecordParser();
  JsonRecordParser(const JsonRecordParser&) = delete;
  JsonRecordParser& operator=(const JsonRecordParser&) = delete;
  JsonRecordParser(JsonRecordParser&&) noexcept;
  JsonRecordParser& operator=(JsonRecordParser&&) noexcept;

  // Parses one line (without its '\n'; a trailing '\r' is JSON whitespace)
  // into a struct Value named after the struct definition.
  Result<Value> ParseLine(std::string_view line);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mapfs

#endif  // MAPFS_JSON_INPUT_H_
