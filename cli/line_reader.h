// Reads JSONL input in large blocks and cuts it into batches of whole lines,
// for the sharded build (cli/sharded_build.cc). A batch's lines are views
// into its caller-owned buffer, so a reused buffer reads without a per-line
// allocation or copy. Lines are numbered and split as std::getline splits
// them: on '\n', with a last line that lacks one.
#ifndef MAPFS_CLI_LINE_READER_H_
#define MAPFS_CLI_LINE_READER_H_

#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace mapfs::cli {

// True for a line of only spaces, tabs and '\r' (or none): not a record.
inline bool IsBlankLine(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

// The lines of one batch. `lines` are views into `buffer`, valid until the
// batch is refilled; `line_nos` are their 1-based input line numbers.
struct LineBatch {
  // Holds the batch's bytes at its start. It only grows (to the largest
  // batch), so a refill neither allocates nor clears it.
  std::string buffer;
  std::vector<std::string_view> lines;  // the non-blank lines only
  std::vector<uint64_t> line_nos;
};

// Reads `in` (which must outlive it) from its current position. Not
// thread-safe; one reader per stream.
class LineReader {
 public:
  // `batch_bytes`: the input a batch reads at least (whole lines, so a
  // batch holds a little more, or a whole line longer than this).
  LineReader(std::istream* in, size_t batch_bytes) : in_(in), batch_bytes_(batch_bytes) {}

  // Refills `batch` with the next whole lines of input. False once the
  // input is exhausted (or failed: see bad()); a true return may still
  // bring only blank lines.
  bool Next(LineBatch* batch);

  // A read error (not end of input) stopped the reading.
  bool bad() const { return in_->bad(); }

 private:
  std::istream* in_;
  size_t batch_bytes_;
  std::string carry_;  // the start of a line the last block cut off
  uint64_t line_no_ = 0;
  bool eof_ = false;
};

}  // namespace mapfs::cli

#endif  // MAPFS_CLI_LINE_READER_H_
