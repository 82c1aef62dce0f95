// LineReader: batches of whole lines, numbered and split as std::getline
// splits them, whatever the block size.
#include "line_reader.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace mapfs::cli {
namespace {

using Lines = std::vector<std::pair<uint64_t, std::string>>;

// Every non-blank line with its number, read in batches of `batch_bytes`;
// also checks that no batch ends inside a line.
Lines ReadAll(const std::string& input, size_t batch_bytes, size_t* batches = nullptr) {
  std::istringstream in(input);
  LineReader reader(&in, batch_bytes);
  LineBatch batch;
  Lines out;
  size_t n = 0;
  while (reader.Next(&batch)) {
    ++n;
    EXPECT_EQ(batch.lines.size(), batch.line_nos.size());
    for (size_t i = 0; i < batch.lines.size(); ++i) {
      out.emplace_back(batch.line_nos[i], std::string(batch.lines[i]));
    }
  }
  EXPECT_FALSE(reader.bad());
  if (batches != nullptr) *batches = n;
  return out;
}

// What std::getline gives for the same input: the reference.
Lines GetlineLines(const std::string& input) {
  std::istringstream in(input);
  Lines out;
  std::string line;
  uint64_t no = 0;
  while (std::getline(in, line)) {
    ++no;
    if (!IsBlankLine(line)) out.emplace_back(no, line);
  }
  return out;
}

TEST(LineReader, MatchesGetlineForEveryBlockSize) {
  const std::string inputs[] = {
      "",
      "\n",
      "a",
      "a\n",
      "a\nb",
      "a\n\n \t\r\nb\n",
      "{\"k\":1}\r\n{\"k\":2}\r\n",
      "first\n" + std::string(5000, 'x') + "\nlast",
      "\n\n\nafter blanks\n",
  };
  for (const std::string& input : inputs) {
    for (size_t batch_bytes : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{4096},
                               size_t{1} << 20}) {
      EXPECT_EQ(ReadAll(input, batch_bytes), GetlineLines(input))
          << "input of " << input.size() << " bytes, batches of " << batch_bytes;
    }
  }
}

TEST(LineReader, BatchesHoldAboutTheirBytesOfWholeLines) {
  std::string input;
  for (int i = 0; i < 1000; ++i) input += "line-" + std::to_string(i) + "\n";
  size_t batches = 0;
  const Lines lines = ReadAll(input, 1000, &batches);
  ASSERT_EQ(lines.size(), 1000u);
  EXPECT_EQ(lines.back(), (std::pair<uint64_t, std::string>{1000, "line-999"}));
  // Each read is at least 64 KiB, so the whole input comes as one batch;
  // a larger input is cut into several.
  EXPECT_EQ(batches, 1u);
  const std::string big(3 << 20, 'y');
  std::string three = big + "\n" + big + "\n" + big + "\n";
  ReadAll(three, 1 << 20, &batches);
  EXPECT_EQ(batches, 3u);
}

TEST(LineReader, AReusedBufferKeepsEachBatchIntact) {
  std::string input;
  for (int i = 0; i < 50000; ++i) input += "record number " + std::to_string(i) + "\n";
  std::istringstream in(input);
  LineReader reader(&in, 100000);
  LineBatch batch;
  uint64_t expected = 0;
  while (reader.Next(&batch)) {
    for (size_t i = 0; i < batch.lines.size(); ++i) {
      ASSERT_EQ(batch.line_nos[i], expected + 1);
      ASSERT_EQ(batch.lines[i], "record number " + std::to_string(expected));
      ++expected;
    }
  }
  EXPECT_EQ(expected, 50000u);
}

}  // namespace
}  // namespace mapfs::cli
