// The lookups every keyed kind shares (mapfs/key_codec.h): an array index
// from text, and the records of a raw key with approximate multimaps' hash
// candidates filtered to the key's own records.
#include <charconv>

#include "mapfs/key_codec.h"

namespace mapfs {

Result<uint64_t> ParseArrayIndex(std::string_view text, uint64_t record_count) {
  const bool negative = !text.empty() && text.front() == '-';
  const std::string_view digits = negative ? text.substr(1) : text;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || ec == std::errc::invalid_argument ||
      end != digits.data() + digits.size()) {
    return Status::InvalidArgument("index '" + std::string(text) + "' is not an integer");
  }
  const std::string where = " (" + std::to_string(record_count) + " records)";
  if (ec == std::errc::result_out_of_range || (negative && (v == 0 || v > record_count)) ||
      (!negative && v >= record_count)) {
    return Status::NotFound("no record at index " + std::string(text) + where);
  }
  return negative ? record_count - v : v;
}

namespace {

// Calls `fn(record_id)` for each record of `raw`, in input order, until it
// returns false.
template <typename Fn>
Status VisitRecords(const Segment& seg, std::string_view raw, Fn&& fn) {
  switch (seg.kind()) {
    case CollectionKind::kArray:
      return Status::InvalidArgument(seg.name() + ": an array has no keys");
    case CollectionKind::kMapping: {
      MAPFS_ASSIGN_OR_RETURN(std::optional<Segment::Entry> hit, seg.Find(raw));
      if (!hit) return Status::OK();
      MAPFS_ASSIGN_OR_RETURN(uint64_t id, seg.MappingRecordAt(hit->ordinal));
      fn(id);
      return Status::OK();
    }
    case CollectionKind::kMultiMap: {
      MAPFS_ASSIGN_OR_RETURN(Segment::RecordIds ids, seg.FindAll(raw));
      for (uint32_t i = 0; i < ids.size(); ++i) {
        if (!fn(ids[i])) break;
      }
      return Status::OK();
    }
    case CollectionKind::kApproxMultiMap: {
      MAPFS_ASSIGN_OR_RETURN(Segment::RecordIds ids, seg.Candidates(raw));
      for (uint32_t i = 0; i < ids.size(); ++i) {
        if (seg.key_field_index() >= 0) {
          // Candidates may hold records of colliding keys: keep the key's own.
          MAPFS_ASSIGN_OR_RETURN(View rec, seg.Record(ids[i]));
          MAPFS_ASSIGN_OR_RETURN(View k, rec.Field(seg.key_field_index()));
          if (k.is_null() || k.as_str() != raw) continue;
        }
        if (!fn(ids[i])) break;
      }
      return Status::OK();
    }
  }
  return Status::Corruption(seg.name() + ": unknown collection kind");
}

}  // namespace

Result<std::vector<uint64_t>> FindRecords(const Segment& seg, std::string_view raw) {
  std::vector<uint64_t> out;
  MAPFS_RETURN_IF_ERROR(VisitRecords(seg, raw, [&](uint64_t id) {
    out.push_back(id);
    return true;
  }));
  return out;
}

Result<bool> ContainsKey(const Segment& seg, std::string_view raw) {
  bool found = false;
  MAPFS_RETURN_IF_ERROR(VisitRecords(seg, raw, [&](uint64_t) {
    found = true;
    return false;  // the first record answers
  }));
  return found;
}

}  // namespace mapfs
