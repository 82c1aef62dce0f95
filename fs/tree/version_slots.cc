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
    if (s.src) continue;
    s.src = std::move(src);
    s.entries.clear();
    s.dir_path.clear();
    s.retired = false;
    s.lookups = 0;
    s.owner = owner < capacity_ ? owner : 0;
    return next_;
  }
  return 0;
}

std::shared_ptr<const SourceVersion> VersionSlots::At(uint32_t slot) const {
  if (slot == 0 || slot >= capacity_) return nullptr;
  std::shared_lock lock(mu_);
  return slots_[slot].src;
}

void VersionSlots::RetireLocked(uint32_t slot) {
  if (slot == 0 || slot >= capacity_) return;
  Slot& s = slots_[slot];
  if (s.lookups.load() <= 0) {
    FreeLocked(slot);
  } else {
    s.retired = true;
  }
}

void VersionSlots::Count(uint32_t slot, int64_t lookups) {
  if (slot == 0 || slot >= capacity_) return;
  if (const uint32_t owner = slots_[slot].owner.load()) slot = owner;
  Slot& s = slots_[slot];
  if (s.lookups.fetch_add(lookups) + lookups > 0 || lookups > 0) return;
  std::unique_lock lock(mu_);
  if (s.retired && s.lookups.load() <= 0) {
    // The kernel holds no inode number of this version any more: unmap it.
    s.retired = false;
    FreeLocked(slot);
  }
}

void VersionSlots::FreeLocked(uint32_t slot) {
  slots_[slot].src.reset();
  for (uint32_t i = 1; i < capacity_; ++i) {
    Slot& s = slots_[i];
    if (s.owner.load() != slot) continue;
    s.owner = 0;
    s.retired = false;
    s.src.reset();
  }
}

size_t VersionSlots::open_versions() const {
  std::shared_lock lock(mu_);
  size_t n = 0;
  for (uint32_t i = 1; i < capacity_; ++i) n += slots_[i].src != nullptr;
  return n;
}

}  // namespace mapfs::fs
