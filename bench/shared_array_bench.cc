// SharedArray benchmarks: attach latency against a bare open+mmap of the same
// object, and sequential read/write bandwidth through a shared array against
// memcpy between private buffers of the same size, in one run. Prints the
// ratios (medians of the repetitions) at the end; the target is >= 0.8x
// memcpy for both directions.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "file_util.h"
#include "mapfs/shared_array.h"

namespace mapfs {
namespace {

constexpr size_t kBytes = size_t{64} << 20;  // well past the last-level cache
constexpr uint64_t kElements = kBytes / sizeof(uint64_t);

// One shm array for the whole run, removed at exit.
class Fixture {
 public:
  static Fixture& Get() {
    static Fixture f;
    return f;
  }
  ~Fixture() { (void)SharedArray::Remove(uri_); }
  const std::string& uri() const { return uri_; }
  const std::string& path() const { return path_; }
  SharedArray& array() { return *array_; }
  std::byte* src() { return src_.data(); }
  std::byte* dst() { return dst_.data(); }

 private:
  Fixture()
      : uri_("shm://mapfs-bench-" + std::to_string(::getpid())),
        path_("/dev/shm/mapfs-bench-" + std::to_string(::getpid())),
        src_(kBytes, std::byte{1}),
        dst_(kBytes, std::byte{2}) {
    const uint64_t shape[] = {kElements};
    auto a = SharedArray::Create(uri_, shape, DType::kUInt64);
    if (!a.ok()) {
      std::cerr << a.status().ToString() << "\n";
      std::exit(1);
    }
    array_.emplace(std::move(a).value());
    // Fault every page in so no run pays for first touch.
    std::memset(array_->MutableBytes()->data(), 3, kBytes);
  }
  std::string uri_, path_;
  std::vector<std::byte> src_, dst_;
  std::optional<SharedArray> array_;
};

void BM_AttachDetach(benchmark::State& state) {
  const std::string& uri = Fixture::Get().uri();
  for (auto _ : state) {
    auto a = SharedArray::Attach(uri, /*read_only=*/true);
    if (!a.ok()) {
      state.SkipWithError(a.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(a->bytes().data());
  }
}
BENCHMARK(BM_AttachDetach);

// The floor for attach: open, mmap of the known size, a read of the header
// page (any attach must look at it), unmap, close.
void BM_OpenMmapBaseline(benchmark::State& state) {
  const std::string& path = Fixture::Get().path();
  for (auto _ : state) {
    auto fd = UniqueFd::Open(path, O_RDONLY);
    if (!fd.ok()) {
      state.SkipWithError("open failed");
      break;
    }
    auto r = MappedRegion::Map(fd->get(), kBytes + 4096, PROT_READ, MAP_SHARED);
    if (!r.ok()) {
      state.SkipWithError("mmap failed");
      break;
    }
    benchmark::DoNotOptimize(*static_cast<const volatile char*>(r->addr()));
  }
}
BENCHMARK(BM_OpenMmapBaseline);

void BM_MemcpyPrivate(benchmark::State& state) {
  Fixture& f = Fixture::Get();
  for (auto _ : state) {
    std::memcpy(f.dst(), f.src(), kBytes);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBytes));
}
BENCHMARK(BM_MemcpyPrivate);

void BM_SharedRead(benchmark::State& state) {
  Fixture& f = Fixture::Get();
  const std::byte* data = f.array().bytes().data();
  for (auto _ : state) {
    std::memcpy(f.dst(), data, kBytes);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBytes));
}
BENCHMARK(BM_SharedRead);

void BM_SharedWrite(benchmark::State& state) {
  Fixture& f = Fixture::Get();
  std::byte* data = f.array().MutableBytes()->data();
  for (auto _ : state) {
    std::memcpy(data, f.src(), kBytes);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBytes));
}
BENCHMARK(BM_SharedWrite);

// Reads without a destination: the sum of the elements, private vs shared.
uint64_t Sum(const uint64_t* p, size_t n) {
  uint64_t s = 0;
  for (size_t i = 0; i < n; ++i) s += p[i];
  return s;
}

void BM_SumPrivate(benchmark::State& state) {
  const auto* p = reinterpret_cast<const uint64_t*>(Fixture::Get().src());
  for (auto _ : state) benchmark::DoNotOptimize(Sum(p, kElements));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBytes));
}
BENCHMARK(BM_SumPrivate);

void BM_SumShared(benchmark::State& state) {
  auto span = Fixture::Get().array().Span<uint64_t>();
  for (auto _ : state) benchmark::DoNotOptimize(Sum(span->data(), span->size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBytes));
}
BENCHMARK(BM_SumShared);

// Console output plus a ratio summary from the medians (or single runs).
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type == Run::RT_Aggregate && !median) continue;
      const std::string name = run.run_name.function_name;
      if (!median && seen_median_.count(name)) continue;
      if (median) seen_median_[name] = true;
      auto it = run.counters.find("bytes_per_second");
      rate_[name] = it != run.counters.end() ? it->second.value : 0;
      ns_[name] = run.GetAdjustedRealTime();  // in the run's time unit (ns by default)
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    auto line = [&](const char* label, std::map<std::string, double>& m, const char* a,
                    const char* b) {
      if (m[a] > 0 && m[b] > 0) std::cout << "  " << label << m[a] / m[b] << "x\n";
    };
    std::cout << "\nshared array vs private memory (" << (kBytes >> 20) << " MiB), medians:\n";
    line("read  (memcpy shared->private) / memcpy: ", rate_, "BM_SharedRead", "BM_MemcpyPrivate");
    line("write (memcpy private->shared) / memcpy: ", rate_, "BM_SharedWrite",
         "BM_MemcpyPrivate");
    line("sum over shared / sum over private:      ", rate_, "BM_SumShared", "BM_SumPrivate");
    line("attach latency / (open+mmap+touch+munmap+close): ", ns_, "BM_AttachDetach",
         "BM_OpenMmapBaseline");
  }

 private:
  std::map<std::string, double> rate_, ns_;
  std::map<std::string, bool> seen_median_;
};

}  // namespace
}  // namespace mapfs

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  mapfs::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
