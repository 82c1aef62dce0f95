// Reading through views must not allocate: this binary counts every global
// operator new and checks that field reads, element access and int/str
// lookups perform none.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "mapfs/record.h"
#include "record_test_data.h"

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// The whole replaceable family, so that every new pairs with a delete here
// (the library's stable_sort, for one, uses the nothrow form).
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void* operator new(std::size_t n) {
  if (void* p = operator new(n, std::nothrow)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return operator new(n, std::nothrow);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace mapfs {
namespace {

TEST(RecordAllocation, ViewReadsDoNotAllocate) {
  Schema schema = testing_data::PersonSchema();
  int person = *schema.FindStruct("Person");
  std::string bytes = *Pack(schema, person, testing_data::SamplePerson());
  const StructDef& def = schema.struct_def(person);
  int age = *def.FindField("age"), name = *def.FindField("name"), tags = *def.FindField("tags");
  int attrs = *def.FindField("attrs"), aliases = *def.FindField("aliases");
  int home = *def.FindField("home");

  long before = g_allocations.load();
  int64_t sum = 0;
  size_t chars = 0;
  for (int round = 0; round < 100; ++round) {
    auto rec = ViewRecord(schema, person, bytes);
    sum += rec->Field(age)->as_int();
    chars += rec->Field(name)->as_str().size();
    sum += rec->Field(tags)->Contains(int64_t{2}).value();
    auto found = rec->Field(attrs)->Find(std::string_view("b"));
    sum += (*found)->as_int();
    for (Result<View> alias : rec->Field(aliases)->Elements()) chars += alias->as_str().size();
    sum += static_cast<int64_t>(rec->Field(home)->Field(0)->as_float());
  }
  long after = g_allocations.load();
  EXPECT_EQ(after - before, 0);
  EXPECT_EQ(sum, 100 * (36 + 1 + 1 + 1));
  EXPECT_EQ(chars, 100u * (12 + 3 + 8));
}

}  // namespace
}  // namespace mapfs
