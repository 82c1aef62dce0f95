// Packing node identities into inode numbers, and the table of the few that
// do not pack. The bit layout is documented in docs/layout.md.
#include "node_id.h"

#include <xxhash.h>

#include <cstring>

namespace mapfs::fs {

namespace {

// Compact layout, from the top: bit 63 = 0, 12 bits slot, 2 bits anchor,
// 32 bits id, 17 bits path code. The path code is a 1 (sentinel) followed by
// the steps' prefix codes, so the empty path is 1 and the root is ino 1.
constexpr int kPathBits = 17;
constexpr int kIdShift = kPathBits;
constexpr int kAnchorShift = kIdShift + 32;
constexpr int kSlotShift = kAnchorShift + 2;

// Step prefix codes, chosen so that the usual shapes (a record's field, a
// struct's field, a short list's element, their @json) fit in 16 bits:
//   0xxx            child 0..7
//   10xxxxxx        child 8..71
//   110             @json
//   1110 + 10 bits  child 72..1095
struct Code {
  uint32_t bits;
  int len;
};

std::optional<Code> StepCode(uint32_t step) {
  if (step == kJsonStep) return Code{0b110, 3};
  if (step < 8) return Code{step, 4};
  if (step < 72) return Code{(0b10u << 6) | (step - 8), 8};
  if (step < 1096) return Code{(0b1110u << 10) | (step - 72), 14};
  return std::nullopt;
}

// Reads one step from `code` (len bits, MSB first) at *pos.
std::optional<uint32_t> ReadStep(uint32_t code, int len, int* pos) {
  auto bit = [&](int i) { return (code >> (len - 1 - i)) & 1u; };
  auto take = [&](int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 1) | bit((*pos)++);
    return v;
  };
  if (*pos >= len) return std::nullopt;
  if (bit(*pos) == 0) {
    if (*pos + 4 > len) return std::nullopt;
    ++*pos;
    return take(3);
  }
  if (*pos + 2 > len) return std::nullopt;
  if (bit(*pos + 1) == 0) {
    if (*pos + 8 > len) return std::nullopt;
    *pos += 2;
    return take(6) + 8;
  }
  if (*pos + 3 > len) return std::nullopt;
  if (bit(*pos + 2) == 0) {
    *pos += 3;
    return kJsonStep;
  }
  if (*pos + 14 > len || bit(*pos + 3) != 0) return std::nullopt;
  *pos += 4;
  return take(10) + 72;
}

}  // namespace

bool NodeId::operator==(const NodeId& o) const {
  return slot == o.slot && anchor == o.anchor && id == o.id && depth == o.depth &&
         std::memcmp(steps, o.steps, sizeof(uint32_t) * depth) == 0;
}

std::string NodeId::Serialize() const {
  std::string out(13 + 4 * depth, '\0');
  std::memcpy(out.data(), &slot, 4);
  out[4] = static_cast<char>(anchor);
  std::memcpy(out.data() + 5, &id, 4);
  std::memcpy(out.data() + 9, &depth, 4);
  if (depth) std::memcpy(out.data() + 13, steps, 4 * depth);
  return out;
}

std::optional<NodeId> NodeId::Deserialize(std::string_view bytes) {
  NodeId n;
  if (bytes.size() < 13) return std::nullopt;
  std::memcpy(&n.slot, bytes.data(), 4);
  if (static_cast<uint8_t>(bytes[4]) > static_cast<uint8_t>(Anchor::kApproxKey)) return std::nullopt;
  n.anchor = static_cast<Anchor>(bytes[4]);
  std::memcpy(&n.id, bytes.data() + 5, 4);
  std::memcpy(&n.depth, bytes.data() + 9, 4);
  if (n.depth > static_cast<uint32_t>(kMaxSteps) || bytes.size() != 13 + 4 * size_t{n.depth}) {
    return std::nullopt;
  }
  if (n.depth) std::memcpy(n.steps, bytes.data() + 13, 4 * n.depth);
  return n;
}

bool NodeId::Push(uint32_t step) {
  if (depth >= static_cast<uint32_t>(kMaxSteps)) return false;
  steps[depth++] = step;
  return true;
}

uint64_t EncodeCompact(const NodeId& node) {
  if (node.slot >= kMaxSlots) return 0;
  uint32_t code = 1;
  int len = 1;
  for (uint32_t i = 0; i < node.depth; ++i) {
    std::optional<Code> c = StepCode(node.steps[i]);
    if (!c || len + c->len > kPathBits) return 0;
    code = (code << c->len) | c->bits;
    len += c->len;
  }
  return (uint64_t{node.slot} << kSlotShift) | (uint64_t(node.anchor) << kAnchorShift) |
         (uint64_t{node.id} << kIdShift) | code;
}

std::optional<NodeId> DecodeCompact(uint64_t ino) {
  if (!IsCompactIno(ino) || ino == 0) return std::nullopt;
  NodeId n;
  n.slot = static_cast<uint32_t>(ino >> kSlotShift) & (kMaxSlots - 1);
  const uint32_t anchor = static_cast<uint32_t>(ino >> kAnchorShift) & 3u;
  n.anchor = static_cast<Anchor>(anchor);
  n.id = static_cast<uint32_t>(ino >> kIdShift);
  const uint32_t code = static_cast<uint32_t>(ino) & ((1u << kPathBits) - 1);
  if (code == 0) return std::nullopt;
  const int len = 32 - __builtin_clz(code);  // including the sentinel
  const uint32_t body = code & ((1u << (len - 1)) - 1);
  int pos = 0;
  while (pos < len - 1) {
    std::optional<uint32_t> step = ReadStep(body, len - 1, &pos);
    if (!step || !n.Push(*step)) return std::nullopt;
  }
  return n;
}

uint64_t InodeTable::ProbeLocked(const std::string& key, bool* found) const {
  // Bit 63 marks a table number; never 0 or 1 in the low bits' sense.
  uint64_t ino = XXH3_64bits(key.data(), key.size()) | (uint64_t{1} << 63);
  for (;; ++ino) {
    ino |= uint64_t{1} << 63;
    auto it = items_.find(ino);
    if (it == items_.end()) {
      *found = false;
      return ino;
    }
    if (it->second.node == key) {
      *found = true;
      return ino;
    }
  }
}

uint64_t InodeTable::Acquire(const NodeId& node) {
  const std::string key = node.Serialize();
  std::lock_guard<std::mutex> lock(mu_);
  bool found = false;
  const uint64_t ino = ProbeLocked(key, &found);
  Item& item = items_[ino];
  if (!found) item.node = key;
  ++item.lookups;
  return ino;
}

uint64_t InodeTable::Peek(const NodeId& node) const {
  const std::string key = node.Serialize();
  std::lock_guard<std::mutex> lock(mu_);
  bool found = false;
  return ProbeLocked(key, &found);
}

std::optional<NodeId> InodeTable::Find(uint64_t ino) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = items_.find(ino);
  if (it == items_.end()) return std::nullopt;
  return NodeId::Deserialize(it->second.node);
}

void InodeTable::Forget(uint64_t ino, uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = items_.find(ino);
  if (it == items_.end()) return;
  if (it->second.lookups <= n) {
    items_.erase(it);
  } else {
    it->second.lookups -= n;
  }
}

size_t InodeTable::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return items_.size();
}

}  // namespace mapfs::fs
