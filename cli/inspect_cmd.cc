// `mapfs inspect FILE`: what a segment holds — header fields, sections with
// sizes and checksums, counts, index cost per key, and the schema as YAML.
// Reads only what open validates; `mapfs verify` checks the rest.
#include <cinttypes>
#include <cstdio>
#include <memory>

#include "command.h"
#include "dataset_cmds.h"
#include "mapfs/dataset.h"
#include "mapfs/segment.h"

namespace mapfs::cli {
namespace {

void Section(const SegmentInfo& info, const char* name) {
  const SegmentInfo::Section* s = info.section(name);
  if (s == nullptr) return;
  std::printf("  %-15s offset %-12" PRIu64 " size %-12" PRIu64 " xxh3 %016" PRIx64 "\n", name,
              s->offset, s->size, s->checksum);
}

Status RunInspect(const std::string& path) {
  if (IsDatasetDir(path)) return InspectDataset(path);
  MAPFS_ASSIGN_OR_RETURN(Segment seg, Segment::Open(path));
  const SegmentInfo l = seg.Info();
  const StructDef& root = seg.schema().struct_def(seg.root_struct_index());
  std::printf("file:            %s\n", path.c_str());
  std::printf("format:          mapfs segment %u.%u\n", l.major_version, l.minor_version);
  std::printf("features:        incompatible %#" PRIx64 ", compatible %#" PRIx64 "\n",
              l.incompat_features, l.compat_features);
  std::printf("size:            %" PRIu64 " bytes\n", l.file_size);
  std::printf("header checksum: %016" PRIx64 "\n", l.header_checksum);
  std::printf("collection:      %s\n", std::string(CollectionKindName(seg.kind())).c_str());
  std::printf("record type:     %s\n", root.name.c_str());
  std::printf("records:         %" PRIu64 "\n", seg.record_count());
  if (seg.kind() != CollectionKind::kArray) {
    std::printf("key:             %s (%s)", std::string(KeyKindName(seg.key_kind())).c_str(),
                seg.key_field_index() >= 0
                    ? (root.fields[seg.key_field_index()].name + ": " +
                       seg.schema().TypeName(root.fields[seg.key_field_index()].type)).c_str()
                    : "no key field");
    std::printf("\n");
    std::printf("index entries:   %" PRIu64 " (%s)\n", seg.key_count(),
                seg.kind() == CollectionKind::kApproxMultiMap ? "hash groups" : "unique keys");
    std::printf("index:           2^%u buckets, %.2f bytes/key\n", l.index_bits,
                seg.key_count() == 0
                    ? 0.0
                    : static_cast<double>(l.section("directory")->size +
                                          l.section("entries")->size) /
                          static_cast<double>(seg.key_count()));
  }
  std::printf("sections:\n");
  for (const char* name :
       {"schema", "data", "record_offsets", "directory", "postings", "entries", "ranges",
        "block_checksums"}) {
    Section(l, name);
  }
  PrintSchema(seg.schema());
  return Status::OK();
}

void Register(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("inspect", "Show a segment's header, sections and schema");
  cmd->add_option("file", *path, "Segment file")->required();
  cmd->callback([path] {
    Status st = RunInspect(*path);
    if (!st.ok()) Fail(st);
  });
}

const RegisterCommand kRegister(Register);

}  // namespace
}  // namespace mapfs::cli
