// Segment benchmarks at 1M and 10M records, in one run: random-hit lookup
// latency against one dependent DRAM load and against LMDB over the same
// records and keys; build rate from C++ values and from JSONL; builder peak
// RSS; index bytes per key; file sizes. Ends with a table of ratios against
// the targets of docs/performance.md.
//
//   segment_bench [--sizes=1000000,10000000] [--dir=/tmp] [google benchmark flags]
#include <benchmark/benchmark.h>
#include <lmdb.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench_keys.h"
#include "mapfs/json_input.h"
#include "mapfs/record.h"
#include "mapfs/segment.h"
#include "mapfs/segment_builder.h"
#include "mapfs/types.h"

namespace mapfs {
namespace {

constexpr size_t kKeyLen = bench::kHexKeyLen;
constexpr size_t kProbes = size_t{1} << 20;

void KeyOf(uint64_t i, char* out) { bench::HexKey(i, out); }

Schema RecSchema() {
  StructDef def;
  def.name = "Rec";
  def.fields = {{"name", Type::Scalar(TypeKind::kStr)},
                {"id", Type::Scalar(TypeKind::kUInt64)},
                {"score", Type::Scalar(TypeKind::kFloat64)},
                {"city", Type::Scalar(TypeKind::kStr)}};
  return std::move(Schema::Create({def})).value();
}

const char* kCities[] = {"Lisbon", "Oslo", "Quito", "Nairobi", "Hanoi", "Perth", "Lima", "Turin"};

Value MakeRec(uint64_t i) {
  char key[kKeyLen];
  KeyOf(i, key);
  return Value::Struct("Rec", {{"name", Value::Str(std::string(key, kKeyLen))},
                               {"id", Value::UInt(i)},
                               {"score", Value::Float(static_cast<double>(i % 1000) / 8)},
                               {"city", Value::Str(kCities[i % 8])}});
}

std::string JsonRec(uint64_t i) {
  char key[kKeyLen + 1] = {};
  KeyOf(i, key);
  char line[160];
  int n = std::snprintf(line, sizeof(line),
                        "{\"name\":\"%s\",\"id\":%llu,\"score\":%g,\"city\":\"%s\"}", key,
                        static_cast<unsigned long long>(i), static_cast<double>(i % 1000) / 8,
                        kCities[i % 8]);
  return std::string(line, static_cast<size_t>(n));
}

struct BuildStats {
  double seconds = 0;      // wall clock
  double cpu_seconds = 0;  // user + system of the building process
  // Of cpu_seconds, the part spent making (and destroying) the input Values:
  // the caller's cost, not the builder's.
  double input_seconds = 0;
  double peak_rss_mib = 0;
  bool ok = false;
};

// Builds in a child process so that its peak RSS is the builder's alone.
// A page shared with the building child, where it reports its input_seconds.
double* g_child_input_seconds = nullptr;

// This thread's CPU time: robust against other processes on a shared machine.
double ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

template <typename Fn>
BuildStats InChild(Fn fn) {
  BuildStats s;
  *g_child_input_seconds = 0;
  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(fn() ? 0 : 1);
  int status = 0;
  struct rusage ru {};
  ::wait4(pid, &status, 0, &ru);
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  s.peak_rss_mib = static_cast<double>(ru.ru_maxrss) / 1024;
  s.cpu_seconds = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                  static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  s.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  s.input_seconds = *g_child_input_seconds;
  return s;
}

// --dedup-memory=MiB: the builder's table of written values (docs/format.md,
// "Value references"); 64 MiB by default, 0 for none.
size_t g_dedup_memory = SegmentOptions().dedup_memory;

bool BuildSegment(const Schema& schema, const std::string& path, uint64_t n, bool jsonl) {
  SegmentOptions opt;
  opt.dedup_memory = g_dedup_memory;
  opt.kind = CollectionKind::kMapping;
  opt.key_field = 0;
  auto b = SegmentBuilder::Create(path, schema, 0, opt);
  if (!b.ok()) return false;
  JsonRecordParser parser(schema, 0);
  // From C++ values, the Values are made in batches whose CPU time is
  // reported apart: making them is the caller's cost.
  constexpr uint64_t kBatch = 64;  // small enough to stay in cache
  std::vector<Value> batch;
  double input_ns = 0;
  for (uint64_t i = 0; i < n; ++i) {
    Status st;
    if (jsonl) {
      auto v = parser.ParseLine(JsonRec(i));
      st = v.ok() ? (*b)->Add(*v) : v.status();
    } else {
      if (i % kBatch == 0) {
        const double t0 = ThreadCpuNs();
        batch.clear();
        for (uint64_t j = i; j < std::min(n, i + kBatch); ++j) batch.push_back(MakeRec(j));
        input_ns += ThreadCpuNs() - t0;
      }
      st = (*b)->Add(batch[i % kBatch]);
    }
    if (!st.ok()) {
      std::fprintf(stderr, "build: %s\n", st.ToString().c_str());
      return false;
    }
  }
  const double t0 = ThreadCpuNs();
  batch = {};
  input_ns += ThreadCpuNs() - t0;
  *g_child_input_seconds = input_ns / 1e9;
  Status st = (*b)->Finish();
  if (!st.ok()) std::fprintf(stderr, "build: %s\n", st.ToString().c_str());
  return st.ok();
}

// The builder's own cost: ready key and record bytes through AddPacked (1024
// packed records reused under distinct keys, so nothing is deduplicated).
bool BuildPacked(const Schema& schema, const std::string& path, uint64_t n) {
  SegmentOptions opt;
  opt.kind = CollectionKind::kMapping;
  opt.key_field = 0;
  auto b = SegmentBuilder::Create(path, schema, 0, opt);
  if (!b.ok()) return false;
  std::vector<std::string> records;
  for (uint64_t i = 0; i < 1024; ++i) records.push_back(*Pack(schema, 0, MakeRec(i)));
  char key[kKeyLen];
  for (uint64_t i = 0; i < n; ++i) {
    KeyOf(i, key);
    if (!(*b)->AddPacked(std::string_view(key, kKeyLen), records[i & 1023]).ok()) return false;
  }
  return (*b)->Finish().ok();
}

bool BuildLmdb(const Segment& seg, const std::string& dir) {
  ::mkdir(dir.c_str(), 0755);
  MDB_env* env = nullptr;
  if (mdb_env_create(&env) != 0) return false;
  mdb_env_set_mapsize(env, size_t{64} << 30);
  if (mdb_env_open(env, dir.c_str(), MDB_NOSYNC | MDB_NOMETASYNC | MDB_WRITEMAP, 0644) != 0) {
    return false;
  }
  MDB_txn* txn;
  MDB_dbi dbi;
  mdb_txn_begin(env, nullptr, 0, &txn);
  mdb_dbi_open(txn, nullptr, 0, &dbi);
  // The same records in the same (input) order, keyed like the segment.
  for (uint64_t i = 0; i < seg.record_count(); ++i) {
    std::string_view rec = *seg.RecordBytes(i);
    char key[kKeyLen];
    KeyOf(i, key);
    MDB_val k{kKeyLen, key}, v{rec.size(), const_cast<char*>(rec.data())};
    if (mdb_put(txn, dbi, &k, &v, 0) != 0) return false;
  }
  bool ok = mdb_txn_commit(txn) == 0;
  mdb_env_close(env);
  return ok;
}

// Allocated bytes: LMDB's file is sparse up to its map size.
uint64_t FileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_blocks) * 512 : 0;
}

