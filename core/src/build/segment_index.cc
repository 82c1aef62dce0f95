// Index building for SegmentWriter: sorts the (hash, item, record id) tuples,
// spilling sorted runs when they outgrow the budget, and merges them into the
// directory, entry, range and postings sections in one streaming pass.
// Duplicate keys are found here by comparing real keys of equal hashes.
#include <algorithm>
#include <cstring>
#include <queue>

#include "segment_internal.h"

namespace mapfs {

namespace sf = segment_format;

namespace {

// A function object, so that std::sort inlines the comparison.
struct TupleLessFn {
  bool operator()(const IndexTuple& a, const IndexTuple& b) const {
    return a.hash != b.hash ? a.hash < b.hash : a.record_id < b.record_id;
  }
};
constexpr TupleLessFn TupleLess;

// Yields tuples in (hash, record id) order from memory or from merged runs.
class TupleSource {
 public:
  TupleSource(std::vector<IndexTuple>* memory, const internal::SpillFile* runs,
              const std::vector<std::pair<uint64_t, uint64_t>>& bounds) : memory_(memory) {
    const size_t buf = std::max<size_t>(
        sizeof(IndexTuple) * 64, (size_t{8} << 20) / std::max<size_t>(1, bounds.size()) /
                                     sizeof(IndexTuple) * sizeof(IndexTuple));
    for (const auto& [b, e] : bounds) readers_.emplace_back(runs, b, e, buf);
  }

  Status Init() {
    for (size_t i = 0; i < readers_.size(); ++i) MAPFS_RETURN_IF_ERROR(Refill(i));
    return Status::OK();
  }

  // False at the end.
  Result<bool> Next(IndexTuple* t) {
    if (readers_.empty()) {
      if (pos_ == memory_->size()) return false;
      *t = (*memory_)[pos_++];
      return true;
    }
    if (heap_.empty()) return false;
    auto [top, run] = heap_.top();
    heap_.pop();
    *t = top;
    MAPFS_RETURN_IF_ERROR(Refill(run));
    return true;
  }

