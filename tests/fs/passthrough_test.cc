// Passthrough: the INIT reply accepts passthrough only when the kernel's INIT
// offered it, an open reply a handler marked carries its backing id, other
// replies pass untouched, and a device that refuses registrations turns
// passthrough off (opens are then served by the daemon).
#include "passthrough.h"

#include <fcntl.h>

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace mapfs::fs {
namespace {

constexpr uint32_t kInitExt = 1u << 30;
constexpr uint32_t kPassthroughFlags2 = 1u << 5;  // FUSE_PASSTHROUGH is bit 37

template <typename T>
void Put(std::vector<char>& buf, size_t offset, T v) {
  std::memcpy(buf.data() + offset, &v, sizeof v);
}

template <typename T>
T Get(const std::vector<char>& buf, size_t offset) {
  T v;
  std::memcpy(&v, buf.data() + offset, sizeof v);
  return v;
}

// An INIT request (fuse_in_header + fuse_init_in of protocol 7.40).
std::vector<char> InitRequest(uint64_t unique, uint32_t flags, uint32_t flags2) {
  std::vector<char> buf(40 + 64, 0);
  Put<uint32_t>(buf, 0, static_cast<uint32_t>(buf.size()));
  Put<uint32_t>(buf, 4, 26);  // FUSE_INIT
  Put<uint64_t>(buf, 8, unique);
  Put<uint32_t>(buf, 40, 7);
  Put<uint32_t>(buf, 44, 40);
  Put<uint32_t>(buf, 40 + 12, flags);
  Put<uint32_t>(buf, 40 + 16, flags2);
  return buf;
}

struct Reply {
  std::vector<char> header = std::vector<char>(16, 0);
  std::vector<char> body;
  Reply(uint64_t unique, int32_t error, size_t body_size) : body(body_size, 0) {
    Put<uint32_t>(header, 0, static_cast<uint32_t>(16 + body_size));
    Put<int32_t>(header, 4, error);
    Put<uint64_t>(header, 8, unique);
  }
  void SendTo(Passthrough& p) {
    iovec iov[2] = {{header.data(), header.size()}, {body.data(), body.size()}};
    p.OnReply(iov, 2);
  }
};

// Has `p` accept passthrough: the kernel's INIT offers it, the reply takes it.
void Accept(Passthrough& p) {
  const std::vector<char> req = InitRequest(1, kInitExt, kPassthroughFlags2);
  p.OnRequest(req.data(), req.size());
  Reply init(1, 0, 64);
  init.SendTo(p);
  ASSERT_TRUE(p.enabled());
}

TEST(Passthrough, InitReplyAcceptsWhatTheKernelOffers) {
  Passthrough p;
  const std::vector<char> req = InitRequest(7, kInitExt | 0x1, kPassthroughFlags2);
  p.OnRequest(req.data(), req.size());
  EXPECT_FALSE(p.enabled());
  Reply init(7, 0, 64);
  Put<uint32_t>(init.body, 12, 0x1000);  // a flag libfuse set
  init.SendTo(p);
  EXPECT_TRUE(p.enabled());
  EXPECT_EQ(Get<uint32_t>(init.body, 12), 0x1000u | kInitExt);
  EXPECT_EQ(Get<uint32_t>(init.body, 32), kPassthroughFlags2);
  EXPECT_EQ(Get<uint32_t>(init.body, 36), 1u);  // max_stack_depth
}

// True if `p`, seeing an INIT request with `flags` and `flags2`, left its
// reply's bytes as libfuse wrote them.
bool InitReplyLeftAlone(Passthrough& p, uint32_t flags, uint32_t flags2) {
  const std::vector<char> req = InitRequest(9, flags, flags2);
  p.OnRequest(req.data(), req.size());
  Reply init(9, 0, 64);
  const std::vector<char> before = init.body;
  init.SendTo(p);
  return init.body == before;
}

TEST(Passthrough, InitReplyUntouchedWithoutTheOffer) {
  for (uint32_t flags : {kInitExt, 0u}) {  // no flags2 bit, or flags2 not valid
    Passthrough p;
    EXPECT_TRUE(InitReplyLeftAlone(p, flags, flags ? 0 : kPassthroughFlags2));
    EXPECT_FALSE(p.enabled());
  }
}

TEST(Passthrough, OnlyTheInitReplyIsPatched) {
  Passthrough p;
  const std::vector<char> req = InitRequest(11, kInitExt, kPassthroughFlags2);
  p.OnRequest(req.data(), req.size());
  Reply other(12, 0, 64);  // another request's reply of the same size
  const std::vector<char> before = other.body;
  other.SendTo(p);
  EXPECT_EQ(other.body, before);
  EXPECT_FALSE(p.enabled());
  Reply failed(11, -71, 64);  // an INIT answered with an error
  failed.SendTo(p);
  EXPECT_FALSE(p.enabled());
  // A truncated request is ignored.
  Passthrough q;
  q.OnRequest(req.data(), 40);
  Reply init(11, 0, 64);
  init.SendTo(q);
  EXPECT_FALSE(q.enabled());
}

TEST(Passthrough, DeclinedByTheMountOptionTheInitReplyIsLeftAlone) {
  Passthrough p;
  p.Decline();
  EXPECT_TRUE(InitReplyLeftAlone(p, kInitExt, kPassthroughFlags2));
  EXPECT_FALSE(p.enabled());
}

TEST(Passthrough, AMarkedOpenReplyCarriesItsBackingId) {
  Passthrough p;
  Passthrough::MarkOpenReply(5);
  Reply open(3, 0, 16);
  Put<uint64_t>(open.body, 0, 42);  // fh
  Put<uint32_t>(open.body, 8, 1u << 5);  // FOPEN_NOFLUSH, kept
  open.SendTo(p);
  EXPECT_EQ(Get<uint64_t>(open.body, 0), 42u);
  EXPECT_EQ(Get<uint32_t>(open.body, 8), (1u << 5) | (1u << 7));  // + FOPEN_PASSTHROUGH
  EXPECT_EQ(Get<int32_t>(open.body, 12), 5);
  // The mark is spent: the thread's next reply is left alone.
  Reply next(4, 0, 16);
  next.SendTo(p);
  EXPECT_EQ(Get<uint32_t>(next.body, 8), 0u);
  EXPECT_EQ(Get<int32_t>(next.body, 12), 0);
  // An open answered with an error spends the mark and changes nothing.
  Passthrough::MarkOpenReply(6);
  Reply error(5, -13, 0);
  iovec iov[1] = {{error.header.data(), error.header.size()}};
  p.OnReply(iov, 1);
  Reply after(6, 0, 16);
  after.SendTo(p);
  EXPECT_EQ(Get<int32_t>(after.body, 12), 0);
}

TEST(Passthrough, ADeviceThatRefusesRegistrationsTurnsItOff) {
  Passthrough p;
  Accept(p);
  UniqueFd device(::open("/dev/null", O_RDONLY | O_CLOEXEC));  // no FUSE ioctls: ENOTTY
  ASSERT_TRUE(device.valid());
  p.set_device_fd(device.get());
  int opened = 0;
  auto open_file = [&]() -> Result<UniqueFd> {
    ++opened;
    return UniqueFd::Open("/dev/null", O_RDONLY);
  };
  EXPECT_EQ(p.Acquire(100, open_file), 0);
  EXPECT_FALSE(p.enabled());
  // A second open of the inode shares the first one's answer.
  EXPECT_EQ(p.Acquire(100, open_file), 0);
  EXPECT_EQ(opened, 1);
  p.Release(100);
  p.Release(100);
  EXPECT_EQ(p.registered(), 0u);
}

TEST(Passthrough, AFileThatDoesNotOpenIsServedByTheDaemon) {
  Passthrough p;
  Accept(p);
  auto replaced = []() -> Result<UniqueFd> { return Status::NotFound("replaced"); };
  EXPECT_EQ(p.Acquire(7, replaced), 0);
  EXPECT_TRUE(p.enabled());  // only this inode is served by the daemon
  p.Release(7);
  EXPECT_EQ(p.registered(), 0u);
}

}  // namespace
}  // namespace mapfs::fs
