// Throughput of JSONL record input (target: >= 300k records/s for a typical
// 8-field record, docs/performance.md) and of the text formatters on the render path.
//
//   build/bench/json_input_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "mapfs/json_input.h"
#include "mapfs/text_format.h"

namespace mapfs {
namespace {

Schema TypicalSchema() {
  auto no_structs = [](std::string_view) -> std::optional<int> { return std::nullopt; };
  StructDef def;
  def.name = "Person";
  for (auto [name, type] : {std::pair{"id", "uint64"}, {"age", "int32"}, {"score", "float64"},
                            {"ratio", "float32"}, {"name", "str"}, {"tags", "list<int64>"},
                            {"born", "date"}, {"active", "bool"}}) {
    def.fields.push_back(Field{name, ParseType(type, no_structs).value()});
  }
  return Schema::Create({def}).value();
}

// Distinct lines so that nothing is accidentally cached between iterations.
std::vector<std::string> TypicalLines(size_t n) {
  std::mt19937_64 rng(42);
  std::vector<std::string> lines;
  lines.reserve(n);
  static const char* kNames[] = {"Alice Smith", "Bob", "Carol Ann Jones", "Dmitri Ivanov"};
  for (size_t i = 0; i < n; ++i) {
    std::string s = "{\"id\": " + std::to_string(1000000 + i) +
                    ", \"age\": " + std::to_string(18 + rng() % 80) +
                    ", \"score\": " + FormatDouble(static_cast<double>(rng() % 100000) / 977.0) +
                    ", \"ratio\": " + FormatDouble(static_cast<double>(rng() % 1000) / 1000.0) +
                    ", \"name\": ";
    AppendJsonString(&s, kNames[rng() % 4]);
    s += ", \"tags\": [" + std::to_string(rng() % 100) + ", " + std::to_string(rng() % 1000) +
         ", " + std::to_string(rng() % 10) + "]";
    s += ", \"born\": \"19" + std::to_string(50 + rng() % 50) + "-0" + std::to_string(1 + rng() % 9) +
         "-1" + std::to_string(rng() % 10) + "\"";
    s += std::string(", \"active\": ") + (rng() % 2 ? "true" : "false") + "}";
    lines.push_back(std::move(s));
  }
  return lines;
}

void BM_ParseTypicalRecord(benchmark::State& state) {
  Schema schema = TypicalSchema();
  JsonRecordParser parser(schema, 0);
  std::vector<std::string> lines = TypicalLines(4096);
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const std::string& line = lines[i++ & 4095];
    Result<Value> v = parser.ParseLine(line);
    if (!v.ok()) state.SkipWithError(v.status().ToString().c_str());
    benchmark::DoNotOptimize(v);
    bytes += line.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_ParseTypicalRecord);

void BM_FormatDouble(benchmark::State& state) {
  std::mt19937_64 rng(7);
  std::vector<double> xs(4096);
  for (double& x : xs) x = static_cast<double>(rng() % 10000000) / 1024.0;
  std::string out;
  size_t i = 0;
  for (auto _ : state) {
    out.clear();
    AppendDouble(&out, xs[i++ & 4095]);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_FormatDouble);

void BM_AppendJsonString(benchmark::State& state) {
  const std::string text = "A typical field value, with \"quotes\" and caf\xc3\xa9 in it.";
  std::string out;
  for (auto _ : state) {
    out.clear();
    AppendJsonString(&out, text);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_AppendJsonString);

}  // namespace
}  // namespace mapfs

BENCHMARK_MAIN();
