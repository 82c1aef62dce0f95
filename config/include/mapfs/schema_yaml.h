// Loading a schema from the YAML users write (docs/schema.md).
//
// Every error is InvalidArgument with a message "FILE:LINE:COL: reason",
// 1-based, pointing at the offending YAML node (for a type, at the offending
// character inside the type text):
//
//   Result<Schema> schema = LoadSchemaYaml("schema.yaml");
//   if (!schema.ok()) std::cerr << schema.status().message() << "\n";
//   // schema.yaml:7:13: unknown type 'flaot64'
#ifndef MAPFS_SCHEMA_YAML_H_
#define MAPFS_SCHEMA_YAML_H_

#include <string>
#include <string_view>

#include "mapfs/status.h"
#include "mapfs/types.h"

namespace mapfs {

// Reads and parses the schema file at `path`. A file that cannot be read is an
// IOError naming it (errno kept).
Result<Schema> LoadSchemaYaml(const std::string& path);

// Parses schema YAML held in memory; `filename` only labels error messages.
Result<Schema> ParseSchemaYaml(std::string_view yaml_text, std::string_view filename);

}  // namespace mapfs

#endif  // MAPFS_SCHEMA_YAML_H_
