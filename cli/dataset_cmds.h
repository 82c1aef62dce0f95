// `mapfs` commands on datasets (docs/format.md, "Datasets"): the sharded
// build and the directory branch of get, inspect, verify and dump.
#ifndef MAPFS_CLI_DATASET_CMDS_H_
#define MAPFS_CLI_DATASET_CMDS_H_

#include <cstdint>
#include <string>

#include "mapfs/segment_builder.h"
#include "mapfs/status.h"
#include "mapfs/types.h"

namespace mapfs::cli {

// `mapfs build --shards N --output DIR`: routes the JSONL records of `input`
// to N shard builders, each fed on its own thread, and publishes the
// manifest when every shard is built. A failure leaves no manifest and
// removes the shards it wrote.
struct ShardedBuild {
  const Schema* schema = nullptr;
  int type = 0;
  SegmentOptions options;
  std::string input;  // "-" is standard input (not for arrays)
  std::string output_dir;
  uint64_t shards = 0;
  bool quiet = false;
};
Status RunShardedBuild(const ShardedBuild& build);

// `mapfs get DIR KEY`: the shard file holding KEY and KEY as that shard
// names it (an array's index becomes the shard-local index); NotFound for an
// index past the end.
struct ShardTarget {
  std::string file;
  std::string key;
};
Result<ShardTarget> RouteGet(const std::string& dir, const std::string& key);

// `mapfs inspect DIR`, `mapfs verify DIR`: the dataset's summary and shards;
// Verify prints "DIR: OK (...)" or returns the first problem, naming the shard.
Status InspectDataset(const std::string& dir);
// Prints "schema:" and the schema's YAML indented by two spaces (the last
// part of `mapfs inspect` for a segment and a dataset alike).
void PrintSchema(const Schema& schema);
Status VerifyDataset(const std::string& dir);

}  // namespace mapfs::cli

#endif  // MAPFS_CLI_DATASET_CMDS_H_
