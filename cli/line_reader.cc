// Block reads cut into whole lines (line_reader.h).
#include "line_reader.h"

#include <algorithm>

namespace mapfs::cli {
namespace {

// The smallest read once a batch holds its bytes but not yet a line end.
constexpr size_t kMinRead = 64 << 10;

}  // namespace

bool LineReader::Next(LineBatch* batch) {
  std::string& buf = batch->buffer;
  batch->lines.clear();
  batch->line_nos.clear();
  if (buf.size() < carry_.size()) buf.resize(carry_.size());
  carry_.copy(buf.data(), carry_.size());
  size_t size = carry_.size();
  carry_.clear();
  // Reads until the batch holds its bytes and ends on a line end; the part
  // of a line after the last '\n' waits in carry_ for the next batch.
  size_t end = std::string::npos;  // past the last '\n' read (carry_ holds none)
  while (!eof_ && (size < batch_bytes_ || end == std::string::npos)) {
    const size_t want = std::max(batch_bytes_ - std::min(size, batch_bytes_), kMinRead);
    if (buf.size() < size + want) buf.resize(size + want);
    in_->read(buf.data() + size, static_cast<std::streamsize>(want));
    const size_t got = static_cast<size_t>(in_->gcount());
    const size_t nl = std::string_view(buf.data() + size, got).rfind('\n');
    if (nl != std::string_view::npos) end = size + nl + 1;
    size += got;
    if (got < want) eof_ = true;  // the end of the input, or an error (bad())
  }
  if (eof_) end = size;  // the last line may lack its '\n'
  carry_.assign(buf, end, size - end);
  if (end == 0) return false;
  std::string_view rest(buf.data(), end);
  for (;;) {
    const size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    ++line_no_;
    if (!IsBlankLine(line)) {
      batch->lines.push_back(line);
      batch->line_nos.push_back(line_no_);
    }
    if (nl == std::string_view::npos || nl + 1 == rest.size()) break;
    rest.remove_prefix(nl + 1);
  }
  return true;
}

}  // namespace mapfs::cli