 private:
  Status Refill(size_t run) {
    IndexTuple t;
    MAPFS_ASSIGN_OR_RETURN(bool more, readers_[run].Read(&t, sizeof(t)));
    if (more) heap_.push({t, run});
    return Status::OK();
  }
  struct HeapGreater {
    bool operator()(const std::pair<IndexTuple, size_t>& a,
                    const std::pair<IndexTuple, size_t>& b) const {
      return TupleLess(b.first, a.first);
    }
  };
  std::vector<IndexTuple>* memory_;
  size_t pos_ = 0;
  std::vector<internal::SpillReader> readers_;
  std::priority_queue<std::pair<IndexTuple, size_t>, std::vector<std::pair<IndexTuple, size_t>>,
                      HeapGreater>
      heap_;
};

}  // namespace

Status SegmentWriter::SpillRun() {
  std::sort(tuples_.begin(), tuples_.end(), TupleLess);
  const uint64_t begin = runs_->size();
  MAPFS_RETURN_IF_ERROR(runs_->Append(tuples_.data(), tuples_.size() * sizeof(IndexTuple)));
  run_bounds_.emplace_back(begin, runs_->size());
  tuples_.clear();  // keeps the reserved capacity for the next run
  return Status::OK();
}

Status SegmentWriter::ReadKey(const IndexTuple& t, std::string* key) {
  key->resize(t.key_size);
  return data_->ReadBack(t.item_offset + sizeof(sf::ItemHeader), key->data(), t.key_size);
}

std::string SegmentWriter::RecordName(uint64_t record_id) const {
  if (p_.record_name) return p_.record_name(record_id);
  return p_.path + ": record " + std::to_string(record_id);
}

std::string SegmentWriter::DescribeKey(std::string_view key) const {
  constexpr size_t kMaxShown = 80;
  if (p_.key_kind == KeyKind::kUInt && key.size() == 8) {
    uint64_t v;
    std::memcpy(&v, key.data(), 8);
    return std::to_string(v);
  }
  if (p_.describe_key) return p_.describe_key(key);
  std::string out;
  if (p_.key_kind == KeyKind::kStr) {
    out = "\"" + std::string(key.substr(0, kMaxShown)) + "\"";
  } else {
    static const char kHex[] = "0123456789abcdef";
    out = "0x";
    for (unsigned char c : key.substr(0, kMaxShown / 2)) {
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (key.size() > kMaxShown) out += "... (" + std::to_string(key.size()) + " bytes)";
  return out;
}

Status SegmentWriter::BuildIndex(uint64_t* pos) {
  const uint32_t k = sf::IndexBitsFor(record_count_);
  index_bits_ = k;
  const uint64_t buckets = uint64_t{1} << k;
  const bool approx = p_.kind == CollectionKind::kApproxMultiMap;

  if (!run_bounds_.empty()) {
    if (!tuples_.empty()) MAPFS_RETURN_IF_ERROR(SpillRun());
    std::vector<IndexTuple>().swap(tuples_);  // give the budget back before merging
    MAPFS_RETURN_IF_ERROR(runs_->Flush());
  } else {
    std::sort(tuples_.begin(), tuples_.end(), TupleLess);
  }
  TupleSource source(&tuples_, runs_.get(), run_bounds_);
  MAPFS_RETURN_IF_ERROR(source.Init());

  internal::SectionStream dir(&*out_, *pos);
  const uint64_t dir_end = *pos + 4 * (buckets + 1);
  std::unique_ptr<internal::SectionStream> postings;
  std::unique_ptr<internal::SpillFile> ranges;
  uint64_t entries_at = sf::AlignUp(dir_end, sf::kSectionAlign);
  if (multi()) {
    postings = std::make_unique<internal::SectionStream>(&*out_, entries_at);
    entries_at = sf::AlignUp(entries_at + 4 * record_count_, sf::kSectionAlign);
    MAPFS_ASSIGN_OR_RETURN(ranges, internal::SpillFile::Create(p_.temp_dir));
  }
  internal::SectionStream entries(&*out_, entries_at);

  uint64_t next_bucket = 0;
  uint32_t posting_count = 0;
  auto emit_entry = [&](uint64_t hash, uint64_t item_offset) -> Status {
    const uint64_t b = sf::BucketOf(hash, k);
    for (; next_bucket <= b; ++next_bucket) {
      uint32_t v = static_cast<uint32_t>(key_count_);
      MAPFS_RETURN_IF_ERROR(dir.Append(&v, 4));
    }
    uint64_t e = sf::MakeEntry(sf::FingerprintOf(hash, k), item_offset);
    MAPFS_RETURN_IF_ERROR(entries.Append(&e, 8));
    ++key_count_;
    return Status::OK();
  };
  auto emit_range = [&](const std::vector<uint32_t>& ids) -> Status {
    sf::Range r{posting_count, static_cast<uint32_t>(ids.size())};
    MAPFS_RETURN_IF_ERROR(ranges->Append(&r, sizeof(r)));
    MAPFS_RETURN_IF_ERROR(postings->Append(ids.data(), 4 * ids.size()));
    posting_count += static_cast<uint32_t>(ids.size());
    return Status::OK();
  };

  // Groups of tuples with equal hash (approx: equal bucket and fingerprint).
  const int group_shift = approx ? static_cast<int>(64 - k - sf::kFingerprintBits) : 0;
  std::vector<IndexTuple> group;
  std::vector<std::string> class_keys;
  std::vector<std::vector<uint32_t>> class_ids;
  std::vector<IndexTuple> class_first;
  std::string key;
  auto flush_group = [&]() -> Status {
    if (group.empty()) return Status::OK();
    if (approx) {
      std::vector<uint32_t> ids;
      ids.reserve(group.size());
      for (const IndexTuple& t : group) ids.push_back(t.record_id);
      std::sort(ids.begin(), ids.end());
      const IndexTuple& first = *std::min_element(
          group.begin(), group.end(),
          [](const IndexTuple& a, const IndexTuple& b) { return a.record_id < b.record_id; });
      MAPFS_RETURN_IF_ERROR(emit_entry(group.front().hash, first.item_offset));
      MAPFS_RETURN_IF_ERROR(emit_range(ids));
      group.clear();
      return Status::OK();
    }
    if (group.size() == 1 && p_.kind == CollectionKind::kMapping) {
      MAPFS_RETURN_IF_ERROR(emit_entry(group[0].hash, group[0].item_offset));
      group.clear();
      return Status::OK();
    }
    // Split by real key: equal hashes of different keys stay apart. Tuples
    // arrive by record id, so each class is in input order.
    class_keys.clear();
    class_ids.clear();
    class_first.clear();
    for (const IndexTuple& t : group) {
      size_t c = 0;
      if (group.size() > 1) {
        MAPFS_RETURN_IF_ERROR(ReadKey(t, &key));
        while (c < class_keys.size() && class_keys[c] != key) ++c;
      }
      if (c == class_keys.size()) {
        class_keys.push_back(key);
        class_ids.emplace_back();
        class_first.push_back(t);
      } else if (p_.kind == CollectionKind::kMapping) {
        return Status::InvalidArgument(RecordName(t.record_id) + ": " + p_.key_label +
                                       "duplicate key " + DescribeKey(key) + ", first at " +
                                       RecordName(class_first[c].record_id));
      }
      class_ids[c].push_back(t.record_id);
    }
    for (size_t c = 0; c < class_first.size(); ++c) {
      MAPFS_RETURN_IF_ERROR(emit_entry(class_first[c].hash, class_first[c].item_offset));
      if (multi()) MAPFS_RETURN_IF_ERROR(emit_range(class_ids[c]));
    }
    group.clear();
    return Status::OK();
  };

  IndexTuple t;
  while (true) {
    MAPFS_ASSIGN_OR_RETURN(bool more, source.Next(&t));
    if (!more) break;
    if (!group.empty() && (group.front().hash >> group_shift) != (t.hash >> group_shift)) {
      MAPFS_RETURN_IF_ERROR(flush_group());
    }
    group.push_back(t);
  }
  MAPFS_RETURN_IF_ERROR(flush_group());
  for (; next_bucket <= buckets; ++next_bucket) {
    uint32_t v = static_cast<uint32_t>(key_count_);
    MAPFS_RETURN_IF_ERROR(dir.Append(&v, 4));
  }
  std::vector<IndexTuple>().swap(tuples_);
  runs_.reset();

  MAPFS_RETURN_IF_ERROR(dir.Flush());
  AddSection(sf::SectionKind::kDirectory, dir);
  MAPFS_RETURN_IF_ERROR(entries.Flush());
  AddSection(sf::SectionKind::kEntries, entries);
  *pos = sf::AlignUp(entries.begin() + entries.size(), sf::kSectionAlign);
  if (multi()) {
    MAPFS_RETURN_IF_ERROR(postings->Flush());
    AddSection(sf::SectionKind::kPostings, *postings);
    internal::SectionStream range_out(&*out_, *pos);
    MAPFS_RETURN_IF_ERROR(ranges->Flush());
    MAPFS_RETURN_IF_ERROR(range_out.AppendSpill(*ranges));
    MAPFS_RETURN_IF_ERROR(range_out.Flush());
    AddSection(sf::SectionKind::kRanges, range_out);
    *pos = sf::AlignUp(range_out.begin() + range_out.size(), sf::kSectionAlign);
  }
  // The section table lists sections in file order.
  std::stable_sort(sections_.begin(), sections_.end(),
                   [](const sf::SectionEntry& a, const sf::SectionEntry& b) {
                     return a.offset < b.offset;
                   });
  return Status::OK();
}

}  // namespace mapfs
