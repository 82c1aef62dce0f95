// `mapfs build --shards N --output DIR` (docs/cli.md): one reader thread
// parses the JSONL input and routes each record (docs/format.md, "Routing");
// each shard's SegmentBuilder runs on its own thread behind a bounded queue,
// so packing, writing and indexing use every core. Shard i receives its
// records in input order, so its bytes equal a one-segment build of them.
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include "dataset_cmds.h"
#include "mapfs/dataset.h"
#include "mapfs/json_input.h"
#include "mapfs/record.h"

namespace mapfs::cli {
namespace {

constexpr size_t kBatch = 256;        // records per queue item
constexpr size_t kQueueBatches = 16;  // queue items in flight per shard

struct Item {
  uint64_t line;
  Value value;
};
using Batch = std::vector<Item>;

// A bounded single-producer single-consumer queue of batches.
class BatchQueue {
 public:
  // False if the consumer stopped (it failed).
  bool Push(Batch b) {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [&] { return q_.size() < kQueueBatches || stopped_; });
    if (stopped_) return false;
    q_.push_back(std::move(b));
    not_empty_.notify_one();
    return true;
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    not_empty_.notify_one();
  }
  // False at the end of the input.
  bool Pop(Batch* b) {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [&] { return !q_.empty() || closed_; });
    if (q_.empty()) return false;
    *b = std::move(q_.front());
    q_.pop_front();
    not_full_.notify_one();
    return true;
  }
  void Stop() {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    q_.clear();
    not_full_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Batch> q_;
  bool closed_ = false;
  bool stopped_ = false;
};

struct Shard {
  std::string path;
  std::unique_ptr<SegmentBuilder> builder;
  BatchQueue queue;
  Status status;
  bool finished = false;
  // Input line of each record, for the builder's error messages.
  std::shared_ptr<std::vector<uint64_t>> lines = std::make_shared<std::vector<uint64_t>>();
};

void RunShard(Shard* s, const std::string& input_name, std::atomic<bool>* failed) {
  Batch batch;
  while (s->queue.Pop(&batch)) {
    for (Item& item : batch) {
      s->lines->push_back(item.line);
      Status st = s->builder->Add(item.value);
      if (!st.ok()) {
        s->status = st.IsIOError() ? st
                                   : st.WithContext(input_name + ":" + std::to_string(item.line));
        failed->store(true);
        s->queue.Stop();
        return;
      }
    }
  }
  // Another shard or the input failed: this shard will not be published.
  if (failed->load()) return;
  s->status = s->builder->Finish();
  if (s->status.ok()) {
    s->finished = true;
  } else {
    failed->store(true);
  }
}

// Records (non-blank lines) of a file, for splitting an array into ranges.
Result<uint64_t> CountRecords(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::FromErrno(path);
  std::string line;
  uint64_t n = 0;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) ++n;
  }
  if (in.bad()) return Status::FromErrno(path);
  return n;
}

std::string Count(uint64_t n, const char* noun) {
  std::string digits = std::to_string(n);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(i, ",");
  return digits + " " + noun + (n == 1 ? "" : "s");
}

}  // namespace

