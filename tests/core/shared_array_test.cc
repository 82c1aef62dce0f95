// SharedArray tests: create/attach across fork(), remove while attached,
// list, header validation (every corruption a clean error), ENOSPC at create
// on a tiny tmpfs, and the .npy header bytes.
#include "mapfs/shared_array.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "shared_array_format.h"
#include "test_util.h"

namespace mapfs {
namespace {

namespace fmt = shared_array_format;
using ::mapfs::testing::ReadFileOrDie;
using ::mapfs::testing::TempDir;
using ::mapfs::testing::WriteFileOrDie;

// A unique shm name, removed (if still there) when the test ends.
class ShmName {
 public:
  ShmName() {
    static int counter = 0;
    name_ = "mapfs-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  }
  ~ShmName() { std::filesystem::remove(path()); }
  const std::string& name() const { return name_; }
  std::string uri() const { return "shm://" + name_; }
  std::string path() const { return "/dev/shm/" + name_; }

 private:
  std::string name_;
};

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(SharedArray, CreateIsZeroFilledAndPageAligned) {
  ShmName n;
  const uint64_t shape[] = {3, 5};
  auto a = SharedArray::Create(n.uri(), shape, DType::kFloat64);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->uri(), n.uri());
  EXPECT_EQ(a->dtype(), DType::kFloat64);
  EXPECT_EQ(a->shape(), (std::vector<uint64_t>{3, 5}));
  EXPECT_EQ(a->element_count(), 15u);
  EXPECT_EQ(a->data_size(), 120u);
  EXPECT_EQ(a->data_offset(), 4096u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a->bytes().data()) % 4096, 0u);
  for (std::byte b : a->bytes()) ASSERT_EQ(b, std::byte{0});
  EXPECT_EQ(std::filesystem::file_size(n.path()), 4096u + 120u);
}

TEST(SharedArray, WritesAreVisibleBothWaysAcrossFork) {
  ShmName n;
  const uint64_t shape[] = {16};
  auto a = SharedArray::Create(n.uri(), shape, DType::kInt64);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto values = a->MutableSpan<int64_t>();
  ASSERT_TRUE(values.ok());
  (*values)[0] = 11;  // written before the child attaches
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child attaches by name: its own mapping, not the inherited one.
    auto b = SharedArray::Attach(n.uri());
    if (!b.ok()) _exit(2);
    auto v = b->MutableSpan<int64_t>();
    if (!v.ok() || (*v)[0] != 11) _exit(3);
    char c;
    if (::read(go[0], &c, 1) != 1) _exit(4);
    if ((*v)[1] != 22) _exit(5);  // the parent's write after the fork
    (*v)[2] = 33;
    _exit(0);
  }
  (*values)[1] = 22;
  ASSERT_EQ(::write(go[1], "x", 1), 1);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ::close(go[0]);
  ::close(go[1]);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ((*values)[2], 33);
}

TEST(SharedArray, CreateExistingNameIsAlreadyExists) {
  ShmName n;
  const uint64_t shape[] = {2};
  auto a = SharedArray::Create(n.uri(), shape, DType::kUInt8);
  ASSERT_TRUE(a.ok());
  auto b = SharedArray::Create(n.name(), shape, DType::kUInt8);  // bare name = shm://
  ASSERT_EQ(b.status().code(), StatusCode::kAlreadyExists) << b.status().ToString();
  EXPECT_EQ(b.status().message(), n.uri() + ": already exists");
  TempDir dir;
  const std::string file_uri = "file://" + dir.File("a.arr");
  ASSERT_TRUE(SharedArray::Create(file_uri, shape, DType::kUInt8).ok());
  EXPECT_EQ(SharedArray::Create(file_uri, shape, DType::kUInt8).status().code(),
            StatusCode::kAlreadyExists);
}

TEST(SharedArray, RemoveKeepsAttachmentsValid) {
  ShmName n;
  const uint64_t shape[] = {1024};
  auto a = SharedArray::Create(n.uri(), shape, DType::kInt32);
  ASSERT_TRUE(a.ok());
  auto b = SharedArray::Attach(n.uri(), /*read_only=*/true);
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(SharedArray::Remove(n.uri()).ok());
  EXPECT_FALSE(std::filesystem::exists(n.path()));
  EXPECT_TRUE(SharedArray::Attach(n.uri()).status().IsNotFound());
  EXPECT_TRUE(SharedArray::Remove(n.uri()).IsNotFound());
  (*a->MutableSpan<int32_t>())[1023] = 7;
  EXPECT_EQ((*b->Span<int32_t>())[1023], 7);
}

