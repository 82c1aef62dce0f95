// The slots of a tree's versions; see version_slots.h.
#include "version_slots.h"

#include <algorithm>
#include <mutex>

namespace mapfs::fs {

VersionSlots::VersionSlots(uint32_t capacity)
    : capacity_(std::clamp<uint32_t>(capacity, 1, kMaxSlots)), slots_(new Slot[capacity_]) {}

uint32_t VersionSlots::Install(std::shared_ptr<const SourceVersion> src, uint32_t owner) {
  std::unique_lock lock(mu_);
  // Round robin, so a freed slot (and its inode numbers) is reused as late
  // as possible.
  for (uint32_t tries = 1; tries < capacity_; ++tries) {
    next_ = next_ % (capacity_ - 1) + 1;
    Slot& s = slots_[next_];
    if (s.src || s.retired) continue;
    s.src = std::move(src);
    s.entries.clear();
    s.dir_path.clear();
    s.lookups = 0;
    s.handles = 0;
    s.owner = owner < capacity_ ? owner : 0;
    s.held = false;
    return next_;
  }
  return 0;
}

std::shared_ptr<const SourceVersion> VersionSlots::At(uint32_t slot) const {
  if (slot == 0 || slot >= capacity_) return nullptr;
  std::shared_lock lock(mu_);
  return slots_[slot].src;
}

uint32_t VersionSlots::RootOf(uint32_t slot) const {
  const uint32_t owner = slots_[slot].owner.load();
  return owner != 0 ? owner : slot;
}

void VersionSlots::SettleLocked(uint32_t slot, std::chrono::steady_clock::time_point now) {
  Slot& s = slots_[slot];
  if (!s.retired || s.held || s.handles.load() > 0 || now < s.release_after) return;
  // No handle is open on it: unmap it (and the shards it owns) now. Requests
  // being served hold their own reference and release it when they reply.
  s.src.reset();
  const bool free = s.lookups.load() <= 0;  // the kernel names none of its numbers
  if (free) s.retired = false;
  for (uint32_t i = 1; i < capacity_; ++i) {
    Slot& owned = slots_[i];
    if (owned.owner.load() != slot) continue;
    owned.src.reset();
    // Owned numbers stay reserved as long as the owner's are.
    owned.retired = !free;
    if (free) owned.owner = 0;
  }
}

void VersionSlots::RetireLocked(uint32_t slot) {
  if (slot == 0 || slot >= capacity_) return;
  const auto now = std::chrono::steady_clock::now();
  slots_[slot].retired = true;
  slots_[slot].release_after = now + grace_;
  SettleLocked(slot, now);
}

void VersionSlots::RetireHeldLocked(uint32_t slot, std::chrono::milliseconds grace) {
  if (slot == 0 || slot >= capacity_) return;
  slots_[slot].retired = true;
  slots_[slot].held = true;
  slots_[slot].held_grace = grace;
}

void VersionSlots::StartGraces() {
  std::unique_lock lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  for (uint32_t i = 1; i < capacity_; ++i) {
    Slot& s = slots_[i];
    if (!s.held) continue;
    s.held = false;
    s.release_after = now + s.held_grace;
    SettleLocked(i, now);
  }
}

size_t VersionSlots::Sweep() {
  std::unique_lock lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  size_t held = 0;
  for (uint32_t i = 1; i < capacity_; ++i) {
    Slot& s = slots_[i];
    if (!s.retired || !s.src || s.owner.load() != 0) continue;
    SettleLocked(i, now);
    held += s.src != nullptr;
  }
  return held;
}

void VersionSlots::Count(uint32_t slot, int64_t lookups) {
  if (slot == 0 || slot >= capacity_) return;
  slot = RootOf(slot);  // a shard's numbers count for its dataset
  Slot& s = slots_[slot];
  if (s.lookups.fetch_add(lookups) + lookups > 0 || lookups > 0) return;
  std::unique_lock lock(mu_);
  SettleLocked(slot, std::chrono::steady_clock::now());
}

bool VersionSlots::Open(uint32_t slot, const SourceVersion* version) {
  if (slot == 0 || slot >= capacity_) return true;
  // Shared: RetireLocked (unique) sees either no handle and releases, or
  // this handle and keeps the version.
  std::shared_lock lock(mu_);
  Slot& s = slots_[slot];
  if (!s.src || s.src.get() != version) return false;
  ++slots_[RootOf(slot)].handles;  // a shard's handles hold its dataset
  return true;
}

void VersionSlots::Close(uint32_t slot) {
  if (slot == 0 || slot >= capacity_) return;
  slot = RootOf(slot);
  Slot& s = slots_[slot];
  if (s.handles.fetch_sub(1) - 1 > 0) return;
  std::unique_lock lock(mu_);
  SettleLocked(slot, std::chrono::steady_clock::now());
}

size_t VersionSlots::open_versions() const {
  std::shared_lock lock(mu_);
  size_t n = 0;
  for (uint32_t i = 1; i < capacity_; ++i) n += slots_[i].src != nullptr;
  return n;
}

size_t VersionSlots::reserved_slots() const {
  std::shared_lock lock(mu_);
  size_t n = 0;
  for (uint32_t i = 1; i < capacity_; ++i) n += slots_[i].src != nullptr || slots_[i].retired;
  return n;
}

}  // namespace mapfs::fs
