// VersionSlots: slot handout, retirement, release of replaced versions at
// their last close, and slot numbers kept while the kernel names them.
#include "version_slots.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <set>

namespace mapfs::fs {
namespace {

std::shared_ptr<const SourceVersion> Version(const std::string& name) {
  auto v = std::make_shared<SourceVersion>();
  v->name = name;
  return v;
}

void Retire(VersionSlots& slots, uint32_t slot) {
  std::unique_lock lock(slots.mutex());
  slots.RetireLocked(slot);
}

TEST(VersionSlotsTest, InstallGivesDistinctNonRootSlotsUntilFull) {
  VersionSlots slots(4);  // slot 0 is the root: three versions fit
  std::set<uint32_t> given;
  for (int i = 0; i < 3; ++i) {
    const uint32_t s = slots.Install(Version("v" + std::to_string(i)));
    ASSERT_NE(s, 0u);
    EXPECT_TRUE(given.insert(s).second);
    EXPECT_EQ(slots.At(s)->name, "v" + std::to_string(i));
  }
  EXPECT_EQ(slots.Install(Version("full")), 0u);
  EXPECT_EQ(slots.open_versions(), 3u);
  EXPECT_EQ(slots.At(0), nullptr);
  EXPECT_EQ(slots.At(99), nullptr);
}

TEST(VersionSlotsTest, RetiredVersionWithoutLookupsIsFreedAtOnce) {
  VersionSlots slots(4);
  std::weak_ptr<const SourceVersion> watch;
  uint32_t s;
  {
    auto v = Version("old");
    watch = v;
    s = slots.Install(std::move(v));
  }
  Retire(slots, s);
  EXPECT_EQ(slots.At(s), nullptr);
  EXPECT_TRUE(watch.expired());
  EXPECT_EQ(slots.open_versions(), 0u);
}

TEST(VersionSlotsTest, KernelLookupsDoNotHoldARetiredVersionOnlyItsSlotNumber) {
  VersionSlots slots(2);  // one slot for versions
  std::weak_ptr<const SourceVersion> watch;
  uint32_t s;
  {
    auto v = Version("old");
    watch = v;
    s = slots.Install(std::move(v));
  }
  slots.Count(s, 2);
  Retire(slots, s);
  EXPECT_EQ(slots.At(s), nullptr);
  EXPECT_TRUE(watch.expired()) << "released although the kernel still names it";
  EXPECT_EQ(slots.open_versions(), 0u);
  EXPECT_EQ(slots.reserved_slots(), 1u);
  // Its inode numbers may still be named: the number is not reused yet.
  EXPECT_EQ(slots.Install(Version("new")), 0u);
  slots.Count(s, -1);
  EXPECT_EQ(slots.Install(Version("new")), 0u);
  slots.Count(s, -1);
  EXPECT_EQ(slots.reserved_slots(), 0u);
  EXPECT_EQ(slots.Install(Version("new")), s);
}

TEST(VersionSlotsTest, AnOpenHandleHoldsARetiredVersionUntilItsLastClose) {
  VersionSlots slots(4);
  std::weak_ptr<const SourceVersion> watch;
  uint32_t s;
  {
    auto v = Version("old");
    watch = v;
    s = slots.Install(std::move(v));
  }
  slots.Count(s, 1);
  const SourceVersion* held = slots.At(s).get();
  ASSERT_TRUE(slots.Open(s, held));
  ASSERT_TRUE(slots.Open(s, held));
  EXPECT_FALSE(slots.Open(s, nullptr)) << "not the version the slot holds";
  Retire(slots, s);
  ASSERT_NE(slots.At(s), nullptr);  // still read through the open handles
  EXPECT_EQ(slots.At(s)->name, "old");
  slots.Close(s);
  ASSERT_NE(slots.At(s), nullptr);
  slots.Close(s);
  EXPECT_EQ(slots.At(s), nullptr);
  EXPECT_TRUE(watch.expired());
  EXPECT_FALSE(slots.Open(s, held)) << "a released version cannot be opened again";
  EXPECT_EQ(slots.reserved_slots(), 1u);
  slots.Count(s, -1);
  EXPECT_EQ(slots.reserved_slots(), 0u);
}

TEST(VersionSlotsTest, HandlesOfACurrentVersionNeverReleaseIt) {
  VersionSlots slots(4);
  const uint32_t s = slots.Install(Version("current"));
  ASSERT_TRUE(slots.Open(s, slots.At(s).get()));
  slots.Close(s);
  EXPECT_NE(slots.At(s), nullptr);
  EXPECT_TRUE(slots.Open(0, nullptr));  // the mount root holds nothing
  slots.Close(0);
}

TEST(VersionSlotsTest, LookupsOfACurrentVersionNeverFreeIt) {
  VersionSlots slots(4);
  const uint32_t s = slots.Install(Version("current"));
  slots.Count(s, 1);
  slots.Count(s, -1);
  EXPECT_NE(slots.At(s), nullptr);
}

TEST(VersionSlotsTest, FreedSlotsComeBackRoundRobin) {
  VersionSlots slots(4);
  const uint32_t a = slots.Install(Version("a"));
  Retire(slots, a);
  // The freed slot is the last one handed out again.
  const uint32_t b = slots.Install(Version("b"));
  const uint32_t c = slots.Install(Version("c"));
  EXPECT_NE(b, a);
  EXPECT_NE(c, a);
  EXPECT_EQ(slots.Install(Version("d")), a);
  EXPECT_EQ(slots.At(a)->name, "d");
  // A reused slot starts clean.
  EXPECT_TRUE(slots[a].entries.empty());
  EXPECT_FALSE(slots[a].retired);
  EXPECT_EQ(slots[a].lookups.load(), 0);
  EXPECT_EQ(slots[a].handles.load(), 0);
}

TEST(VersionSlotsTest, AHeldRetirementWaitsForStartGracesThenItsOwnGrace) {
  VersionSlots slots(4);
  const uint32_t s = slots.Install(Version("old"));
  {
    std::unique_lock lock(slots.mutex());
    slots.RetireHeldLocked(s, std::chrono::milliseconds(0));
  }
  // Neither a sweep nor the last forget releases it before StartGraces.
  EXPECT_EQ(slots.Sweep(), 1u);
  slots.Count(s, 1);
  slots.Count(s, -1);
  EXPECT_NE(slots.At(s), nullptr);
  slots.StartGraces();
  EXPECT_EQ(slots.At(s), nullptr);
  EXPECT_EQ(slots.reserved_slots(), 0u);

  const uint32_t t = slots.Install(Version("graced"));
  {
    std::unique_lock lock(slots.mutex());
    slots.RetireHeldLocked(t, std::chrono::hours(1));
  }
  slots.StartGraces();
  EXPECT_EQ(slots.Sweep(), 1u) << "held for its own grace from StartGraces";
  EXPECT_NE(slots.At(t), nullptr);
}

}  // namespace
}  // namespace mapfs::fs
