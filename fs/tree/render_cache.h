// A bounded LRU of rendered file contents (@json documents), so that the
// lookup that sizes a file and the reads that follow render it once.
// Thread-safe; memory stays under the byte budget whatever is read.
//
// The budget counts what an entry costs the process, not only the bytes of
// its document: @json documents are mostly small, and for those the key,
// the list and hash nodes, the shared string and the allocator's rounding
// and headers cost more than the text itself (Charge).
#ifndef MAPFS_FS_RENDER_CACHE_H_
#define MAPFS_FS_RENDER_CACHE_H_

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mapfs::fs {

class RenderCache {
 public:
  explicit RenderCache(size_t max_bytes) : max_bytes_(max_bytes) {}

  // The cached content for `key`, or null. Readers keep what they got alive
  // through the shared_ptr even if it is evicted meanwhile.
  std::shared_ptr<const std::string> Get(const std::string& key);
  // Remembers `value`, evicting the least recently used beyond the budget.
  // Values whose charge exceeds the whole budget are not kept.
  void Put(const std::string& key, std::shared_ptr<const std::string> value);

  // The bytes an entry of `key` and `value` costs the heap: the strings'
  // buffers at their capacity, the list node, the hash node and its bucket,
  // the shared string's control block, each allocation rounded up and with
  // its header as glibc's malloc does it.
  static size_t Charge(const std::string& key, const std::string& value);
  // Bytes charged for the entries held, and their number.
  size_t bytes() const;
  size_t entries() const;

 private:
  using Item = std::pair<std::string, std::shared_ptr<const std::string>>;
  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::list<Item> lru_;  // most recent first
  // Keys view the list items' own keys (list nodes do not move): one copy.
  std::unordered_map<std::string_view, std::list<Item>::iterator> index_;
  size_t bytes_ = 0;
};

}  // namespace mapfs::fs

#endif  // MAPFS_FS_RENDER_CACHE_H_
