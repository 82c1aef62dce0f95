// `mapfs build --shards N --output DIR` (docs/cli.md): the reader thread reads
// the JSONL input in large blocks and cuts them into batches of lines (views,
// no copy per line); parser threads (one per core) parse, pack and route each
// batch (docs/format.md, "Routing") into N lists; the thread of shard i takes
// list i of every batch in input order and feeds its SegmentBuilder. So
// parsing, packing, writing and indexing all use every core, and shard i
// receives its records in input order: its bytes equal a one-segment build of
// them. A ring of batch slots bounds the memory.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
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
#include "line_reader.h"
#include "mapfs/dataset.h"
#include "mapfs/json_input.h"
#include "mapfs/key_codec.h"
#include "mapfs/record.h"

namespace mapfs::cli {
namespace {

// Batches in flight hold about as many records as 32 batches of 512 lines
// did (~2,000 records of ~120 bytes a batch): the same memory bound, with 4x
// fewer hand-offs between threads.
constexpr size_t kBatchBytes = 256 << 10;  // input per batch (whole lines)
constexpr size_t kSlots = 8;               // batches in flight

// The packed records a batch routes to one shard: parsers pack (in
// parallel), so a shard's thread only writes and indexes them.
struct Packed {
  struct Entry {
    size_t key_end;     // key bytes: [previous record_end, key_end)
    size_t record_end;  // record bytes: [key_end, record_end)
    uint64_t line;
  };
  std::string bytes;
  std::vector<Entry> entries;
  void clear() {
    bytes.clear();
    entries.clear();
  }
};

// One batch on its way from the reader through a parser to every shard.
struct Slot {
  enum State { kFree, kFilled, kReady };
  State state = kFree;
  uint64_t seq = 0;
  uint64_t first_record = 0;   // the input order of the batch's first record
  LineBatch input;             // its buffers serve the slot's next batches
  std::vector<Packed> routed;  // per shard
  Status status;               // a parse error in this batch
  size_t consumers_left = 0;
};

// Everything the threads share, under one mutex: transitions happen once
// per batch, so contention is low.
struct Pipeline {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Slot> slots = std::vector<Slot>(kSlots);
  std::deque<uint64_t> to_parse;
  bool input_done = false;
  uint64_t batches = 0;  // batches filled so far (all of them once input_done)
  bool failed = false;
  // The first error in input order: (batch, status).
  uint64_t error_seq = UINT64_MAX;
  Status error;