Status RunShardedBuild(const ShardedBuild& b) {
  const Schema& schema = *b.schema;
  const bool from_stdin = b.input == "-";
  const std::string input_name = from_stdin ? "<stdin>" : b.input;
  const bool keyed = b.options.kind != CollectionKind::kArray;
  const auto started = std::chrono::steady_clock::now();

  uint64_t total = 0;  // arrays: records to split into ranges
  if (!keyed) {
    if (from_stdin) {
      return Status::InvalidArgument(
          "--shards with an array needs an input file, not standard input: its records are "
          "counted before they are split into ranges");
    }
    MAPFS_ASSIGN_OR_RETURN(total, CountRecords(b.input));
  }
  if (::mkdir(b.output_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::FromErrno(b.output_dir);
  }
  struct stat st;
  if (::stat(b.output_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument(b.output_dir + ": not a directory (--shards writes a dataset "
                                                  "directory)");
  }
  std::ifstream file;
  if (!from_stdin) {
    file.open(b.input, std::ios::binary);
    if (!file) return Status::FromErrno(b.input);
  }
  std::istream& in = from_stdin ? std::cin : file;

  const uint64_t n = b.shards;
  const std::string build_id = NewBuildId();
  std::vector<std::string> files;
  std::vector<std::unique_ptr<Shard>> shards;
  for (uint64_t i = 0; i < n; ++i) {
    files.push_back(ShardFileName(build_id, i, n));
    auto s = std::make_unique<Shard>();
    s->path = b.output_dir + "/" + files.back();
    SegmentOptions so = b.options;
    so.record_name = [lines = s->lines, input_name](uint64_t id) {
      return input_name + ":" + std::to_string(id < lines->size() ? (*lines)[id] : 0);
    };
    MAPFS_ASSIGN_OR_RETURN(s->builder, SegmentBuilder::Create(s->path, schema, b.type, so));
    shards.push_back(std::move(s));
  }
  // Removes the finished shards of a failed build; unfinished ones leave
  // nothing (SegmentBuilder).
  auto cleanup = [&] {
    for (auto& s : shards) {
      if (s->finished) std::remove(s->path.c_str());
    }
  };

  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (auto& s : shards) threads.emplace_back(RunShard, s.get(), input_name, &failed);

  JsonRecordParser parser(schema, b.type);
  RecordPacker key_packer(schema);
  std::string scratch;
  const Type* key_type =
      keyed ? &schema.struct_def(b.type).fields[b.options.key_field].type : nullptr;
  const std::string key_name = keyed ? schema.struct_def(b.type).fields[b.options.key_field].name
                                     : std::string();
  KeyKind key_kind = KeyKind::kNone;
  if (keyed) {
    key_kind = key_type->kind == TypeKind::kStr ? KeyKind::kStr
               : (key_type->kind == TypeKind::kUInt8 || key_type->kind == TypeKind::kUInt16 ||
                  key_type->kind == TypeKind::kUInt32 || key_type->kind == TypeKind::kUInt64)
                   ? KeyKind::kUInt
                   : KeyKind::kGeneric;
  }
  std::vector<Batch> pending(n);
  Status input_status;
  uint64_t records = 0;
  std::string line;
  for (uint64_t line_no = 1; std::getline(in, line) && !failed.load(); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto value = parser.ParseLine(line);
    if (!value.ok()) {
      input_status = value.status().WithContext(input_name + ":" + std::to_string(line_no));
      break;
    }
    uint64_t s;
    if (keyed) {
      const Value* key = value->FindField(key_name);
      if (key == nullptr || key->is_null()) {
        input_status = Status::InvalidArgument("field \"" + key_name + "\": the key is missing")
                           .WithContext(input_name + ":" + std::to_string(line_no));
        break;
      }
      auto raw = RawKeyOf(*key, *key_type, key_kind, &key_packer, &scratch);
      if (!raw.ok()) {
        input_status = raw.status()
                           .WithContext("field \"" + key_name + "\"")
                           .WithContext(input_name + ":" + std::to_string(line_no));
        break;
      }
      s = RouteKey(*raw, n);
    } else {
      // Shard i holds [floor(i*R/N), floor((i+1)*R/N)): the last shard
      // whose first record is <= records.
      if (records >= total) {
        input_status = Status::IOError(input_name + ": grew while it was read", EIO);
        break;
      }
      s = ((records + 1) * n - 1) / total;
      while (s > 0 && s * total / n > records) --s;
      while (s + 1 < n && (s + 1) * total / n <= records) ++s;
    }
    pending[s].push_back(Item{line_no, std::move(value).value()});
    if (pending[s].size() >= kBatch) {
      shards[s]->queue.Push(std::move(pending[s]));
      pending[s] = Batch();
      pending[s].reserve(kBatch);
    }
    ++records;
  }
  if (input_status.ok() && in.bad()) input_status = Status::FromErrno(input_name);
  if (input_status.ok() && !keyed && !failed.load() && records != total) {
    input_status = Status::IOError(input_name + ": changed while it was read", EIO);
  }
  if (!input_status.ok()) failed.store(true);
  for (uint64_t i = 0; i < n; ++i) {
    if (input_status.ok() && !pending[i].empty()) shards[i]->queue.Push(std::move(pending[i]));
    if (!input_status.ok()) shards[i]->queue.Stop();
    shards[i]->queue.Close();
  }
  for (auto& t : threads) t.join();
  if (!input_status.ok()) {
    cleanup();
    return input_status;
  }
  for (auto& s : shards) {
    if (!s->status.ok()) {
      cleanup();
      return s->status;
    }
  }
  Status published = PublishDataset(b.output_dir, files);
  if (!published.ok()) {
    cleanup();
    return published;
  }
  if (!b.quiet) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::fprintf(stderr, "mapfs: built %s: %s in %s, %.1f s\n", b.output_dir.c_str(),
                 Count(records, "record").c_str(), Count(n, "shard").c_str(), seconds);
  }
  return Status::OK();
}

}  // namespace mapfs::cli