struct SizeRun {
  uint64_t n = 0;
  std::string seg_path, lmdb_dir;
  BuildStats build_values, build_packed, build_jsonl, build_lmdb;
  std::unique_ptr<Segment> seg;
  MDB_env* env = nullptr;
  MDB_dbi dbi = 0;
  std::vector<char> probes;  // kProbes random hit keys, kKeyLen bytes each
};

std::vector<std::unique_ptr<SizeRun>> g_runs;
std::map<std::string, std::vector<double>> g_ns;  // per benchmark: ns/op of each repetition
std::vector<uint64_t> g_chase;                      // 1 GiB: one next-index per 64-byte line

void BM_DramLoad(benchmark::State& state) {
  const uint64_t* chase = g_chase.data();
  uint64_t p = 0;
  const double t0 = ThreadCpuNs();
  for (auto _ : state) {
    p = chase[p];
    benchmark::DoNotOptimize(p);
  }
  const double ns = (ThreadCpuNs() - t0) / static_cast<double>(state.iterations());
  g_ns["dram/" + std::to_string(g_runs[state.range(0)]->n)].push_back(ns);
}

void BM_SegmentLookup(benchmark::State& state) {
  SizeRun& r = *g_runs[state.range(0)];
  const Segment& seg = *r.seg;
  const char* probes = r.probes.data();
  uint64_t j = 0, found = 0;
  const double t0 = ThreadCpuNs();
  for (auto _ : state) {
    auto hit = seg.Find(std::string_view(probes + kKeyLen * (j & (kProbes - 1)), kKeyLen));
    // The next probe depends on this result: latency, not throughput.
    const uint64_t size = hit.ok() && hit->has_value() ? (*hit)->record.size() : 0;
    found += size != 0;
    j += 1 + (size >> 40);
  }
  const double ns = (ThreadCpuNs() - t0) / static_cast<double>(state.iterations());
  g_ns["segment/" + std::to_string(r.n)].push_back(ns);
  if (found != static_cast<uint64_t>(state.iterations())) state.SkipWithError("missed keys");
}

