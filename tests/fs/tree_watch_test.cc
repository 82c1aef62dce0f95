// Operational limits of watching sources: a refused replacement left in
// place is verified once, not at every check; names created by link() and
// symlink() in a directory source are shown, a file still being written is
// not.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "reload.h"
#include "test_util.h"
#include "tree.h"
#include "tree_test_util.h"

namespace mapfs::fs {
namespace {

using mapfs::testing::TempDir;

void BuildItems(const std::string& path, const std::vector<std::string>& lines) {
  Build(path, kItemSchema, "Item", lines, CollectionKind::kMapping, "k");
}

void ReplaceWithBytes(const std::string& path, const std::string& bytes) {
  testing::WriteFileOrDie(path + ".new", bytes);
  ASSERT_EQ(std::rename((path + ".new").c_str(), path.c_str()), 0);
}

// Calls `check` until it is true or 5 s pass.
template <typename F>
bool Eventually(F check) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (check()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return check();
}

TEST(TreeWatch, AnUnchangedRefusedReplacementIsVerifiedOnceOverManyChecks) {
  TempDir dir;
  const std::string path = dir.File("items.mapfs");
  BuildItems(path, {ItemLine("a", 1), ItemLine("b", 2)});
  const std::string good = testing::ReadFileOrDie(path);
  auto tree = Tree::Open(path).value();
  ReloadWatcher watcher(tree.get(), nullptr);  // not started: CheckNow is one poll

  std::string flipped = good;
  flipped[flipped.size() - 10] ^= 0x40;  // in the block checksum section: refused at open
  ReplaceWithBytes(path, flipped);
  for (int poll = 0; poll < 5; ++poll) watcher.CheckNow();
  EXPECT_EQ(tree->verified_files(), 1u) << "an unchanged refused file is not read again";
  EXPECT_EQ(Cat(*tree, {"b", "n"}), "2\n");

  // Any change to the file gets it looked at again: a new mtime, a new ctime.
  timespec times[2] = {{0, UTIME_OMIT}, {12345, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  for (int poll = 0; poll < 3; ++poll) watcher.CheckNow();
  EXPECT_EQ(tree->verified_files(), 2u);
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  for (int poll = 0; poll < 3; ++poll) watcher.CheckNow();
  EXPECT_EQ(tree->verified_files(), 3u);

  // A good replacement is served, and refusing the same bytes again later
  // is logged again (a new inode).
  BuildItems(path + ".next", {ItemLine("b", 20)});
  ASSERT_EQ(std::rename((path + ".next").c_str(), path.c_str()), 0);
  watcher.CheckNow();
  EXPECT_EQ(tree->verified_files(), 4u);
  EXPECT_EQ(Cat(*tree, {"b", "n"}), "20\n");
  ReplaceWithBytes(path, flipped);
  watcher.CheckNow();
  watcher.CheckNow();
  EXPECT_EQ(tree->verified_files(), 5u);
  EXPECT_EQ(Cat(*tree, {"b", "n"}), "20\n");
}

TEST(TreeWatch, NamesCreatedByLinkAndSymlinkAreShownFilesBeingWrittenWait) {
  TempDir dir, elsewhere;
  BuildItems(dir.File("one.mapfs"), {ItemLine("a", 1)});
  BuildItems(elsewhere.File("two.mapfs"), {ItemLine("b", 2)});
  BuildItems(elsewhere.File("three.mapfs"), {ItemLine("c", 3)});
  BuildItems(elsewhere.File("four.mapfs"), {ItemLine("d", 4)});
  auto tree = Tree::Open(dir.path()).value();

  ASSERT_EQ(::link(elsewhere.File("two.mapfs").c_str(), dir.File("two.mapfs").c_str()), 0);
  EXPECT_EQ(tree->Refresh(dir.path(), "two.mapfs", RefreshCause::kCreated).size(), 1u);
  ASSERT_EQ(::symlink(elsewhere.File("three.mapfs").c_str(), dir.File("three.mapfs").c_str()), 0);
  EXPECT_EQ(tree->Refresh(dir.path(), "three.mapfs", RefreshCause::kCreated).size(), 1u);
  EXPECT_EQ(Names(*tree, kRootIno),
            (std::vector<std::string>{".", "..", "one", "two", "three"}));
  EXPECT_EQ(Cat(*tree, {"two", "b", "n"}), "2\n");
  EXPECT_EQ(Cat(*tree, {"three", "c", "n"}), "3\n");

  // Written in place: created, half written (not shown, not refused), then
  // closed after writing (shown).
  const std::string bytes = testing::ReadFileOrDie(elsewhere.File("four.mapfs"));
  const int fd = ::open(dir.File("four.mapfs").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size() / 2), static_cast<ssize_t>(bytes.size() / 2));
  EXPECT_TRUE(tree->Refresh(dir.path(), "four.mapfs", RefreshCause::kCreated).empty());
  const size_t rest = bytes.size() - bytes.size() / 2;
  ASSERT_EQ(::write(fd, bytes.data() + bytes.size() / 2, rest), static_cast<ssize_t>(rest));
  ASSERT_EQ(::close(fd), 0);
  EXPECT_EQ(tree->Refresh(dir.path(), "four.mapfs").size(), 1u);
  EXPECT_EQ(Cat(*tree, {"four", "d", "n"}), "4\n");
}

TEST(TreeWatch, TheWatcherShowsLinkedAndSymlinkedSegmentsWithinSeconds) {
  TempDir dir, elsewhere;
  BuildItems(dir.File("one.mapfs"), {ItemLine("a", 1)});
  BuildItems(elsewhere.File("two.mapfs"), {ItemLine("b", 2)});
  BuildItems(elsewhere.File("three.mapfs"), {ItemLine("c", 3)});
  auto tree = Tree::Open(dir.path()).value();
  ReloadWatcher watcher(tree.get(), nullptr);
  ASSERT_TRUE(watcher.Start().ok());
  ASSERT_EQ(::link(elsewhere.File("two.mapfs").c_str(), dir.File("two.mapfs").c_str()), 0);
  ASSERT_EQ(::symlink(elsewhere.File("three.mapfs").c_str(), dir.File("three.mapfs").c_str()), 0);
  EXPECT_TRUE(Eventually([&] { return Names(*tree, kRootIno).size() == 5; }));
  EXPECT_EQ(Cat(*tree, {"two", "b", "n"}), "2\n");
  EXPECT_EQ(Cat(*tree, {"three", "c", "n"}), "3\n");
  watcher.Stop();
}

}  // namespace
}  // namespace mapfs::fs
