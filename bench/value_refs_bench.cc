// Value references (docs/format.md, "Value references"): file size, build
// rate and field-read cost with and without them, on records whose category,
// paths, location, 64-float embedding and 300-byte blob take a few hundred
// values each (`--distinct=N`, default 300), and on fully distinct records.
//
//   build/bench/value_refs_bench [--records=N] [--distinct=N] [--dir=/tmp]
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "mapfs/json_input.h"
#include "mapfs/record.h"
#include "mapfs/segment.h"
#include "mapfs/segment_builder.h"

namespace {

using namespace mapfs;

Schema MakeSchema() {
  StructDef loc;
  loc.name = "Loc";
  loc.fields = {{"city", Type::Scalar(TypeKind::kStr)},
                {"lat", Type::Scalar(TypeKind::kFloat64)},
                {"lon", Type::Scalar(TypeKind::kFloat64)},
                {"zip", Type::Scalar(TypeKind::kStr)}};
  StructDef rec;
  rec.name = "Rec";
  rec.fields = {{"id", Type::Scalar(TypeKind::kUInt64)},
                {"category", Type::Scalar(TypeKind::kStr)},
                {"paths", Type::List(Type::Scalar(TypeKind::kStr))},
                {"loc", Type::Struct(0)},
                {"emb", Type::NdArray(DType::kFloat32)},
                {"blob", Type::Scalar(TypeKind::kBytes)}};
  return std::move(Schema::Create({loc, rec})).value();
}

// Record i; each field takes `distinct` values (0: all distinct).
Value MakeRec(uint64_t i, uint64_t distinct) {
  std::mt19937_64 rng(i * 0x9e3779b97f4a7c15ULL + 1);
  auto pick = [&]() { return distinct == 0 ? i : rng() % distinct; };
  const uint64_t c = pick(), p = pick(), l = pick(), e = pick(), b = pick();
  NdArray emb;
  emb.dtype = DType::kFloat32;
  emb.shape = {64};
  for (int j = 0; j < 64; ++j) {
    float f = static_cast<float>(e) + static_cast<float>(j) / 64;
    emb.data.append(reinterpret_cast<const char*>(&f), 4);
  }
  std::vector<Value> paths;
  for (int j = 0; j < 3; ++j) {
    paths.push_back(Value::Str("/srv/data/shard-" + std::to_string(p) + "/part-" +
                               std::to_string(j) + ".bin"));
  }
  std::string blob(300, '\0');
  for (size_t j = 0; j < blob.size(); ++j) blob[j] = static_cast<char>((b * 131 + j) & 0xff);
  std::memcpy(blob.data(), &b, sizeof(b));  // distinct for distinct b
  return Value::Struct(
      "Rec", {{"id", Value::UInt(i)},
              {"category", Value::Str("category/" + std::to_string(c))},
              {"paths", Value::List(std::move(paths))},
              {"loc", Value::Struct("Loc", {{"city", Value::Str("city-" + std::to_string(l))},
                                            {"lat", Value::Float(l * 0.5)},
                                            {"lon", Value::Float(l * -0.25)},
                                            {"zip", Value::Str("zip " + std::to_string(l))}})},
              {"emb", Value::FromNdArray(std::move(emb))},
              {"blob", Value::Bytes(std::move(blob))}});
}

// CPU time of this process (builds: of the child): robust on a shared machine.
double CpuSeconds() {
  timespec ts;
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct BuildResult {
  double seconds = 0;
  double peak_mib = 0;
  double table_mib = 0;  // the table of written values at its largest
};
double g_table_mib = 0;  // set by the build in the child

// Builds in a child so that the peak RSS is the build's own.
template <typename Fn>
BuildResult InChild(Fn fn) {
  int fds[2];
  if (::pipe(fds) != 0) return {};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    const double t0 = CpuSeconds();
    bool ok = fn();
    double s = CpuSeconds() - t0;
    struct rusage ru;
    ::getrusage(RUSAGE_SELF, &ru);
    BuildResult r{ok ? s : -1, static_cast<double>(ru.ru_maxrss) / 1024, g_table_mib};
    (void)!::write(fds[1], &r, sizeof(r));
    ::_exit(0);
  }
  ::close(fds[1]);
  BuildResult r;
  (void)!::read(fds[0], &r, sizeof(r));
  ::close(fds[0]);
  ::waitpid(pid, nullptr, 0);
  return r;
}

// Values are made in the loop (as in segment_bench), so the child's peak RSS
// is the builder's.
bool BuildValues(const Schema& schema, uint64_t n, uint64_t distinct, const std::string& path,
                 size_t dedup) {
  SegmentOptions o;
  o.dedup_memory = dedup;
  auto b = SegmentBuilder::Create(path, schema, 1, o);
  if (!b.ok()) return false;
  for (uint64_t i = 0; i < n; ++i) {
    if (!(*b)->Add(MakeRec(i, distinct)).ok()) return false;
  }
  g_table_mib = static_cast<double>((*b)->dedup_peak_memory()) / (1 << 20);
  return (*b)->Finish().ok();
}

bool BuildJson(const Schema& schema, const std::string& jsonl, const std::string& path,
               size_t dedup) {
  SegmentOptions o;
  o.dedup_memory = dedup;
  auto b = SegmentBuilder::Create(path, schema, 1, o);
  if (!b.ok()) return false;
  JsonRecordParser parser(schema, 1);
  std::ifstream in(jsonl);
  std::string line;
  while (std::getline(in, line)) {
    auto v = parser.ParseLine(line);
    if (!v.ok() || !(*b)->Add(*v).ok()) return false;
  }
  return (*b)->Finish().ok();
}

uint64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

// ns per random record: look the record up and read `field` (str, bytes or
// ndarray bytes), summing lengths so nothing is optimized away.
double ReadNs(const Segment& seg, const char* field, const std::vector<uint64_t>& ids) {
  const int f = *seg.schema().struct_def(1).FindField(field);
  uint64_t sum = 0;
  double best = 1e30;
  for (int round = 0; round < 5; ++round) {
    const double t0 = CpuSeconds();
    for (uint64_t id : ids) {
      auto rec = seg.Record(id);
      auto v = rec->Field(f);
      sum += v->kind() == TypeKind::kNdArray ? v->ndarray_data().size() : v->as_bytes().size();
    }
    best = std::min(best, (CpuSeconds() - t0) * 1e9 / ids.size());
  }
  if (sum == 42) std::printf(" ");
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t n = 200000, distinct = 300;
  std::string dir = "/tmp";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--records=", 0) == 0) n = std::stoull(a.substr(10));
    if (a.rfind("--distinct=", 0) == 0) distinct = std::stoull(a.substr(11));
    if (a.rfind("--dir=", 0) == 0) dir = a.substr(6);
  }
  const Schema schema = MakeSchema();
  const std::string base = dir + "/mapfs_value_refs_bench." + std::to_string(::getpid());
  for (uint64_t d : {distinct, uint64_t{0}}) {
    const std::string jsonl = base + ".jsonl";
    {
      std::ofstream out(jsonl);
      for (uint64_t i = 0; i < n; ++i) {
        auto packed = Pack(schema, 1, MakeRec(i, d));
        std::string json;
        (void)RenderJson(*ViewRecord(schema, 1, *packed), &json);
        out << json << '\n';
      }
    }
    std::printf("%llu records, %s:\n", static_cast<unsigned long long>(n),
                d ? ("fields of " + std::to_string(d) + " values each").c_str()
                  : "every value distinct");
    for (size_t dedup : {size_t{0}, size_t{64} << 20}) {
      const std::string path = base + (dedup ? ".on" : ".off") + ".mapfs";
      BuildResult v = InChild([&] { return BuildValues(schema, n, d, path, dedup); });
      BuildResult j = InChild([&] { return BuildJson(schema, jsonl, path + ".json", dedup); });
      auto seg = Segment::Open(path);
      std::mt19937_64 rng(7);
      std::vector<uint64_t> ids(200000);
      for (uint64_t& id : ids) id = rng() % n;
      std::printf(
          "  dedup %-6s file %8.2f MB | C++ values %8.0f rec/s, peak RSS %5.0f MiB (table %4.1f "
          "MiB) | JSONL %8.0f rec/s, peak RSS %5.0f MiB | read ns: category %5.1f, blob %5.1f, "
          "emb %5.1f\n",
          dedup ? "64 MiB" : "off", FileSize(path) / 1e6, n / v.seconds, v.peak_mib, v.table_mib,
          n / j.seconds, j.peak_mib, ReadNs(*seg, "category", ids), ReadNs(*seg, "blob", ids),
          ReadNs(*seg, "emb", ids));
      ::unlink(path.c_str());
      ::unlink((path + ".json").c_str());
    }
    ::unlink(jsonl.c_str());
  }
  return 0;
}