void BM_LmdbLookup(benchmark::State& state) {
  SizeRun& r = *g_runs[state.range(0)];
  MDB_txn* txn;
  mdb_txn_begin(r.env, nullptr, MDB_RDONLY, &txn);
  const char* probes = r.probes.data();
  uint64_t j = 0, found = 0;
  const double t0 = ThreadCpuNs();
  for (auto _ : state) {
    MDB_val k{kKeyLen, const_cast<char*>(probes + kKeyLen * (j & (kProbes - 1)))}, v;
    const uint64_t size = mdb_get(txn, r.dbi, &k, &v) == 0 ? v.mv_size : 0;
    found += size != 0;
    j += 1 + (size >> 40);
  }
  const double ns = (ThreadCpuNs() - t0) / static_cast<double>(state.iterations());
  mdb_txn_abort(txn);
  g_ns["lmdb/" + std::to_string(r.n)].push_back(ns);
  if (found != static_cast<uint64_t>(state.iterations())) state.SkipWithError("missed keys");
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void PrintSummary() {
  std::printf("\n== segment summary (medians of repetitions; CPU time of the measuring thread or "
              "building process; targets from docs/performance.md) ==\n");
  for (const auto& rp : g_runs) {
    const SizeRun& r = *rp;
    const double dram = Median(g_ns["dram/" + std::to_string(r.n)]);
    const double seg = Median(g_ns["segment/" + std::to_string(r.n)]);
    const double lmdb = Median(g_ns["lmdb/" + std::to_string(r.n)]);
    const SegmentInfo l = r.seg->Info();
    const double index_bpk =
        static_cast<double>(l.section("directory")->size + l.section("entries")->size) /
        static_cast<double>(r.n);
    // The builder's rate from C++ values: its CPU time, less the caller's
    // making of the Values (reported too, as the end-to-end rate).
    const double rate = static_cast<double>(r.n) /
                        (r.build_values.cpu_seconds - r.build_values.input_seconds);
    const double rate_with_input = static_cast<double>(r.n) / r.build_values.cpu_seconds;
    std::printf("-- %llu records (one dependent DRAM load: %.1f ns)\n",
                static_cast<unsigned long long>(r.n), dram);
    std::printf("  lookup: %.1f ns = %.2fx DRAM load (target <= 3x); LMDB %.1f ns, segment is "
                "%.2fx faster (target > 1x)\n",
                seg, seg / dram, lmdb, lmdb / seg);
    std::printf("  index: %.2f bytes/key (target <= 17: ratio %.2f)\n", index_bpk,
                index_bpk / 17);
    std::printf("  build from C++ values: %.0f records/s (target >= 1M/s: ratio %.2f), "
                "peak RSS %.0f MiB (target <= 512 MiB at 10M: ratio %.2f); %.0f records/s "
                "counting the making of the Values\n",
                rate, rate / 1e6, r.build_values.peak_rss_mib, r.build_values.peak_rss_mib / 512,
                rate_with_input);
    std::printf("  builder alone (AddPacked of ready bytes): %.0f records/s, peak RSS %.0f MiB\n",
                static_cast<double>(r.n) / r.build_packed.cpu_seconds,
                r.build_packed.peak_rss_mib);
    if (r.build_jsonl.ok) {
      const double jr = static_cast<double>(r.n) / r.build_jsonl.cpu_seconds;
      std::printf("  build from JSONL: %.0f records/s (target >= 300k/s: ratio %.2f), peak RSS "
                  "%.0f MiB\n", jr, jr / 3e5, r.build_jsonl.peak_rss_mib);
    }
    std::printf("  LMDB build: %.0f records/s (the segment builds %.2fx as fast)\n",
                static_cast<double>(r.n) / r.build_lmdb.cpu_seconds,
                r.build_lmdb.cpu_seconds / r.build_values.cpu_seconds);
    std::printf("  file: segment %.1f MiB (%.1f bytes/record), LMDB %.1f MiB\n",
                static_cast<double>(r.seg->file_size()) / 1048576,
                static_cast<double>(r.seg->file_size()) / static_cast<double>(r.n),
                static_cast<double>(FileSize(r.lmdb_dir + "/data.mdb")) / 1048576);
  }
}

}  // namespace
}  // namespace mapfs

