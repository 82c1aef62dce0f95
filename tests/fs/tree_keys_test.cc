// Key resolution of the mount through the shared key codec: names of
// approximate multimaps are checked against the key's own records, and
// generic keys take the text `mapfs get` takes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "node_id.h"
#include "segment_internal.h"
#include "test_util.h"
#include "tree.h"
#include "tree_test_util.h"

namespace mapfs::fs {
namespace {

using testing::TempDir;

constexpr char kSchema[] = R"(structs:
  Item:
    fields: {k: str, n: int64, day: date}
)";

std::string Line(const std::string& k, int n, const std::string& day = "2024-01-02") {
  return "{\"k\": \"" + k + "\", \"n\": " + std::to_string(n) + ", \"day\": \"" + day + "\"}";
}

// Every key lands in one hash group.
uint64_t OneGroup(const void*, size_t, uint64_t) { return 7; }

TEST(TreeKeys, ApproxNameWithOnlyCollidingRecordsIsNotFound) {
  TempDir dir;
  internal::SetKeyHashForTesting(OneGroup);
  Built b = Build(dir.File("x.mapfs"), kSchema, "Item", {Line("a", 1), Line("b", 2), Line("a", 3)},
                  CollectionKind::kApproxMultiMap, "k");
  auto tree = Tree::Open(b.path).value();
  EXPECT_EQ(Cat(*tree, {"a", "0", "n"}), "1\n");
  // "zzz" hashes into the same group but has no record of its own.
  EXPECT_TRUE(tree->Lookup(kRootIno, "zzz").status().IsNotFound());
  internal::SetKeyHashForTesting(nullptr);
}

TEST(TreeKeys, ApproxKeyDirectoryHoldsOnlyItsKeysRecords) {
  TempDir dir;
  internal::SetKeyHashForTesting(OneGroup);
  Built b = Build(dir.File("x.mapfs"), kSchema, "Item",
                  {Line("a", 1), Line("b", 2), Line("a", 3), Line("c", 4)},
                  CollectionKind::kApproxMultiMap, "k");
  auto tree = Tree::Open(b.path).value();
  const uint64_t a = Walk(*tree, {"a"}).ino;
  EXPECT_EQ(Names(*tree, a), (std::vector<std::string>{".", "..", "@json", "0", "1"}));
  EXPECT_EQ(Cat(*tree, {"a", "1", "n"}), "3\n");
  EXPECT_EQ(Names(*tree, Walk(*tree, {"b"}).ino),
            (std::vector<std::string>{".", "..", "@json", "0"}));
  EXPECT_EQ(Cat(*tree, {"b", "0", "k"}), "b");
  EXPECT_EQ(Cat(*tree, {"c", "0", "n"}), "4\n");
  EXPECT_TRUE(tree->Lookup(Walk(*tree, {"b"}).ino, "1").status().IsNotFound());
  EXPECT_EQ(Cat(*tree, {"a", "@json"}),
            "[{\"k\":\"a\",\"n\":1,\"day\":\"2024-01-02\"},"
            "{\"k\":\"a\",\"n\":3,\"day\":\"2024-01-02\"}]\n");
  // The directory's inode number names the key (its first record), so it is
  // stable across lookups and resolves again without a name.
  EXPECT_EQ(Walk(*tree, {"a"}).ino, a);
  EXPECT_NE(Walk(*tree, {"b"}).ino, a);
  EXPECT_TRUE(tree->GetAttr(a).ok());
  // Record 2 is a's second record: it names no directory of its own.
  std::optional<NodeId> second = DecodeCompact(a);
  ASSERT_TRUE(second.has_value());
  second->id = 2;
  EXPECT_TRUE(tree->GetAttr(EncodeCompact(*second)).status().IsNotFound());
  internal::SetKeyHashForTesting(nullptr);
}

TEST(TreeKeys, GenericKeysResolveFromTheirText) {
  TempDir dir;
  Built b = Build(dir.File("d.mapfs"), kSchema, "Item",
                  {Line("a", 1, "2024-01-02"), Line("b", -2, "2024-03-04")},
                  CollectionKind::kMapping, "day");
  auto tree = Tree::Open(b.path).value();
  EXPECT_EQ(Cat(*tree, {"2024-03-04", "k"}), "b");
  EXPECT_TRUE(tree->Lookup(kRootIno, "2024-05-06").status().IsNotFound());
  EXPECT_TRUE(tree->Lookup(kRootIno, "not a date").status().IsNotFound());

  Built ints = Build(dir.File("i.mapfs"), kSchema, "Item", {Line("a", 1), Line("b", -2)},
                     CollectionKind::kMapping, "n");
  auto by_n = Tree::Open(ints.path).value();
  EXPECT_EQ(Cat(*by_n, {"-2", "k"}), "b");
  EXPECT_EQ(Cat(*by_n, {"1", "k"}), "a");
  // One name per key: other spellings of the same number are not names.
  EXPECT_TRUE(by_n->Lookup(kRootIno, "01").status().IsNotFound());
  EXPECT_TRUE(by_n->Lookup(kRootIno, "1.0").status().IsNotFound());
}

}  // namespace
}  // namespace mapfs::fs