  void Fail(uint64_t seq, Status st) {  // mu held
    failed = true;
    if (seq < error_seq) {
      error_seq = seq;
      error = std::move(st);
    }
    cv.notify_all();
  }
};

struct Shard {
  std::string path;
  std::unique_ptr<SegmentBuilder> builder;
  bool finished = false;
  // Input line of each record, for the builder's error messages.
  std::shared_ptr<std::vector<uint64_t>> lines = std::make_shared<std::vector<uint64_t>>();
};

struct Router {
  const Schema* schema;
  int type;
  bool keyed;
  int key_field;
  uint64_t shards;
  uint64_t total;  // arrays: records in the input
  std::string input_name;
};

// Parses and routes the batches it is given until the input ends.
void ParseLoop(Pipeline* p, const Router* r) {
  JsonRecordParser parser(*r->schema, r->type);
  RecordPacker packer(*r->schema);
  RecordPacker key_packer(*r->schema);
  std::string scratch;
  const Field* key = r->keyed ? &r->schema->struct_def(r->type).fields[r->key_field] : nullptr;
  const KeyKind kind = key ? KeyKindOf(key->type) : KeyKind::kNone;
  for (;;) {
    Slot* slot;
    {
      std::unique_lock<std::mutex> lock(p->mu);
      p->cv.wait(lock, [&] { return !p->to_parse.empty() || p->input_done || p->failed; });
      if (p->failed || p->to_parse.empty()) return;
      slot = &p->slots[p->to_parse.front() % kSlots];
      p->to_parse.pop_front();
    }
    // The slot is this thread's until it is marked ready.
    Status st;
    for (auto& v : slot->routed) v.clear();
    const LineBatch& input = slot->input;
    for (size_t j = 0; j < input.lines.size() && st.ok(); ++j) {
      auto value = parser.ParseLine(input.lines[j]);
      const uint64_t line_no = input.line_nos[j];
      auto at = [&](const Status& s) {
        return s.WithContext(r->input_name + ":" + std::to_string(line_no));
      };
      if (!value.ok()) {
        st = at(value.status());
        break;
      }
      uint64_t s;
      std::string_view key_bytes;
      if (key != nullptr) {
        const Value* k = value->FindField(key->name);
        if (k == nullptr || k->is_null()) {
          st = at(Status::InvalidArgument("field \"" + key->name + "\": the key is missing"));
          break;
        }
        auto raw = RawKeyOf(*k, key->type, kind, &key_packer, &scratch);
        if (!raw.ok()) {
          st = at(raw.status().WithContext("field \"" + key->name + "\""));
          break;
        }
        key_bytes = *raw;
        s = RouteKey(*raw, r->shards);
      } else {
        // Shard s holds [floor(s*R/N), floor((s+1)*R/N)).
        const uint64_t g = slot->first_record + j;
        s = std::min<uint64_t>(g * r->shards / std::max<uint64_t>(r->total, 1), r->shards - 1);
        while (s > 0 && s * r->total / r->shards > g) --s;
        while (s + 1 < r->shards && (s + 1) * r->total / r->shards <= g) ++s;
      }
      auto packed = packer.Pack(r->type, *value);
      if (!packed.ok()) {
        st = at(packed.status());
        break;
      }
      Packed& out = slot->routed[s];
      out.bytes.append(key_bytes);
      const size_t key_end = out.bytes.size();
      out.bytes.append(*packed);
      out.entries.push_back({key_end, out.bytes.size(), line_no});
    }
    std::lock_guard<std::mutex> lock(p->mu);
    slot->status = std::move(st);
    slot->state = Slot::kReady;
    p->cv.notify_all();
  }
}

// Feeds shard `index` its list of every batch, in order, then finishes it.
void ShardLoop(Pipeline* p, Shard* shard, size_t index, const std::string& input_name) {
  for (uint64_t seq = 0;; ++seq) {
    Slot* slot = &p->slots[seq % kSlots];
    {
      std::unique_lock<std::mutex> lock(p->mu);
      p->cv.wait(lock, [&] {
        return p->failed || (slot->state == Slot::kReady && slot->seq == seq) ||
               (p->input_done && seq >= p->batches);
      });
      if (p->failed) return;
      if (p->input_done && seq >= p->batches) break;
      if (!slot->status.ok()) {
        p->Fail(seq, slot->status);
        return;
      }
    }
    const Packed& packed = slot->routed[index];
    const std::string_view bytes = packed.bytes;
    size_t start = 0;
    for (const Packed::Entry& e : packed.entries) {
      shard->lines->push_back(e.line);
      Status st = shard->builder->AddPacked(bytes.substr(start, e.key_end - start),
                                            bytes.substr(e.key_end, e.record_end - e.key_end));
      start = e.record_end;
      if (!st.ok()) {
        std::lock_guard<std::mutex> lock(p->mu);
        p->Fail(seq, st.IsIOError()
                         ? st
                         : st.WithContext(input_name + ":" + std::to_string(e.line)));
        return;
      }
    }
    std::lock_guard<std::mutex> lock(p->mu);
    if (--slot->consumers_left == 0) {
      slot->state = Slot::kFree;
      p->cv.notify_all();
    }
  }
  Status st = shard->builder->Finish();
  std::lock_guard<std::mutex> lock(p->mu);
  if (st.ok()) {
    shard->finished = true;
  } else {
    p->Fail(UINT64_MAX - 1, st);
  }
}

// Records (non-blank lines) of a file, for splitting an array into ranges.
Result<uint64_t> CountRecords(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::FromErrno(path);
  LineReader reader(&in, kBatchBytes);
  LineBatch batch;
  uint64_t n = 0;
  while (reader.Next(&batch)) n += batch.lines.size();
  if (reader.bad()) return Status::FromErrno(path);
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

  Pipeline p;
  for (Slot& slot : p.slots) slot.routed.resize(n);
  const Router router{&schema, b.type, keyed, b.options.key_field, n, total, input_name};
  std::vector<std::thread> threads;
  const unsigned parsers = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < parsers; ++i) threads.emplace_back(ParseLoop, &p, &router);
  for (size_t i = 0; i < n; ++i) {
    threads.emplace_back(ShardLoop, &p, shards[i].get(), i, input_name);
  }

  // The reader: fills free slots in input order.
  uint64_t records = 0;
  Status input_status;
  LineReader reader(&in, kBatchBytes);
  for (uint64_t seq = 0;; ++seq) {
    Slot* slot = &p.slots[seq % kSlots];
    {
      std::unique_lock<std::mutex> lock(p.mu);
      p.cv.wait(lock, [&] { return slot->state == Slot::kFree || p.failed; });
      if (p.failed) break;
    }
    // A batch of blank lines only holds no record: read on.
    bool more = reader.Next(&slot->input);
    while (more && slot->input.lines.empty()) more = reader.Next(&slot->input);
    if (!more) break;
    slot->first_record = records;
    records += slot->input.lines.size();
    std::lock_guard<std::mutex> lock(p.mu);
    slot->seq = seq;
    slot->state = Slot::kFilled;
    slot->consumers_left = n;
    p.batches = seq + 1;
    p.to_parse.push_back(seq);
    p.cv.notify_all();
  }
  if (reader.bad()) {
    input_status = Status::FromErrno(input_name);
  } else if (!keyed && records != total) {
    input_status = Status::IOError(input_name + ": changed while it was read", EIO);
  }
  {
    std::lock_guard<std::mutex> lock(p.mu);
    if (!input_status.ok() && !p.failed) p.Fail(0, input_status);
    p.input_done = true;
    p.cv.notify_all();
  }
  for (auto& t : threads) t.join();
  if (p.failed) {
    cleanup();
    return p.error;
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
