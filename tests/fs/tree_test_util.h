// Helpers of the Tree suites: building segments from JSONL lines and
// walking, listing and reading a Tree the way the FUSE layer does.
#ifndef MAPFS_TESTS_FS_TREE_TEST_UTIL_H_
#define MAPFS_TESTS_FS_TREE_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "mapfs/dataset.h"
#include "mapfs/json_input.h"
#include "mapfs/schema_yaml.h"
#include "mapfs/segment_builder.h"
#include "tree.h"

namespace mapfs::fs {

struct Built {
  std::string path;
  Schema schema;
};

// Builds `path` from JSONL `lines` of struct `type` in `schema_yaml`.
inline Built Build(const std::string& path, const std::string& schema_yaml,
                   const std::string& type, const std::vector<std::string>& lines,
                   CollectionKind kind = CollectionKind::kArray, const std::string& key = "") {
  Result<Schema> schema = ParseSchemaYaml(schema_yaml, "schema.yaml");
  EXPECT_TRUE(schema.ok()) << schema.status().ToString();
  const int root = *schema->FindStruct(type);
  SegmentOptions opt;
  opt.kind = kind;
  if (!key.empty()) opt.key_field = *schema->struct_def(root).FindField(key);
  auto builder = SegmentBuilder::Create(path, *schema, root, opt);
  EXPECT_TRUE(builder.ok()) << builder.status().ToString();
  JsonRecordParser parser(*schema, root);
  for (const std::string& line : lines) {
    Result<Value> v = parser.ParseLine(line);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    Status st = (*builder)->Add(*v);
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  Status st = (*builder)->Finish();
  EXPECT_TRUE(st.ok()) << st.ToString();
  return {path, std::move(schema).value()};
}

inline std::vector<std::string> SampleLines() {
  std::ifstream in(std::string(MAPFS_SAMPLE_DIR) + "/people.jsonl");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline std::string SampleSchema() {
  std::ifstream in(std::string(MAPFS_SAMPLE_DIR) + "/schema.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string ReadAll(Tree& tree, uint64_t ino) {
  std::string out;
  for (;;) {
    ReadReply r;
    Status st = tree.Read(ino, out.size(), 7, &r);  // small reads cross piece boundaries
    EXPECT_TRUE(st.ok()) << st.ToString();
    if (!st.ok() || r.size() == 0) return out;
    for (int i = 0; i < r.count; ++i) out += r.pieces[i];
  }
}

// Every entry of a listing: name -> attr.
inline std::vector<std::pair<std::string, NodeAttr>> List(Tree& tree, uint64_t ino,
                                                          bool plus = false) {
  std::vector<std::pair<std::string, NodeAttr>> out;
  Status st = tree.ReadDir(ino, 0, plus, [&](std::string_view name, const NodeAttr& a, uint64_t) {
    out.emplace_back(std::string(name), a);
    return true;
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

inline std::vector<std::string> Names(Tree& tree, uint64_t ino) {
  std::vector<std::string> names;
  for (auto& [name, a] : List(tree, ino)) names.push_back(name);
  return names;
}

inline NodeAttr Walk(Tree& tree, const std::vector<std::string>& path) {
  uint64_t ino = kRootIno;
  NodeAttr a;
  for (const std::string& name : path) {
    Result<NodeAttr> r = tree.Lookup(ino, name);
    EXPECT_TRUE(r.ok()) << name << ": " << r.status().ToString();
    if (!r.ok()) return {};
    a = *r;
    ino = a.ino;
  }
  return a;
}

inline std::string Cat(Tree& tree, const std::vector<std::string>& path) {
  NodeAttr a = Walk(tree, path);
  std::string content = ReadAll(tree, a.ino);
  EXPECT_EQ(content.size(), a.size) << "st_size of " << path.back();
  return content;
}

// A mapping of small records by a str key, for the reload and watch tests.
inline constexpr char kItemSchema[] = R"(
structs:
  Item:
    typecode: I
    fields:
      k: str
      n: int64
)";

inline std::string ItemLine(const std::string& key, int n) {
  return R"({"k": ")" + key + R"(", "n": )" + std::to_string(n) + "}";
}

// Builds `shards` shards of items (k, n) in `dir` — keyed kinds routed by
// RouteKey, arrays by consecutive ranges, as a dataset build does — and
// publishes them; returns the shard file names.
inline std::vector<std::string> BuildItemDataset(
    const std::string& dir, size_t shards, const std::vector<std::pair<std::string, int>>& items,
    CollectionKind kind = CollectionKind::kMapping) {
  std::vector<std::vector<std::string>> lines(shards);
  for (size_t r = 0; r < items.size(); ++r) {
    const size_t s = kind == CollectionKind::kArray ? r * shards / items.size()
                                                     : RouteKey(items[r].first, shards);
    lines[s].push_back(ItemLine(items[r].first, items[r].second));
  }
  const std::string id = NewBuildId();
  std::vector<std::string> files;
  for (size_t s = 0; s < shards; ++s) {
    files.push_back(ShardFileName(id, s, shards));
    Build(dir + "/" + files.back(), kItemSchema, "Item", lines[s], kind,
          kind == CollectionKind::kArray ? "" : "k");
  }
  Status st = PublishDataset(dir, files);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return files;
}

}  // namespace mapfs::fs

#endif  // MAPFS_TESTS_FS_TREE_TEST_UTIL_H_