TEST(SharedArray, AttachMissingIsNotFound) {
  ShmName n;
  auto a = SharedArray::Attach(n.uri());
  ASSERT_TRUE(a.status().IsNotFound()) << a.status().ToString();
  EXPECT_TRUE(Contains(a.status().message(), n.uri()));
  TempDir dir;
  EXPECT_TRUE(SharedArray::Attach("file://" + dir.File("none")).status().IsNotFound());
}

TEST(SharedArray, ListShowsArraysAndSkipsForeignObjects) {
  ShmName a_name, b_name, foreign;
  const uint64_t shape_a[] = {3, 4};
  const uint64_t shape_b[] = {7};
  auto a = SharedArray::Create(a_name.uri(), shape_a, DType::kFloat32);
  auto b = SharedArray::Create(b_name.uri(), shape_b, DType::kBool);
  ASSERT_TRUE(a.ok() && b.ok());
  WriteFileOrDie(foreign.path(), std::string(8192, 'z'));
  auto list = SharedArray::List();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  int seen = 0;
  for (const SharedArrayInfo& info : *list) {
    EXPECT_NE(info.name, foreign.name());
    if (info.name == a_name.name()) {
      ++seen;
      EXPECT_EQ(info.dtype, DType::kFloat32);
      EXPECT_EQ(info.shape, (std::vector<uint64_t>{3, 4}));
      EXPECT_EQ(info.data_size, 48u);
    } else if (info.name == b_name.name()) {
      ++seen;
      EXPECT_EQ(info.dtype, DType::kBool);
      EXPECT_EQ(info.shape, (std::vector<uint64_t>{7}));
    }
  }
  EXPECT_EQ(seen, 2);
  EXPECT_TRUE(std::is_sorted(list->begin(), list->end(),
                             [](auto& x, auto& y) { return x.name < y.name; }));
  // Remove refuses what is not ours.
  EXPECT_TRUE(SharedArray::Remove(foreign.uri()).IsInvalidArgument());
  EXPECT_TRUE(std::filesystem::exists(foreign.path()));
  ASSERT_TRUE(SharedArray::Remove(a_name.uri()).ok());
  list = SharedArray::List();
  ASSERT_TRUE(list.ok());
  for (const SharedArrayInfo& info : *list) EXPECT_NE(info.name, a_name.name());
}

// A file:// array whose header bytes a test may rewrite before attaching.
class CorruptHeaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const uint64_t shape[] = {4, 6};
    auto a = SharedArray::Create(uri_, shape, DType::kUInt16);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    bytes_ = ReadFileOrDie(path_);
    ASSERT_EQ(bytes_.size(), 4096u + 48u);
  }
  fmt::Header header() const {
    fmt::Header h;
    std::memcpy(&h, bytes_.data(), sizeof h);
    return h;
  }
  // Writes `h` (and the rest of the original bytes, cut to `size`) and attaches.
  Status AttachWith(const fmt::Header& h, size_t size = SIZE_MAX) {
    std::string b = bytes_;
    std::memcpy(b.data(), &h, sizeof h);
    WriteFileOrDie(path_, b.substr(0, std::min(size, b.size())));
    return SharedArray::Attach(uri_, /*read_only=*/true).status();
  }
  void ExpectCorruption(const Status& st, const std::string& why) {
    EXPECT_TRUE(st.IsCorruption()) << st.ToString();
    EXPECT_TRUE(Contains(st.message(), uri_)) << st.message();
    EXPECT_TRUE(Contains(st.message(), why)) << st.message();
  }

  TempDir dir_;
  std::string path_ = dir_.File("c.arr");
  std::string uri_ = "file://" + path_;
  std::string bytes_;
};

TEST_F(CorruptHeaderTest, IntactHeaderAttaches) { EXPECT_TRUE(AttachWith(header()).ok()); }

TEST_F(CorruptHeaderTest, RejectsFlippedMagic) {
  fmt::Header h = header();
  h.magic[0] ^= 0x20;
  ExpectCorruption(AttachWith(h), "bad magic");
}

TEST_F(CorruptHeaderTest, RejectsTruncatedObject) {
  ExpectCorruption(AttachWith(header(), 100), "smaller than the 4096-byte header");
  ExpectCorruption(AttachWith(header(), 0), "smaller than the 4096-byte header");
  ExpectCorruption(AttachWith(header(), 4096 + 47), "runs past the end");
}

