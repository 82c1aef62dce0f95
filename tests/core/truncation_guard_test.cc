// The truncation guard: a guarded mapping whose file shrinks under it reads
// filler bytes (0xFF) past the new end instead of raising SIGBUS, and says it
// is damaged; unguarded mappings keep the default (fatal) SIGBUS.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <string>
#include <vector>

#include "file_util.h"
#include "test_util.h"
#include "truncation_guard.h"

namespace mapfs {
namespace {

using mapfs::testing::TempDir;

size_t PageSize() { return static_cast<size_t>(::sysconf(_SC_PAGESIZE)); }

// A read the compiler cannot drop.
char ReadByte(const char* p) { return *static_cast<const volatile char*>(p); }

TEST(TruncationGuard, AGuardedFileTruncatedUnderItsMappingReadsFillerAndIsDamaged) {
  ASSERT_TRUE(InstallTruncationGuard().ok());
  TempDir dir;
  const std::string path = dir.File("data");
  testing::WriteFileOrDie(path, std::string(3 * PageSize(), 'x'));
  Result<MappedFile> file = MappedFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const char* data = file->data().data();
  ASSERT_EQ(ReadByte(data + 2 * PageSize()), 'x');
  EXPECT_FALSE(file->damaged());

  // Another process rewrites the file in place: it is one page now.
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(PageSize())), 0);
  const uint64_t before = TruncatedPagesReplaced();
  EXPECT_EQ(ReadByte(data + 2 * PageSize() + 5), '\xFF');
  EXPECT_TRUE(file->damaged());
  EXPECT_EQ(ReadByte(data + 2 * PageSize() + 6), '\xFF');  // the same page: no new fault
  EXPECT_EQ(TruncatedPagesReplaced(), before + 1);
  EXPECT_EQ(ReadByte(data + 10), 'x');  // what is still in the file reads as before
  EXPECT_EQ(ReadByte(data + PageSize() + 1), '\xFF');
  EXPECT_EQ(TruncatedPagesReplaced(), before + 2);
}

TEST(TruncationGuard, InstallingTwiceIsHarmless) {
  EXPECT_TRUE(InstallTruncationGuard().ok());
  EXPECT_TRUE(InstallTruncationGuard().ok());
}

// Killed by SIGBUS, or, under AddressSanitizer (whose handler the guard
// passes unguarded faults to), its report and exit status 1.
bool DiedOfSigbus(int status) {
  return (WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS) ||
         (WIFEXITED(status) && WEXITSTATUS(status) == 1);
}

TEST(TruncationGuardDeathTest, AnUnguardedMappingStillDiesOfSigbus) {
  TempDir dir;
  const std::string path = dir.File("data");
  testing::WriteFileOrDie(path, std::string(2 * PageSize(), 'x'));
  EXPECT_EXIT(
      {
        if (!InstallTruncationGuard().ok()) std::_Exit(3);
        Result<UniqueFd> fd = UniqueFd::Open(path, O_RDONLY);
        if (!fd.ok()) std::_Exit(4);
        Result<MappedRegion> region =
            MappedRegion::Map(fd->get(), 2 * PageSize(), PROT_READ, MAP_SHARED);
        if (!region.ok() || ::truncate(path.c_str(), 0) != 0) std::_Exit(5);
        ReadByte(static_cast<const char*>(region->addr()) + PageSize());
        std::_Exit(0);
      },
      DiedOfSigbus, "");
}

TEST(TruncationGuard, RangesLeaveTheTableWhenUnmappedAndAFullTableIsReported) {
  TempDir dir;
  const std::string path = dir.File("data");
  testing::WriteFileOrDie(path, std::string(PageSize(), 'x'));
  const size_t before = internal::GuardedRanges();
  {
    Result<MappedFile> file = MappedFile::Open(path);
    ASSERT_TRUE(file.ok());
    EXPECT_EQ(internal::GuardedRanges(), before + 1);
    MappedFile moved = std::move(file).value();
    EXPECT_EQ(internal::GuardedRanges(), before + 1);
  }
  EXPECT_EQ(internal::GuardedRanges(), before);

  // Fill the table with made-up ranges: the next Guard says it is full.
  std::vector<int> fake;
  for (uintptr_t a = 0x1000;; a += 0x1000) {
    const int index = internal::GuardRange(reinterpret_cast<void*>(a), 0x1000);
    if (index < 0) break;
    fake.push_back(index);
  }
  EXPECT_GT(fake.size(), 1000u);
  Result<UniqueFd> fd = UniqueFd::Open(path, O_RDONLY);
  ASSERT_TRUE(fd.ok());
  Result<MappedRegion> region = MappedRegion::Map(fd->get(), PageSize(), PROT_READ, MAP_SHARED);
  ASSERT_TRUE(region.ok());
  EXPECT_FALSE(region->Guard());
  for (int index : fake) internal::UnguardRange(index);
  EXPECT_TRUE(region->Guard());
  EXPECT_TRUE(region->Guard()) << "idempotent";
}

}  // namespace
}  // namespace mapfs
