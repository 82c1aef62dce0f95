// The render cache's budget: what it charges per entry, and that the heap it
// really uses stays within the budget for many small documents.
#include "render_cache.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <memory>
#include <string>

namespace mapfs::fs {
namespace {

// A key as Tree::JsonOf makes one (a serialized node id and a generation),
// and a small @json document as rendering builds one: grown by appending.
std::string Key(int i) { return "node-id:" + std::to_string(i) + ":generation"; }
std::shared_ptr<std::string> Document(int i) {
  auto doc = std::make_shared<std::string>();
  for (char c : "{\"k\":\"a\",\"n\":" + std::to_string(i) + "}\n") doc->push_back(c);
  return doc;
}

// What an entry cannot cost less than: its bytes, the key's and the value's
// string objects, the list node's and the hash node's links and the shared
// string's counts.
size_t Floor(const std::string& key, const std::string& value) {
  return key.size() + value.size() + 2 * sizeof(std::string) + 4 * sizeof(void*) +
         sizeof(std::shared_ptr<const std::string>) + 2 * sizeof(int);
}

TEST(RenderCache, ChargesEachEntryItsOverheadNotOnlyItsBytes) {
  const std::string key = Key(1);
  const auto doc = Document(1);
  EXPECT_GE(RenderCache::Charge(key, *doc), Floor(key, *doc));
  // A string's spare capacity is memory too.
  std::string roomy = *doc;
  roomy.reserve(4096);
  EXPECT_GE(RenderCache::Charge(key, roomy), 4096u);

  constexpr size_t kBudget = 1 << 20;
  RenderCache cache(kBudget);
  for (int i = 0; i < 100'000; ++i) cache.Put(Key(i), Document(i));
  EXPECT_LE(cache.bytes(), kBudget);
  EXPECT_GT(cache.bytes(), kBudget - 1024) << "the cache is full";
  EXPECT_LE(cache.entries(), kBudget / Floor(Key(99'999), *Document(99'999)));
  EXPECT_EQ(cache.bytes(), cache.entries() * RenderCache::Charge(Key(99'999), *Document(99'999)));
  // The most recent entries are the ones kept.
  EXPECT_NE(cache.Get(Key(99'999)), nullptr);
  EXPECT_EQ(cache.Get(Key(0)), nullptr);
}

TEST(RenderCache, TheHeapItUsesStaysWithinTheBudget) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "the sanitizer's allocator does not report through mallinfo2";
#else
  constexpr size_t kBudget = 8 << 20;
  auto cache = std::make_unique<RenderCache>(kBudget);
  // Small blocks, and big ones (the bucket array) that malloc maps apart.
  auto heap = [] {
    const struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
  };
  const size_t before = heap();
  for (int i = 0; i < 400'000; ++i) cache->Put(Key(i), Document(i));
  const size_t used = heap() - before;
  EXPECT_LE(used, kBudget + kBudget / 20) << "heap " << used << " for a budget of " << kBudget;
  EXPECT_GT(used, kBudget / 2) << "the cache is full";
#endif
}

}  // namespace
}  // namespace mapfs::fs
