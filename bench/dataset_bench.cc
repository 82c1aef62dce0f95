// Lookup through a dataset of 16 shards against one segment holding the same
// records (docs/format.md, "Datasets"): random-hit lookups of a 16-byte str
// key that read one field of the record, through Dataset::Find (route the
// key, then the shard's index) and through Segment::Find. Ends with the ratio
// against the target (a dataset lookup costs at most 1.1 times a segment's),
// in CPU time per lookup.
//
//   dataset_bench [--records=1000000] [--shards=16] [--dir=/tmp] [benchmark flags]
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench_keys.h"
#include "mapfs/dataset.h"
#include "mapfs/segment.h"
#include "mapfs/segment_builder.h"

namespace mapfs {
namespace {

constexpr size_t kProbes = size_t{1} << 20;

std::string KeyOf(uint64_t i) { return bench::HexKey(i); }

Schema RecSchema() {
  StructDef def;
  def.name = "Rec";
  def.fields = {{"name", Type::Scalar(TypeKind::kStr)},
                {"id", Type::Scalar(TypeKind::kUInt64)},
                {"score", Type::Scalar(TypeKind::kFloat64)}};
  return std::move(Schema::Create({def})).value();
}

Value MakeRec(uint64_t i) {
  return Value::Struct("Rec", {{"name", Value::Str(KeyOf(i))},
                               {"id", Value::UInt(i)},
                               {"score", Value::Float(static_cast<double>(i % 1000) / 8)}});
}

void Check(const Status& st, const char* what) {
  if (st.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, st.ToString().c_str());
  std::exit(1);
}

std::unique_ptr<SegmentBuilder> Builder(const Schema& schema, const std::string& path) {
  SegmentOptions opt;
  opt.kind = CollectionKind::kMapping;
  opt.key_field = 0;
  auto b = SegmentBuilder::Create(path, schema, 0, opt);
  Check(b.status(), path.c_str());
  return std::move(b).value();
}

struct Fixture {
  std::unique_ptr<Segment> seg;
  std::unique_ptr<Dataset> ds;
  std::vector<std::string> probes;
};
Fixture* g_fx = nullptr;

void Build(const std::string& dir, uint64_t n, uint64_t shards) {
  const Schema schema = RecSchema();
  std::filesystem::create_directories(dir + "/ds");
  auto one = Builder(schema, dir + "/one.mapfs");
  const std::string id = NewBuildId();
  std::vector<std::string> files;
  std::vector<std::unique_ptr<SegmentBuilder>> parts;
  for (uint64_t s = 0; s < shards; ++s) {
    files.push_back(ShardFileName(id, s, shards));
    parts.push_back(Builder(schema, dir + "/ds/" + files.back()));
  }
  for (uint64_t i = 0; i < n; ++i) {
    const Value rec = MakeRec(i);
    Check(one->Add(rec), "one");
    Check(parts[RouteKey(KeyOf(i), shards)]->Add(rec), "shard");
  }
  Check(one->Finish(), "one");
  for (auto& p : parts) Check(p->Finish(), "shard");
  Check(PublishDataset(dir + "/ds", files), "publish");
}

// Reads the record's `id` so that the lookup touches the record, as a reader would.
uint64_t IdOf(Result<View> rec) { return rec.ok() ? rec->Field(1)->as_uint() : 0; }

void BM_SegmentLookup(benchmark::State& state) {
  const Segment& seg = *g_fx->seg;
  size_t i = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    const std::string& key = g_fx->probes[i++ & (kProbes - 1)];
    auto e = seg.Find(key);
    if (e.ok() && *e) sum += IdOf(seg.ViewOf((*e)->record));
  }
  benchmark::DoNotOptimize(sum);
}

void BM_DatasetLookup(benchmark::State& state) {
  const Dataset& ds = *g_fx->ds;
  size_t i = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    const std::string& key = g_fx->probes[i++ & (kProbes - 1)];
    auto e = ds.Find(key);
    if (e.ok() && *e) sum += IdOf(ds.ViewOf(**e));
  }
  benchmark::DoNotOptimize(sum);
}

BENCHMARK(BM_SegmentLookup);
BENCHMARK(BM_DatasetLookup);

// Collects the mean time per iteration of each benchmark for the summary.
class Summary : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      // With repetitions, the mean (stddev and cv are not times).
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "mean") continue;
      // CPU time: on a shared machine wall time counts other processes' turns.
      const double ns = r.GetAdjustedCPUTime();
      if (r.benchmark_name().find("Segment") != std::string::npos) segment_ns = ns;
      if (r.benchmark_name().find("Dataset") != std::string::npos) dataset_ns = ns;
    }
  }
  double segment_ns = 0, dataset_ns = 0;
};

}  // namespace
}  // namespace mapfs

int main(int argc, char** argv) {
  uint64_t n = 1000000, shards = 16;
  std::string dir = "/tmp";
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--records=", 10) == 0) n = std::strtoull(argv[i] + 10, nullptr, 10);
    else if (std::strncmp(argv[i], "--shards=", 9) == 0) shards = std::strtoull(argv[i] + 9, nullptr, 10);
    else if (std::strncmp(argv[i], "--dir=", 6) == 0) dir = argv[i] + 6;
    else rest.push_back(argv[i]);
  }
  char tmpl[4096];
  std::snprintf(tmpl, sizeof(tmpl), "%s/dataset_bench.XXXXXX", dir.c_str());
  if (::mkdtemp(tmpl) == nullptr) {
    std::perror(tmpl);
    return 1;
  }
  const std::string work = tmpl;
  std::printf("building %llu records: one segment and a dataset of %llu shards in %s\n",
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(shards),
              work.c_str());
  mapfs::Build(work, n, shards);
  mapfs::Fixture fx;
  auto seg = mapfs::Segment::Open(work + "/one.mapfs");
  mapfs::Check(seg.status(), "open");
  fx.seg = std::make_unique<mapfs::Segment>(std::move(seg).value());
  auto ds = mapfs::Dataset::Open(work + "/ds");
  mapfs::Check(ds.status(), "open dataset");
  fx.ds = std::make_unique<mapfs::Dataset>(std::move(ds).value());
  std::mt19937_64 rnd(7);
  for (size_t i = 0; i < mapfs::kProbes; ++i) fx.probes.push_back(mapfs::KeyOf(rnd() % n));
  mapfs::g_fx = &fx;

  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  mapfs::Summary summary;
  benchmark::RunSpecifiedBenchmarks(&summary);
  benchmark::Shutdown();
  if (summary.segment_ns > 0) {
    const double ratio = summary.dataset_ns / summary.segment_ns;
    std::printf("\ndataset of %llu shards / one segment, CPU per lookup: %.1f ns / %.1f ns = %.2fx "
                "(target <= 1.10x: %s)\n",
                static_cast<unsigned long long>(shards), summary.dataset_ns, summary.segment_ns,
                ratio, ratio <= 1.10 ? "met" : "NOT met");
  }
  std::filesystem::remove_all(work);
  return 0;
}
