// A bounded LRU of rendered file contents (@json documents), so that the
// lookup that sizes a file and the reads that follow render it once.
// Thread-safe; memory stays under the byte budget whatever is read.
#ifndef MAPFS_FS_RENDER_CACHE_H_
#define MAPFS_FS_RENDER_CACHE_H_

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace mapfs::fs {

class RenderCache {
 public:
  explicit RenderCache(size_t max_bytes) : max_bytes_(max_bytes) {}

  // The cached content for `key`, or null. Readers keep what they got alive
  // through the shared_ptr even if it is evicted meanwhile.
  std::shared_ptr<const std::string> Get(const std::string& key);
  // Remembers `value`, evicting the least recently used beyond the budget.
  // Values larger than the whole budget are not kept.
  void Put(const std::string& key, std::shared_ptr<const std::string> value);

 private:
  using Item = std::pair<std::string, std::shared_ptr<const std::string>>;
  const size_t max_bytes_;
  std::mutex mu_;
  std::list<Item> lru_;  // most recent first
  std::unordered_map<std::string, std::list<Item>::iterator> index_;
  size_t bytes_ = 0;
};

}  // namespace mapfs::fs

#endif  // MAPFS_FS_RENDER_CACHE_H_