TEST_F(CorruptHeaderTest, RejectsShapeLargerThanObject) {
  fmt::Header h = header();
  h.shape[0] = 1000;
  ExpectCorruption(AttachWith(h), "shape needs 12000 bytes but data size is 48");
  h.data_size = 12000;
  ExpectCorruption(AttachWith(h), "runs past the end");
  h.shape[0] = uint64_t{1} << 62;
  ExpectCorruption(AttachWith(h), "overflows");
}

TEST_F(CorruptHeaderTest, RejectsBadFields) {
  fmt::Header h = header();
  h.dtype = 11;
  ExpectCorruption(AttachWith(h), "bad dtype");
  h = header();
  h.ndim = 33;
  ExpectCorruption(AttachWith(h), "ndim");
  h = header();
  h.ndim = 1;  // shape[1] is now past ndim but not zero
  ExpectCorruption(AttachWith(h), "past ndim");
  h = header();
  h.data_offset = 100;
  ExpectCorruption(AttachWith(h), "not page-aligned");
  h = header();
  h.reserved = 1;
  ExpectCorruption(AttachWith(h), "reserved");
  h = header();
  h.version = 2;
  EXPECT_EQ(AttachWith(h).code(), StatusCode::kNotSupported);
}

// Every single-byte change of the header gives either a clean error or an
// array whose data lies inside the object.
TEST_F(CorruptHeaderTest, ByteFlipSweepNeverEscapesTheObject) {
  for (size_t i = 0; i < sizeof(fmt::Header); ++i) {
    for (uint8_t x : {0x01, 0xff}) {
      std::string b = bytes_;
      b[i] = static_cast<char>(b[i] ^ x);
      WriteFileOrDie(path_, b);
      auto a = SharedArray::Attach(uri_, true);
      if (a.ok()) {
        EXPECT_LE(a->data_offset() + a->data_size(), a->object_size()) << i;
        EXPECT_EQ(a->element_count() * a->itemsize(), a->data_size());
      } else {
        EXPECT_NE(a.status().code(), StatusCode::kOk);
      }
    }
  }
}

TEST(SharedArray, ReadOnlyAttachRefusesMutableViews) {
  ShmName n;
  const uint64_t shape[] = {8};
  ASSERT_TRUE(SharedArray::Create(n.uri(), shape, DType::kUInt32).ok());
  auto a = SharedArray::Attach(n.uri(), /*read_only=*/true);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->read_only());
  auto m = a->MutableBytes();
  ASSERT_TRUE(m.status().IsIOError());
  EXPECT_EQ(m.status().posix_errno(), EROFS);
  EXPECT_TRUE(a->MutableSpan<uint32_t>().status().IsIOError());
  EXPECT_TRUE(a->Span<uint32_t>().ok());
  EXPECT_TRUE(a->Span<int32_t>().status().IsInvalidArgument());
  EXPECT_TRUE(a->Span<float>().status().IsInvalidArgument());
}

TEST(SharedArray, RejectsBadUris) {
  const uint64_t shape[] = {1};
  for (const char* uri : {"http://x", "shm://", "shm://a/b", "shm://..", "file://", ""}) {
    EXPECT_TRUE(SharedArray::Create(uri, shape, DType::kInt8).status().IsInvalidArgument())
        << uri;
    EXPECT_TRUE(SharedArray::Attach(uri).status().IsInvalidArgument()) << uri;
    EXPECT_TRUE(SharedArray::Remove(uri).IsInvalidArgument()) << uri;
  }
  EXPECT_TRUE(SharedArrayUri::Parse("shm://" + std::string(256, 'a')).status().IsInvalidArgument());
  auto u = SharedArrayUri::Parse("frames");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->canonical, "shm://frames");
  u = SharedArrayUri::Parse("file://rel/x.arr");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->scheme, SharedArrayUri::Scheme::kFile);
  EXPECT_EQ(u->target, "rel/x.arr");
}

TEST(SharedArray, RejectsShapeTooLarge) {
  ShmName n;
  std::vector<uint64_t> big = {uint64_t{1} << 40, uint64_t{1} << 40};
  EXPECT_TRUE(SharedArray::Create(n.uri(), big, DType::kInt8).status().IsInvalidArgument());
  std::vector<uint64_t> dims(33, 1);
  EXPECT_TRUE(SharedArray::Create(n.uri(), dims, DType::kInt8).status().IsInvalidArgument());
  EXPECT_FALSE(std::filesystem::exists(n.path()));
}