int main(int argc, char** argv) {
  using namespace mapfs;
  std::vector<uint64_t> sizes = {1000000, 10000000};
  std::string dir = "/tmp";
  bool build_only = false;  // for profiling the builder
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--sizes=", 0) == 0) {
      sizes.clear();
      for (size_t p = 8; p < a.size();) {
        size_t c = a.find(',', p);
        sizes.push_back(std::stoull(a.substr(p, c - p)));
        p = c == std::string::npos ? a.size() : c + 1;
      }
    } else if (a.rfind("--dedup-memory=", 0) == 0) {
      g_dedup_memory = std::stoull(a.substr(15)) << 20;
    } else if (a == "--build-only") {
      build_only = true;
    } else if (a.rfind("--dir=", 0) == 0) {
      dir = a.substr(6);
    } else {
      rest.push_back(argv[i]);
    }
  }
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());

  g_child_input_seconds = static_cast<double*>(
      ::mmap(nullptr, sizeof(double), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  if (g_child_input_seconds == MAP_FAILED) return 1;
  const Schema schema = RecSchema();
  const std::string base = dir + "/mapfs_segment_bench." + std::to_string(::getpid());
  // Builds first, while this process is small: each runs in a forked child.
  for (uint64_t n : sizes) {
    auto r = std::make_unique<SizeRun>();
    r->n = n;
    r->seg_path = base + "." + std::to_string(n) + ".mapfs";
    r->lmdb_dir = base + "." + std::to_string(n) + ".lmdb";
    r->build_values = InChild([&] { return BuildSegment(schema, r->seg_path, n, false); });
    {
      const std::string ppath = r->seg_path + ".packed";
      r->build_packed = InChild([&] { return BuildPacked(schema, ppath, n); });
      ::unlink(ppath.c_str());
    }
    if (build_only) {
      // The part of the cost spent making and packing Values, without the builder.
      BuildStats make = InChild([&] {
        uint64_t fields = 0;
        for (uint64_t i = 0; i < n; ++i) fields += MakeRec(i).field_names().size();
        return fields > 0;
      });
      BuildStats pack = InChild([&] {
        RecordPacker packer(schema);
        uint64_t bytes = 0;
        for (uint64_t i = 0; i < n; ++i) bytes += packer.Pack(0, MakeRec(i))->size();
        return bytes > 0;
      });
      const BuildStats& v = r->build_values;
      std::printf("%llu records from C++ values: %.0f records/s (CPU, making the Values "
                  "excluded), %.0f records/s counting it; peak RSS %.0f MiB. Making the Values "
                  "alone: %.0f records/s; making and packing them: %.0f records/s; the builder "
                  "from packed bytes (AddPacked): %.0f records/s\n",
                  static_cast<unsigned long long>(n),
                  static_cast<double>(n) / (v.cpu_seconds - v.input_seconds),
                  static_cast<double>(n) / v.cpu_seconds, v.peak_rss_mib,
                  static_cast<double>(n) / make.cpu_seconds,
                  static_cast<double>(n) / pack.cpu_seconds,
                  static_cast<double>(n) / r->build_packed.cpu_seconds);
      ::unlink(r->seg_path.c_str());
      continue;
    }
    if (n <= 1000000) {
      const std::string jpath = r->seg_path + ".jsonl";
      r->build_jsonl = InChild([&] { return BuildSegment(schema, jpath, n, true); });
      ::unlink(jpath.c_str());
    }
    if (!r->build_values.ok) {
      std::fprintf(stderr, "segment build failed at %llu\n", static_cast<unsigned long long>(n));
      return 1;
    }
    g_runs.push_back(std::move(r));
  }
  if (build_only) return 0;
  for (auto& r : g_runs) {
    auto seg = Segment::Open(r->seg_path);
    if (!seg.ok()) {
      std::fprintf(stderr, "%s\n", seg.status().ToString().c_str());
      return 1;
    }
    r->seg = std::make_unique<Segment>(std::move(seg).value());
    const Segment* s = r->seg.get();
    r->build_lmdb = InChild([&] { return BuildLmdb(*s, r->lmdb_dir); });
    mdb_env_create(&r->env);
    mdb_env_set_mapsize(r->env, size_t{64} << 30);
    mdb_env_open(r->env, r->lmdb_dir.c_str(), MDB_RDONLY | MDB_NOTLS, 0644);
    MDB_txn* txn;
    mdb_txn_begin(r->env, nullptr, MDB_RDONLY, &txn);
    mdb_dbi_open(txn, nullptr, 0, &r->dbi);
    mdb_txn_commit(txn);
    std::mt19937_64 rng(42);
    r->probes.resize(kProbes * kKeyLen);
    for (size_t i = 0; i < kProbes; ++i) KeyOf(rng() % r->n, &r->probes[i * kKeyLen]);
  }
  // One dependent DRAM load: a random cycle through 1 GiB, one hop per cache line.
  {
    const size_t lines = (size_t{1} << 30) / 64;
    std::vector<uint32_t> order(lines);
    for (size_t i = 0; i < lines; ++i) order[i] = static_cast<uint32_t>(i);
    std::mt19937_64 rng(7);
    for (size_t i = lines - 1; i > 0; --i) std::swap(order[i], order[rng() % i]);  // Sattolo
    g_chase.assign((size_t{1} << 30) / 8, 0);
    for (size_t i = 0; i < lines; ++i) {
      g_chase[size_t{order[i]} * 8] = size_t{order[(i + 1) % lines]} * 8;
    }
  }

  // The DRAM baseline is measured right before each size's lookups, so that
  // load from other processes on a shared machine affects both alike.
  for (size_t i = 0; i < g_runs.size(); ++i) {
    const std::string n = std::to_string(g_runs[i]->n);
    benchmark::RegisterBenchmark(("dram_dependent_load/" + n).c_str(), BM_DramLoad)
        ->Arg(static_cast<int64_t>(i))->Repetitions(5);
    benchmark::RegisterBenchmark(("segment_lookup/" + n).c_str(), BM_SegmentLookup)
        ->Arg(static_cast<int64_t>(i))->Repetitions(5);
    benchmark::RegisterBenchmark(("lmdb_lookup/" + n).c_str(), BM_LmdbLookup)
        ->Arg(static_cast<int64_t>(i))->Repetitions(5);
  }
  benchmark::RunSpecifiedBenchmarks();
  PrintSummary();
  for (auto& r : g_runs) {
    mdb_env_close(r->env);
    ::unlink(r->seg_path.c_str());
    ::unlink((r->lmdb_dir + "/data.mdb").c_str());
    ::unlink((r->lmdb_dir + "/lock.mdb").c_str());
    ::rmdir(r->lmdb_dir.c_str());
  }
  benchmark::Shutdown();
  return 0;
}
