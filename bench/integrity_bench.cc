// What block checksums (docs/format.md, "Block checksums") cost readers: a
// 1M-record mapping (1.1, block checksums) and the same sections as a 1.0
// file (no block checksums: each section hashed whole at first touch), each
// read with the checks on and, through a benchmark seam, off.
//
//   lookup/warm     random-hit Find + record bytes on a Segment whose blocks
//                   are all proven: the bitmap test alone
//   lookup/cold     the first 10000 random lookups after open (page cache warm,
//                   every block unproven): each first touch hashes 64 KiB
//   readall/cold    open, then every record by id once (all blocks hashed once)
//
// Ends with the bitmap's size for this file and per GiB.
//
//   integrity_bench [--records=1000000] [--dir=/tmp] [google benchmark flags]
#include <benchmark/benchmark.h>
#include <xxhash.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "file_util.h"
#include "mapfs/segment.h"
#include "mapfs/segment_builder.h"
#include "mapfs/types.h"
#include "segment_internal.h"
#include "segment_reseal.h"

namespace mapfs {
namespace {

namespace sf = segment_format;

uint64_t g_records = 1000000;
std::string g_dir = "/tmp";
std::string g_v11, g_v10;  // paths
std::vector<std::string> g_keys;

std::string KeyOf(uint64_t i) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "k%015llx", static_cast<unsigned long long>(i * 0x9E3779B1ULL));
  return buf;
}

Schema RecSchema() {
  StructDef def;
  def.name = "Rec";
  def.fields = {{"name", Type::Scalar(TypeKind::kStr)},
                {"id", Type::Scalar(TypeKind::kUInt64)},
                {"city", Type::Scalar(TypeKind::kStr)}};
  return std::move(Schema::Create({def})).value();
}

bool Build(const std::string& path) {
  const Schema schema = RecSchema();
  SegmentOptions opt;
  opt.kind = CollectionKind::kMapping;
  opt.key_field = 0;
  auto b = SegmentBuilder::Create(path, schema, 0, opt);
  if (!b.ok()) return false;
  for (uint64_t i = 0; i < g_records; ++i) {
    Status st =
        (*b)->Add(Value::Struct("Rec", {{"name", Value::Str(KeyOf(i))},
                                        {"id", Value::UInt(i)},
                                        {"city", Value::Str("city " + std::to_string(i % 977))}}));
    if (!st.ok()) return false;
  }
  return (*b)->Finish().ok();
}

// The 1.0 file with the same sections: the block checksum section and its
// feature bit removed.
bool WriteV10(const std::string& from, const std::string& to) {
  auto f = MappedFile::Open(from);
  if (!f.ok()) return false;
  std::string b(f->data());
  if (!mapfs::testing::DowngradeSegmentTo10(&b)) return false;
  FILE* out = std::fopen(to.c_str(), "wb");
  if (out == nullptr) return false;
  const bool ok = std::fwrite(b.data(), 1, b.size(), out) == b.size();
  return std::fclose(out) == 0 && ok;
}

const std::string& PathOf(int64_t version) { return version == 11 ? g_v11 : g_v10; }

struct ChecksOn {
  explicit ChecksOn(bool on) { internal::SetRangeChecksForBenchmark(on); }
  ~ChecksOn() { internal::SetRangeChecksForBenchmark(true); }
};

// Args: {file version 10 or 11, checks on 1 / off 0}.
void BM_LookupWarm(benchmark::State& state) {
  ChecksOn checks(state.range(1) != 0);
  auto seg = Segment::Open(PathOf(state.range(0)));
  if (!seg.ok()) return state.SkipWithError(seg.status().ToString().c_str());
  for (uint64_t i = 0; i < seg->record_count(); ++i) (void)seg->RecordBytes(i);
  for (const std::string& k : g_keys) (void)seg->Find(k);  // every block proven
  size_t j = 0;
  uint64_t found = 0;
  for (auto _ : state) {
    auto hit = seg->Find(g_keys[j++ % g_keys.size()]);
    found += hit.ok() && hit->has_value() ? (*hit)->record.size() : 0;
  }
  benchmark::DoNotOptimize(found);
}

void BM_LookupCold(benchmark::State& state) {
  ChecksOn checks(state.range(1) != 0);
  constexpr size_t kLookups = 10000;
  size_t j = 0;
  for (auto _ : state) {
    auto seg = Segment::Open(PathOf(state.range(0)));
    if (!seg.ok()) return state.SkipWithError(seg.status().ToString().c_str());
    uint64_t found = 0;
    for (size_t n = 0; n < kLookups; ++n) {
      auto hit = seg->Find(g_keys[j++ % g_keys.size()]);
      found += hit.ok() && hit->has_value();
    }
    if (found != kLookups) return state.SkipWithError("missed keys");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kLookups));
}

void BM_ReadAllCold(benchmark::State& state) {
  ChecksOn checks(state.range(1) != 0);
  uint64_t bytes = 0;
  for (auto _ : state) {
    auto seg = Segment::Open(PathOf(state.range(0)));
    if (!seg.ok()) return state.SkipWithError(seg.status().ToString().c_str());
    uint64_t sum = 0;
    for (uint64_t i = 0; i < seg->record_count(); ++i) {
      auto r = seg->RecordBytes(i);
      if (!r.ok()) return state.SkipWithError(r.status().ToString().c_str());
      sum += static_cast<uint8_t>(r->back());
    }
    benchmark::DoNotOptimize(sum);
    bytes = seg->file_size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * g_records));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void Args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"version", "checks"});
  b->Args({11, 1})->Args({11, 0})->Args({10, 1})->Args({10, 0});
}
BENCHMARK(BM_LookupWarm)->Apply(Args);
BENCHMARK(BM_LookupCold)->Apply(Args)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReadAllCold)->Apply(Args)->Unit(benchmark::kMillisecond);

void PrintBitmap() {
  auto f = MappedFile::Open(g_v11);
  if (!f.ok()) return;
  auto l = internal::ParseLayout(reinterpret_cast<const uint8_t*>(f->data().data()),
                                 f->data().size(), g_v11);
  if (!l.ok()) return;
  std::printf(
      "\n%llu records, file %llu bytes, %llu blocks of 64 KiB; checksum section %llu "
      "bytes; bitmap %zu bytes (%.0f bytes per GiB of file)\n",
      static_cast<unsigned long long>(g_records), static_cast<unsigned long long>(l->size),
      static_cast<unsigned long long>(l->checked->unit_count),
      static_cast<unsigned long long>(l->block_sums.size), internal::CheckedBitmapBytes(*l),
      1073741824.0 / 65536 / 8);
}

}  // namespace
}  // namespace mapfs

int main(int argc, char** argv) {
  using namespace mapfs;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.starts_with("--records=")) {
      g_records = std::strtoull(a.c_str() + 10, nullptr, 10);
    } else if (a.starts_with("--dir=")) {
      g_dir = a.substr(6);
    } else {
      rest.push_back(argv[i]);
    }
  }
  g_v11 = g_dir + "/integrity_bench_v11.mapfs";
  g_v10 = g_dir + "/integrity_bench_v10.mapfs";
  if (!Build(g_v11) || !WriteV10(g_v11, g_v10)) {
    std::fprintf(stderr, "integrity_bench: cannot build %s\n", g_v11.c_str());
    return 1;
  }
  std::mt19937_64 rng(7);
  for (int i = 0; i < 1 << 16; ++i) g_keys.push_back(KeyOf(rng() % g_records));
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  PrintBitmap();
  std::remove(g_v11.c_str());
  std::remove(g_v10.c_str());
  return 0;
}