TEST(SharedArray, EmptyAndZeroDimensionalShapes) {
  ShmName a_name, b_name;
  const uint64_t empty[] = {0, 5};
  auto a = SharedArray::Create(a_name.uri(), empty, DType::kFloat32);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->data_size(), 0u);
  auto a2 = SharedArray::Attach(a_name.uri());
  ASSERT_TRUE(a2.ok()) << a2.status().ToString();
  EXPECT_EQ(a2->shape(), (std::vector<uint64_t>{0, 5}));
  auto b = SharedArray::Create(b_name.uri(), std::span<const uint64_t>(), DType::kInt16);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->element_count(), 1u);
  auto b2 = SharedArray::Attach(b_name.uri());
  ASSERT_TRUE(b2.ok());
  EXPECT_TRUE(b2->shape().empty());
  EXPECT_EQ(b2->data_size(), 2u);
}

TEST(SharedArray, MsyncMlockMunlock) {
  TempDir dir;
  const uint64_t shape[] = {100};
  auto a = SharedArray::Create("file://" + dir.File("m.arr"), shape, DType::kUInt8);
  ASSERT_TRUE(a.ok());
  (*a->MutableBytes())[99] = std::byte{0x5a};
  ASSERT_TRUE(a->Msync(MS_SYNC).ok());
  EXPECT_EQ(ReadFileOrDie(dir.File("m.arr"))[4096 + 99], '\x5a');
  EXPECT_TRUE(a->Msync(MS_ASYNC | MS_INVALIDATE).ok());
  Status bad = a->Msync(MS_SYNC | MS_ASYNC);
  EXPECT_TRUE(bad.IsIOError());
  EXPECT_EQ(bad.posix_errno(), EINVAL);
  EXPECT_TRUE(a->Mlock().ok());
  EXPECT_TRUE(a->Munlock().ok());
}

TEST(SharedArray, NpyHeaderMatchesNumpyFormat) {
  const uint64_t shape[] = {3, 4};
  std::string h = NpyHeader(DType::kFloat64, shape);
  ASSERT_EQ(h.size() % 64, 0u);
  EXPECT_EQ(h.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t len = static_cast<uint8_t>(h[8]) | static_cast<uint8_t>(h[9]) << 8;
  EXPECT_EQ(len + 10, h.size());
  const std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }";
  EXPECT_EQ(h.substr(10, dict.size()), dict);
  EXPECT_EQ(h.back(), '\n');
  EXPECT_EQ(h.find_first_not_of(' ', 10 + dict.size()), h.size() - 1);

  const uint64_t one[] = {5};
  EXPECT_TRUE(Contains(NpyHeader(DType::kBool, one), "'descr': '|b1'"));
  EXPECT_TRUE(Contains(NpyHeader(DType::kBool, one), "'shape': (5,), }"));
  EXPECT_TRUE(Contains(NpyHeader(DType::kInt16, {}), "'shape': (), }"));
  std::vector<uint64_t> many(32, UINT64_MAX);
  EXPECT_EQ(NpyHeader(DType::kUInt64, many).size() % 64, 0u);
}

// A tmpfs of 64 KiB mounted for the test, so that space runs out for real.
class TinyTmpfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, "size=64k") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno)
                   << "); the ENOSPC test needs CAP_SYS_ADMIN";
    }
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }
  TempDir dir_;
  bool mounted_ = false;
};

TEST_F(TinyTmpfsTest, CreateFailsWithEnospcAndLeavesNothing) {
  const std::string path = dir_.File("big.arr");
  const uint64_t shape[] = {1 << 20};
  auto a = SharedArray::Create("file://" + path, shape, DType::kFloat64);
  ASSERT_TRUE(a.status().IsIOError()) << a.status().ToString();
  EXPECT_EQ(a.status().posix_errno(), ENOSPC);
  EXPECT_TRUE(Contains(a.status().message(), "file://" + path));
  EXPECT_FALSE(std::filesystem::exists(path));
  // What fits is created, and its pages are really there.
  const uint64_t small[] = {1000};
  auto b = SharedArray::Create("file://" + dir_.File("small.arr"), small, DType::kInt8);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  auto data = b->MutableBytes();
  ASSERT_TRUE(data.ok());
  for (std::byte& x : *data) x = std::byte{1};
}

}  // namespace
}  // namespace mapfs
