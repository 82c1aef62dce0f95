// The truncation guard (file_util.h, InstallTruncationGuard): a fixed table
// of guarded ranges that the SIGBUS handler reads without locks, and the
// handler that maps a filler page over a faulting page of one of them.
#include "truncation_guard.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>

#include "mapfs/file_util.h"

namespace mapfs {
namespace internal {
namespace {

// Enough for every segment a daemon maps, versions kept for open files included.
constexpr size_t kMaxRanges = 16384;

struct Range {
  std::atomic<uintptr_t> begin{0};  // 0: free
  std::atomic<uintptr_t> end{0};
  std::atomic<bool> damaged{false};  // a page was replaced
};

Range g_ranges[kMaxRanges];
std::atomic<size_t> g_used{0};  // ranges in use, to skip the scan when none
std::atomic<uint64_t> g_replaced{0};
std::mutex g_table_mu;          // writers only; the handler never locks
struct sigaction g_previous;
uintptr_t g_page_size = 4096;   // set before the handler is installed

void OnSigbus(int sig, siginfo_t* info, void* context) {
  const uintptr_t addr = reinterpret_cast<uintptr_t>(info->si_addr);
  // BUS_ADRERR is what a mapped page past the end of its file raises.
  if (info->si_code == BUS_ADRERR && g_used.load(std::memory_order_acquire) > 0) {
    for (Range& r : g_ranges) {
      const uintptr_t begin = r.begin.load(std::memory_order_acquire);
      if (begin == 0 || addr < begin || addr >= r.end.load(std::memory_order_acquire)) continue;
      const uintptr_t page_size = g_page_size;
      void* page = reinterpret_cast<void*>(addr & ~(page_size - 1));
      // mmap and mprotect are plain system calls: safe here in practice,
      // though POSIX does not list them as async-signal-safe. The faulting
      // read is retried on the filler.
      const int saved_errno = errno;
      void* filler = ::mmap(page, page_size, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
      bool replaced = filler != MAP_FAILED;
      if (replaced) {
        // All ones, not zeros: zero offsets and lengths are valid and would
        // read as real records; all-ones ones are out of range everywhere.
        std::memset(filler, 0xFF, page_size);
        replaced = ::mprotect(filler, page_size, PROT_READ) == 0;
      }
      errno = saved_errno;
      if (replaced) {
        r.damaged.store(true, std::memory_order_release);
        g_replaced.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      break;
    }
  }
  // Not ours: what would have happened without the guard.
  if (g_previous.sa_flags & SA_SIGINFO) {
    if (g_previous.sa_sigaction != nullptr) return g_previous.sa_sigaction(sig, info, context);
  } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    return g_previous.sa_handler(sig);
  }
  ::signal(SIGBUS, SIG_DFL);
  ::raise(SIGBUS);
}

}  // namespace

int GuardRange(void* addr, size_t size) {
  if (addr == nullptr || size == 0) return -1;
  std::lock_guard lock(g_table_mu);
  for (size_t i = 0; i < kMaxRanges; ++i) {
    Range& r = g_ranges[i];
    if (r.begin.load(std::memory_order_relaxed) != 0) continue;
    r.damaged.store(false, std::memory_order_relaxed);
    r.end.store(reinterpret_cast<uintptr_t>(addr) + size, std::memory_order_relaxed);
    r.begin.store(reinterpret_cast<uintptr_t>(addr), std::memory_order_release);
    g_used.fetch_add(1, std::memory_order_release);
    return static_cast<int>(i);
  }
  return -1;
}

bool RangeDamaged(int index) {
  return index >= 0 && g_ranges[index].damaged.load(std::memory_order_acquire);
}

void UnguardRange(int index) {
  if (index < 0) return;
  std::lock_guard lock(g_table_mu);
  Range& r = g_ranges[index];
  if (r.begin.load(std::memory_order_relaxed) == 0) return;
  r.begin.store(0, std::memory_order_release);
  g_used.fetch_sub(1, std::memory_order_release);
}

size_t GuardedRanges() { return g_used.load(std::memory_order_acquire); }

}  // namespace internal

bool MappedRegion::Guard() {
  if (guard_ < 0) guard_ = internal::GuardRange(addr_, size_);
  return guard_ >= 0;
}

bool MappedRegion::damaged() const { return internal::RangeDamaged(guard_); }

Status InstallTruncationGuard() {
  static std::once_flag once;
  static int error = 0;
  std::call_once(once, [] {
    internal::g_page_size = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    struct sigaction sa {};
    sa.sa_sigaction = internal::OnSigbus;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (::sigaction(SIGBUS, &sa, &internal::g_previous) != 0) error = errno;
  });
  if (error != 0) return Status::IOError("cannot install the SIGBUS handler", error);
  return Status::OK();
}

uint64_t TruncatedPagesReplaced() { return internal::g_replaced.load(std::memory_order_relaxed); }

}  // namespace mapfs
