// The refused replacements; see refused_files.h.
#include "refused_files.h"

#include <algorithm>

namespace mapfs::fs {

RefusedFiles::Stamp RefusedFiles::StampOf(const struct stat& st) {
  return Stamp{fs::StampOf(st), st.st_ctim};
}

bool RefusedFiles::Known(const std::string& path, const struct stat& st) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = stamps_.find(path);
  return it != stamps_.end() && it->second == StampOf(st);
}

void RefusedFiles::Remember(const std::string& path, const struct stat& st) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = stamps_.insert_or_assign(path, StampOf(st));
  if (!inserted) return;
  order_.push_back(path);
  while (stamps_.size() > capacity_ && !order_.empty()) {
    stamps_.erase(order_.front());
    order_.pop_front();
  }
}

void RefusedFiles::Forget(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stamps_.erase(path) == 0) return;
  auto it = std::find(order_.begin(), order_.end(), path);
  if (it != order_.end()) order_.erase(it);
}

size_t RefusedFiles::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stamps_.size();
}

}  // namespace mapfs::fs
