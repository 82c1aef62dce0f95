// KeepCodeResident: which mappings count as code, and that after the call
// every page of them is mapped (resident in the process's page tables).
#include "code_residency.h"

#include <sys/mman.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace mapfs::fs {
namespace {

TEST(CodeResidency, CodeMappingsAreTheReadOnlyMappingsOfFilesWithCode) {
  const std::string maps =
      "1000-3000 r--p 00000000 08:01 11 /usr/bin/prog\n"
      "3000-8000 r-xp 00002000 08:01 11 /usr/bin/prog\n"
      "8000-9000 rw-p 00007000 08:01 11 /usr/bin/prog\n"
      "9000-a000 r--s 00000000 08:01 12 /data/people.mapfs\n"
      "a000-b000 r--p 00000000 08:01 13 /data/other.mapfs\n"
      "b000-c000 rw-p 00000000 00:00 0 [heap]\n"
      "c000-d000 r-xp 00000000 08:01 14 /usr/lib/lib with space.so (deleted)\n"
      "d000-e000 r-xp 00000000 00:00 0 [vdso]\n"
      "e000-f000 ---p 00000000 08:01 14 /usr/lib/lib with space.so (deleted)\n"
      "not a mapping line\n";
  const std::vector<CodeMapping> code = CodeMappingsOf(maps);
  ASSERT_EQ(code.size(), 3u);
  EXPECT_EQ(code[0].begin, 0x1000u);
  EXPECT_EQ(code[0].end, 0x3000u);
  EXPECT_EQ(code[0].path, "/usr/bin/prog");
  EXPECT_EQ(code[1].begin, 0x3000u);
  EXPECT_EQ(code[2].path, "/usr/lib/lib with space.so (deleted)");
  EXPECT_EQ(code[2].begin, 0xc000u);
}

// Size and Rss (KiB) of the mapping of /proc/self/smaps that starts at `begin`.
bool SizeAndRss(uintptr_t begin, long* size, long* rss) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool in = false;
  *size = *rss = -1;
  while (std::getline(smaps, line)) {
    const size_t dash = line.find('-');
    if (dash != std::string::npos && line.find(' ') > dash &&
        line.find_first_not_of("0123456789abcdef") == dash) {
      if (in) break;
      in = std::stoull(line.substr(0, dash), nullptr, 16) == begin;
      continue;
    }
    if (!in) continue;
    if (line.rfind("Size:", 0) == 0) *size = std::stol(line.substr(5));
    if (line.rfind("Rss:", 0) == 0) *rss = std::stol(line.substr(4));
  }
  return *size >= 0 && *rss >= 0;
}

TEST(CodeResidency, MapsEveryPageOfTheCode) {
  std::ifstream in("/proc/self/maps");
  std::stringstream text;
  text << in.rdbuf();
  const std::vector<CodeMapping> code = CodeMappingsOf(text.str());
  ASSERT_FALSE(code.empty());
  // The largest code mapping, unmapped first (its pages stay cached; only
  // this process's page tables lose them, and what runs maps some back).
  const CodeMapping* largest = &code[0];
  for (const CodeMapping& m : code) {
    if (m.end - m.begin > largest->end - largest->begin) largest = &m;
  }
  ASSERT_GE(largest->end - largest->begin, 64u << 10) << largest->path;
  ASSERT_EQ(::madvise(reinterpret_cast<void*>(largest->begin), largest->end - largest->begin,
                      MADV_DONTNEED),
            0);
  long size = 0, rss = 0;
  ASSERT_TRUE(SizeAndRss(largest->begin, &size, &rss));
  ASSERT_LT(rss, size) << largest->path;

  Result<size_t> populated = KeepCodeResident();
  ASSERT_TRUE(populated.ok()) << populated.status().ToString();
  EXPECT_GE(*populated, largest->end - largest->begin);
  ASSERT_TRUE(SizeAndRss(largest->begin, &size, &rss));
  EXPECT_EQ(rss, size) << largest->path;
}

}  // namespace
}  // namespace mapfs::fs
