// The rendered-content LRU; see render_cache.h.
#include "render_cache.h"

#include <atomic>

namespace mapfs::fs {

namespace {

// What malloc takes for a block of `n` bytes on a 64-bit glibc: the request
// plus an 8-byte header, rounded up to 16, at least 32.
constexpr size_t HeapBlock(size_t n) {
  const size_t chunk = (n + sizeof(size_t) + 15) & ~size_t{15};
  return chunk < 32 ? 32 : chunk;
}

// The heap buffer of a string: none while it fits in the string itself.
size_t StringHeap(const std::string& s) {
  return s.capacity() > std::string().capacity() ? HeapBlock(s.capacity() + 1) : 0;
}

using Item = std::pair<std::string, std::shared_ptr<const std::string>>;
// A list node: two links and the item.
constexpr size_t kListNode = HeapBlock(2 * sizeof(void*) + sizeof(Item));
// A hash node: the next link, the key and value, the cached hash; and its
// share of the bucket array (up to two pointers per element after growing).
constexpr size_t kHashNode =
    HeapBlock(sizeof(void*) + sizeof(std::pair<const std::string_view, void*>) + sizeof(size_t)) +
    2 * sizeof(void*);
// make_shared's block: the counts (and vtable pointer), then the string.
constexpr size_t kSharedString =
    HeapBlock(sizeof(void*) + 2 * sizeof(std::atomic<int>) + sizeof(std::string));

}  // namespace

size_t RenderCache::Charge(const std::string& key, const std::string& value) {
  return kListNode + kHashNode + kSharedString + StringHeap(key) + StringHeap(value);
}

std::shared_ptr<const std::string> RenderCache::Get(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void RenderCache::Put(const std::string& key, std::shared_ptr<const std::string> value) {
  std::lock_guard<std::mutex> lock(mu_);
  if (index_.count(key)) return;  // another thread rendered it first
  lru_.emplace_front(key, std::move(value));
  const size_t charge = Charge(lru_.front().first, *lru_.front().second);
  if (charge > max_bytes_) {
    lru_.pop_front();
    return;
  }
  index_.emplace(lru_.front().first, lru_.begin());
  bytes_ += charge;
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    Item& last = lru_.back();
    bytes_ -= Charge(last.first, *last.second);
    index_.erase(last.first);
    lru_.pop_back();
  }
}

size_t RenderCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

size_t RenderCache::entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lru_.size();
}

}  // namespace mapfs::fs
