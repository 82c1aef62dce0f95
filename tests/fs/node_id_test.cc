// Inode numbers: a pure, invertible function of the node where they pack,
// and a lookup-counted table where they do not.
#include "node_id.h"

#include <gtest/gtest.h>

namespace mapfs::fs {
namespace {

NodeId Make(uint32_t slot, Anchor anchor, uint32_t id, std::initializer_list<uint32_t> steps) {
  NodeId n;
  n.slot = slot;
  n.anchor = anchor;
  n.id = id;
  for (uint32_t s : steps) n.Push(s);
  return n;
}

TEST(NodeId, RootPacksToFuseRootIno) {
  EXPECT_EQ(EncodeCompact(NodeId()), 1u);
}

TEST(NodeId, CompactNumbersDecodeToTheSameNode) {
  const NodeId nodes[] = {
      Make(0, Anchor::kCollection, kSegmentFile, {}),
      Make(3, Anchor::kEntry, 0xFFFFFFFFu, {}),
      Make(4095, Anchor::kRecord, 123456, {7}),
      Make(1, Anchor::kRecord, 5, {2, kJsonStep}),
      Make(1, Anchor::kRecord, 5, {71, 3, kJsonStep}),
      Make(1, Anchor::kEntry, 9, {1095}),
      Make(1, Anchor::kEntry, 9, {0, 0, 0, 0}),
  };
  for (const NodeId& n : nodes) {
    const uint64_t ino = EncodeCompact(n);
    ASSERT_NE(ino, 0u);
    std::optional<NodeId> back = DecodeCompact(ino);
    ASSERT_TRUE(back.has_value());
    EXPECT_TRUE(*back == n);
  }
}

TEST(NodeId, DistinctNodesGetDistinctNumbers) {
  EXPECT_NE(EncodeCompact(Make(0, Anchor::kRecord, 1, {0})),
            EncodeCompact(Make(0, Anchor::kRecord, 1, {0, 0})));
  EXPECT_NE(EncodeCompact(Make(0, Anchor::kRecord, 1, {})),
            EncodeCompact(Make(0, Anchor::kEntry, 1, {})));
}

TEST(NodeId, DeepOrWideNodesDoNotPack) {
  EXPECT_EQ(EncodeCompact(Make(0, Anchor::kRecord, 1, {1096})), 0u);
  EXPECT_EQ(EncodeCompact(Make(0, Anchor::kRecord, 1, {1, 1, 1, 1, 1})), 0u);
  EXPECT_EQ(EncodeCompact(Make(kMaxSlots, Anchor::kRecord, 1, {})), 0u);
}

TEST(NodeId, SerializeRoundTrips) {
  const NodeId n = Make(2, Anchor::kRecord, 77, {5000, 1, kJsonStep});
  std::optional<NodeId> back = NodeId::Deserialize(n.Serialize());
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(*back == n);
  EXPECT_FALSE(NodeId::Deserialize("short"));
}

TEST(InodeTable, RemembersUntilEveryLookupIsForgotten) {
  InodeTable table;
  const NodeId n = Make(0, Anchor::kRecord, 1, {5000});
  const uint64_t ino = table.Acquire(n);
  EXPECT_FALSE(IsCompactIno(ino));
  EXPECT_EQ(table.Acquire(n), ino);
  EXPECT_EQ(table.Peek(n), ino);
  table.Forget(ino, 1);
  ASSERT_TRUE(table.Find(ino).has_value());
  EXPECT_TRUE(*table.Find(ino) == n);
  table.Forget(ino, 1);
  EXPECT_FALSE(table.Find(ino).has_value());
  EXPECT_EQ(table.size(), 0u);
}

}  // namespace
}  // namespace mapfs::fs
