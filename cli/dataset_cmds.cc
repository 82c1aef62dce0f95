// The dataset branch of `mapfs get|inspect|verify` (docs/cli.md): a
// directory holding dataset.json is read through Dataset.
#include <cinttypes>
#include <cstdio>

#include "dataset_cmds.h"
#include "mapfs/dataset.h"
#include "mapfs/key_codec.h"
#include "mapfs/record.h"

namespace mapfs::cli {

Result<ShardTarget> RouteGet(const std::string& dir, const std::string& key) {
  MAPFS_ASSIGN_OR_RETURN(Dataset ds, Dataset::Open(dir));
  ShardTarget t;
  t.key = key;
  if (ds.kind() == CollectionKind::kArray) {
    // The dataset-wide index (negative counts from the end), then the
    // shard's own index of that record.
    MAPFS_ASSIGN_OR_RETURN(uint64_t index, ParseArrayIndex(key, ds.record_count()));
    const size_t s = ds.ShardOfRecord(index);
    t.file = ds.shard(s).name();
    t.key = std::to_string(index - ds.first_record(s));
    return t;
  }
  if (ds.key_kind() == KeyKind::kGeneric && ds.key_field_index() < 0) {
    return Status::NotSupported(dir + ": its keys are not a field of the records");
  }
  // Every shard has the dataset's schema and key kind: shard 0's codec
  // parses the key as `mapfs get FILE` does.
  KeyCodec codec(ds.shard(0));
  MAPFS_ASSIGN_OR_RETURN(std::string raw, codec.FromText(key));
  t.file = ds.shard(ds.ShardOfKey(raw)).name();
  return t;
}

void PrintSchema(const Schema& schema) {
  std::printf("schema:\n");
  std::string yaml = schema.ToYaml();
  size_t start = 0;
  while (start < yaml.size()) {
    size_t end = yaml.find('\n', start);
    if (end == std::string::npos) end = yaml.size();
    std::printf("  %.*s\n", static_cast<int>(end - start), yaml.data() + start);
    start = end + 1;
  }
}

Status InspectDataset(const std::string& dir) {
  MAPFS_ASSIGN_OR_RETURN(Dataset ds, Dataset::Open(dir));
  const Manifest& m = ds.manifest();
  std::printf("dataset:         %s\n", dir.c_str());
  std::printf("format:          mapfs dataset 1\n");
  std::printf("collection:      %s\n", std::string(CollectionKindName(ds.kind())).c_str());
  std::printf("record type:     %s\n", m.root_type.c_str());
  std::printf("records:         %" PRIu64 "\n", ds.record_count());
  if (ds.kind() != CollectionKind::kArray) {
    std::printf("key:             %s (%s)\n", std::string(KeyKindName(ds.key_kind())).c_str(),
                m.key_field ? m.key_field->c_str() : "no key field");
    std::printf("index entries:   %" PRIu64 "\n", ds.key_count());
    std::printf("routing:         xxh3-64 of the raw key, seed %016" PRIx64 ", mod %zu\n",
                kRouteSeed, ds.shard_count());
  } else {
    std::printf("routing:         consecutive record ranges\n");
  }
  std::printf("shards:          %zu\n", ds.shard_count());
  for (size_t i = 0; i < ds.shard_count(); ++i) {
    const ShardInfo& s = m.shards[i];
    std::printf("  %-5zu %s  records %" PRIu64 "  keys %" PRIu64 "  first %" PRIu64
                "  size %" PRIu64 "  header %016" PRIx64 "\n",
                i, s.file.c_str(), s.record_count, s.key_count, s.first_record, s.size,
                s.header_checksum);
  }
  PrintSchema(ds.schema());
  return Status::OK();
}

Status VerifyDataset(const std::string& dir) {
  MAPFS_ASSIGN_OR_RETURN(Dataset ds, Dataset::Open(dir));
  MAPFS_RETURN_IF_ERROR(ds.Verify());
  std::printf("%s: OK (%s, %llu records, %zu shards)\n", dir.c_str(),
              std::string(CollectionKindName(ds.kind())).c_str(),
              static_cast<unsigned long long>(ds.record_count()), ds.shard_count());
  return Status::OK();
}

}  // namespace mapfs::cli
