// The rendered-content LRU; see render_cache.h.
#include "render_cache.h"

namespace mapfs::fs {

std::shared_ptr<const std::string> RenderCache::Get(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void RenderCache::Put(const std::string& key, std::shared_ptr<const std::string> value) {
  const size_t size = value->size() + key.size();
  if (size > max_bytes_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (index_.count(key)) return;  // another thread rendered it first
  lru_.emplace_front(key, std::move(value));
  index_.emplace(key, lru_.begin());
  bytes_ += size;
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    Item& last = lru_.back();
    bytes_ -= last.second->size() + last.first.size();
    index_.erase(last.first);
    lru_.pop_back();
  }
}

}  // namespace mapfs::fs
