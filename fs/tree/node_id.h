// Node identities and inode numbers (docs/layout.md, "Inode numbers").
//
// A node of the tree is named by where it sits in its source: the source
// slot, a record-level anchor (the collection, an index entry, or a record)
// and a path of child positions below it. Inode numbers are a pure function
// of that identity: most nodes pack into 63 bits (EncodeCompact), so lookup
// keeps no state and forget is a no-op. Nodes too deep or too far down a big
// container get a hashed inode number kept in an InodeTable, counted by
// lookups and dropped by forget, so the table holds only what the kernel
// currently caches — never a number that grows with the collection.
#ifndef MAPFS_FS_NODE_ID_H_
#define MAPFS_FS_NODE_ID_H_

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "mapfs/record.h"

namespace mapfs::fs {

// The last step of a path naming the @json file of the directory before it.
constexpr uint32_t kJsonStep = 0xFFFFFFFFu;
// Records nest at most kMaxDepth deep; +1 for @json.
constexpr int kMaxSteps = kMaxDepth + 2;
// Slots are numbered 0..kMaxSlots-1.
constexpr uint32_t kMaxSlots = 4096;

// The anchor of a node inside its source.
enum class Anchor : uint8_t {
  kCollection = 0,  // id: 0 the collection dir, 1 @schema, 2 @info, 3 @segment
  kEntry = 1,       // id: an index entry's ordinal (a mapping record or a multimap key dir)
  kRecord = 2,      // id: a record id (array elements, records under a multimap key)
  kApproxKey = 3,   // id: the first record of an approximate multimap key (its directory)
};
enum CollectionFile : uint32_t { kCollectionDir = 0, kSchemaFile = 1, kInfoFile = 2, kSegmentFile = 3 };

struct NodeId {
  uint32_t slot = 0;
  Anchor anchor = Anchor::kCollection;
  uint32_t id = 0;
  uint32_t depth = 0;
  uint32_t steps[kMaxSteps];  // child positions; kJsonStep only last

  bool operator==(const NodeId& o) const;
  // A byte string that identifies the node (hash and cache key).
  std::string Serialize() const;
  static std::optional<NodeId> Deserialize(std::string_view bytes);
  // The same node with one more step; false when the path is full.
  bool Push(uint32_t step);
};

// The packed inode number of `node`, or 0 when it does not fit. The mount
// root (slot 0, the collection dir) packs to 1, FUSE's root inode number.
uint64_t EncodeCompact(const NodeId& node);
// Inverse of EncodeCompact; nullopt for numbers it never produces.
std::optional<NodeId> DecodeCompact(uint64_t ino);
inline bool IsCompactIno(uint64_t ino) { return (ino >> 63) == 0; }

// Hashed inode numbers for nodes EncodeCompact cannot pack. Thread-safe.
class InodeTable {
 public:
  // The node's inode number, remembered for one more kernel lookup.
  uint64_t Acquire(const NodeId& node);
  // The inode number Acquire would give, without remembering it (for plain
  // readdir entries, whose numbers the kernel does not look up).
  uint64_t Peek(const NodeId& node) const;
  std::optional<NodeId> Find(uint64_t ino) const;
  // The kernel dropped `n` lookups of `ino`.
  void Forget(uint64_t ino, uint64_t n);
  size_t size() const;

 private:
  struct Item {
    std::string node;  // NodeId::Serialize()
    uint64_t lookups = 0;
  };
  uint64_t ProbeLocked(const std::string& key, bool* found) const;

  mutable std::mutex mu_;
  std::unordered_map<uint64_t, Item> items_;
};

}  // namespace mapfs::fs

#endif  // MAPFS_FS_NODE_ID_H_
