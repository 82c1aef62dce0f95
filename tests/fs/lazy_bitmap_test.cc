// LazyBitmap: bits in range set and read back, out of range ignored, and
// memory committed only around the bits set.
#include "lazy_bitmap.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace mapfs::fs {
namespace {

// The process's resident anonymous memory, KiB.
long RssAnonKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("RssAnon:", 0) == 0) return std::stol(line.substr(8));
  }
  return -1;
}

TEST(LazyBitmap, SetsTestsAndListsBitsInRangeOnly) {
  LazyBitmap bits(130);
  EXPECT_EQ(bits.size(), 130u);
  EXPECT_EQ(bits.reserved_bytes(), 24u);  // three words
  for (uint64_t i : {0, 63, 64, 129}) {
    EXPECT_FALSE(bits.Test(i));
    bits.Set(i);
    EXPECT_TRUE(bits.Test(i));
  }
  bits.Set(129);  // again: no change
  bits.Set(130);  // out of range: ignored
  EXPECT_FALSE(bits.Holds(130));
  EXPECT_FALSE(bits.Test(130));
  EXPECT_EQ(bits.SetBits(), (std::vector<uint64_t>{0, 63, 64, 129}));
}

TEST(LazyBitmap, AnEmptyBitmapHoldsNothing) {
  LazyBitmap bits(0);
  EXPECT_FALSE(bits.Holds(0));
  bits.Set(0);
  EXPECT_FALSE(bits.Test(0));
  EXPECT_TRUE(bits.SetBits().empty());
  EXPECT_EQ(bits.reserved_bytes(), 0u);
}

TEST(LazyBitmap, CommitsMemoryOnlyAroundTheBitsSet) {
  // 2^33 bits: 1 GiB of address space, of which a few pages are touched.
  const long before = RssAnonKib();
  LazyBitmap bits(uint64_t{1} << 33);
  ASSERT_TRUE(bits.Holds(0)) << "could not reserve the address space";
  for (uint64_t i = 0; i < 8; ++i) bits.Set(i << 30);  // one bit every 128 MiB
  const long after = RssAnonKib();
  ASSERT_GE(before, 0);
  EXPECT_LT(after - before, 1024) << "KiB committed for 8 bits";
  EXPECT_TRUE(bits.Test(uint64_t{7} << 30));
  EXPECT_FALSE(bits.Test((uint64_t{7} << 30) + 1));
}

TEST(LazyBitmap, ConcurrentSetsAreAllKept) {
  LazyBitmap bits(64 * 1024);
  std::vector<std::thread> threads;
  for (uint64_t t = 0; t < 4; ++t) {
    // Interleaved: every word is shared by all four threads.
    threads.emplace_back([&bits, t] {
      for (uint64_t i = t; i < 64 * 1024; i += 4) bits.Set(i, std::memory_order_release);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(bits.SetBits().size(), 64u * 1024);
}

}  // namespace
}  // namespace mapfs::fs
