// A native mapfs client built against the installed package (find_package
// or pkg-config; scripts/package_test.sh): it builds a small keyed segment
// from JSONL lines, opens it again, and prints one record's JSON looked up by
// key, so it exercises the headers and every library libmapfs.a links
// (simdjson for JSON input, xxhash for the index).
//
//   mapfs_client_example /tmp/people.mapfs
//   {"name":"Ada","age":36,"langs":["en","fr"]}
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "mapfs/json_input.h"
#include "mapfs/record.h"
#include "mapfs/segment.h"
#include "mapfs/segment_builder.h"
#include "mapfs/types.h"

namespace {

mapfs::Result<mapfs::Schema> PersonSchema() {
  auto no_structs = [](std::string_view) { return std::optional<int>(); };
  mapfs::StructDef person;
  person.name = "Person";
  for (auto [name, type] : {std::pair{"name", "str"}, {"age", "int32"}, {"langs", "list<str>"}}) {
    MAPFS_ASSIGN_OR_RETURN(mapfs::Type t, mapfs::ParseType(type, no_structs));
    person.fields.push_back(mapfs::Field{name, t});
  }
  return mapfs::Schema::Create({person});
}

mapfs::Status Run(const std::string& path) {
  MAPFS_ASSIGN_OR_RETURN(mapfs::Schema schema, PersonSchema());
  const int person = *schema.FindStruct("Person");
  mapfs::SegmentOptions options;
  options.kind = mapfs::CollectionKind::kMapping;
  options.key_field = *schema.struct_def(person).FindField("name");
  MAPFS_ASSIGN_OR_RETURN(auto builder,
                         mapfs::SegmentBuilder::Create(path, schema, person, options));
  mapfs::JsonRecordParser parser(schema, person);
  for (const char* line : {R"({"name": "Ada", "age": 36, "langs": ["en", "fr"]})",
                           R"({"name": "Alan", "age": 41})"}) {
    MAPFS_ASSIGN_OR_RETURN(mapfs::Value record, parser.ParseLine(line));
    MAPFS_RETURN_IF_ERROR(builder->Add(record));
  }
  MAPFS_RETURN_IF_ERROR(builder->Finish());

  MAPFS_ASSIGN_OR_RETURN(mapfs::Segment segment, mapfs::Segment::Open(path));
  MAPFS_ASSIGN_OR_RETURN(std::optional<mapfs::Segment::Entry> hit, segment.Find("Ada"));
  if (!hit) return mapfs::Status::NotFound(path + ": no record for 'Ada'");
  MAPFS_ASSIGN_OR_RETURN(mapfs::View view, segment.ViewOf(hit->record));
  std::string json;
  MAPFS_RETURN_IF_ERROR(mapfs::RenderJson(view, &json));
  std::cout << json << "\n";
  return mapfs::Status::OK();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " OUTPUT.mapfs\n";
    return 2;
  }
  mapfs::Status st = Run(argv[1]);
  if (!st.ok()) {
    std::cerr << st.ToString() << "\n";
    return 1;
  }
  return 0;
}
