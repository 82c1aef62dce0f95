// Index building for SegmentWriter: sorts the (hash, item, record id) tuples,
// spilling sorted runs when they outgrow the budget, and merges them into the
// directory, entry, range and postings sections in one streaming pass.
// Duplicate keys are found here by comparing real keys of equal hashes.
#include <algorithm>
#include <cstring>
#include <queue>

#include "mapfs/key_codec.h"
#include "build_internal.h"

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
  if (p_.key_kind == KeyKind::kUInt) {
    if (std::optional<uint64_t> v = DecodeUIntKey(key)) return std::to_string(*v);
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

namespace internal {

// The index sections as they are written: the directory, the entries in
// bucket order and, for multimaps, the postings and the ranges of each key;
// plus the scratch space of splitting a hash group by real key.
struct IndexOutput {
  IndexOutput(AtomicFileWriter* out, uint64_t dir_at, uint64_t entries_at, uint32_t index_bits)
      : k(index_bits), dir(out, dir_at), entries(out, entries_at) {}

  // One key: the directory up to its bucket, then its entry.
  Status Entry(uint64_t hash, uint64_t item_offset) {
    MAPFS_RETURN_IF_ERROR(FillDirectory(sf::BucketOf(hash, k)));
    uint64_t e = sf::MakeEntry(sf::FingerprintOf(hash, k), item_offset);
    MAPFS_RETURN_IF_ERROR(entries.Append(&e, 8));
    ++key_count;
    return Status::OK();
  }
  // One key's record ids (multimaps), in input order.
  Status Range(const std::vector<uint32_t>& ids) {
    sf::Range r{posting_count, static_cast<uint32_t>(ids.size())};
    MAPFS_RETURN_IF_ERROR(ranges->Append(&r, sizeof(r)));
    MAPFS_RETURN_IF_ERROR(postings->Append(ids.data(), 4 * ids.size()));
    posting_count += static_cast<uint32_t>(ids.size());
    return Status::OK();
  }
  // Directory slots up to and including `bucket`: the keys before it.
  Status FillDirectory(uint64_t bucket) {
    for (; next_bucket <= bucket; ++next_bucket) {
      uint32_t v = static_cast<uint32_t>(key_count);
      MAPFS_RETURN_IF_ERROR(dir.Append(&v, 4));
    }
    return Status::OK();
  }

  const uint32_t k;
  SectionStream dir;
  SectionStream entries;
  std::unique_ptr<SectionStream> postings;  // multimaps only
  std::unique_ptr<SpillFile> ranges;        // multimaps only
  uint64_t next_bucket = 0;
  uint32_t posting_count = 0;
  uint64_t key_count = 0;

  // Kept across groups so that splitting one allocates nothing.
  std::vector<std::string> class_keys;
  std::vector<std::vector<uint32_t>> class_ids;
  std::vector<IndexTuple> class_first;
  std::string key;
};

}  // namespace internal

Status SegmentWriter::BuildIndex(uint64_t* pos) {
  index_bits_ = sf::IndexBitsFor(record_count_);
  MAPFS_RETURN_IF_ERROR(SortTuples());
  TupleSource source(&tuples_, runs_.get(), run_bounds_);
  MAPFS_RETURN_IF_ERROR(source.Init());
  MAPFS_ASSIGN_OR_RETURN(std::unique_ptr<internal::IndexOutput> out, OpenIndex(*pos));

  // Groups of tuples with equal hash (approx: equal bucket and fingerprint).
  const bool approx = p_.kind == CollectionKind::kApproxMultiMap;
  const int group_shift = approx ? static_cast<int>(64 - index_bits_ - sf::kFingerprintBits) : 0;
  std::vector<IndexTuple> group;
  IndexTuple t;
  while (true) {
    MAPFS_ASSIGN_OR_RETURN(bool more, source.Next(&t));
    if (!more) break;
    if (!group.empty() && (group.front().hash >> group_shift) != (t.hash >> group_shift)) {
      MAPFS_RETURN_IF_ERROR(FlushGroup(&group, out.get()));
    }
    group.push_back(t);
  }
  MAPFS_RETURN_IF_ERROR(FlushGroup(&group, out.get()));
  MAPFS_RETURN_IF_ERROR(out->FillDirectory(uint64_t{1} << index_bits_));
  key_count_ = out->key_count;
  std::vector<IndexTuple>().swap(tuples_);
  runs_.reset();
  return FinishIndex(out.get(), pos);
}

Status SegmentWriter::SortTuples() {
  if (run_bounds_.empty()) {
    std::sort(tuples_.begin(), tuples_.end(), TupleLess);
    return Status::OK();
  }
  if (!tuples_.empty()) MAPFS_RETURN_IF_ERROR(SpillRun());
  std::vector<IndexTuple>().swap(tuples_);  // give the budget back before merging
  return runs_->Flush();
}

Result<std::unique_ptr<internal::IndexOutput>> SegmentWriter::OpenIndex(uint64_t pos) {
  const uint64_t dir_end = pos + 4 * ((uint64_t{1} << index_bits_) + 1);
  uint64_t entries_at = sf::AlignUp(dir_end, sf::kSectionAlign);
  uint64_t postings_at = entries_at;
  if (multi()) entries_at = sf::AlignUp(postings_at + 4 * record_count_, sf::kSectionAlign);
  auto out = std::make_unique<internal::IndexOutput>(&*out_, pos, entries_at, index_bits_);
  if (multi()) {
    out->postings = std::make_unique<internal::SectionStream>(&*out_, postings_at);
    MAPFS_ASSIGN_OR_RETURN(out->ranges, internal::SpillFile::Create(p_.temp_dir));
  }
  return out;
}

Status SegmentWriter::FlushGroup(std::vector<IndexTuple>* group, internal::IndexOutput* out) {
  if (group->empty()) return Status::OK();
  Status st;
  if (p_.kind == CollectionKind::kApproxMultiMap) {
    st = FlushApproxGroup(*group, out);
  } else if (group->size() == 1 && p_.kind == CollectionKind::kMapping) {
    st = out->Entry((*group)[0].hash, (*group)[0].item_offset);
  } else {
    st = FlushKeyGroup(*group, out);
  }
  group->clear();
  return st;
}

Status SegmentWriter::FlushApproxGroup(const std::vector<IndexTuple>& group,
                                       internal::IndexOutput* out) {
  // One entry for the whole group, pointing at its first record's item.
  std::vector<uint32_t> ids;
  ids.reserve(group.size());
  for (const IndexTuple& t : group) ids.push_back(t.record_id);
  std::sort(ids.begin(), ids.end());
  const IndexTuple& first = *std::min_element(
      group.begin(), group.end(),
      [](const IndexTuple& a, const IndexTuple& b) { return a.record_id < b.record_id; });
  MAPFS_RETURN_IF_ERROR(out->Entry(group.front().hash, first.item_offset));
  return out->Range(ids);
}

Status SegmentWriter::FlushKeyGroup(const std::vector<IndexTuple>& group,
                                    internal::IndexOutput* out) {
  // Split by real key: equal hashes of different keys stay apart. Tuples
  // arrive by record id, so each class is in input order.
  std::vector<std::string>& class_keys = out->class_keys;
  std::vector<std::vector<uint32_t>>& class_ids = out->class_ids;
  std::vector<IndexTuple>& class_first = out->class_first;
  class_keys.clear();
  class_ids.clear();
  class_first.clear();
  for (const IndexTuple& t : group) {
    size_t c = 0;
    if (group.size() > 1) {
      MAPFS_RETURN_IF_ERROR(ReadKey(t, &out->key));
      while (c < class_keys.size() && class_keys[c] != out->key) ++c;
    }
    if (c == class_keys.size()) {
      class_keys.push_back(out->key);
      class_ids.emplace_back();
      class_first.push_back(t);
    } else if (p_.kind == CollectionKind::kMapping) {
      return Status::InvalidArgument(RecordName(t.record_id) + ": " + p_.key_label +
                                     "duplicate key " + DescribeKey(out->key) + ", first at " +
                                     RecordName(class_first[c].record_id));
    }
    class_ids[c].push_back(t.record_id);
  }
  for (size_t c = 0; c < class_first.size(); ++c) {
    MAPFS_RETURN_IF_ERROR(out->Entry(class_first[c].hash, class_first[c].item_offset));
    if (multi()) MAPFS_RETURN_IF_ERROR(out->Range(class_ids[c]));
  }
  return Status::OK();
}

Status SegmentWriter::FinishIndex(internal::IndexOutput* out, uint64_t* pos) {
  MAPFS_RETURN_IF_ERROR(out->dir.Flush());
  AddSection(sf::SectionKind::kDirectory, out->dir);
  MAPFS_RETURN_IF_ERROR(out->entries.Flush());
  AddSection(sf::SectionKind::kEntries, out->entries);
  *pos = sf::AlignUp(out->entries.begin() + out->entries.size(), sf::kSectionAlign);
  if (multi()) {
    MAPFS_RETURN_IF_ERROR(out->postings->Flush());
    AddSection(sf::SectionKind::kPostings, *out->postings);
    internal::SectionStream range_out(&*out_, *pos);
    MAPFS_RETURN_IF_ERROR(out->ranges->Flush());
    MAPFS_RETURN_IF_ERROR(range_out.AppendSpill(*out->ranges));
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
