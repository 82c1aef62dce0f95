// Shared arrays as mount sources (docs/layout.md, "Shared arrays"): the root
// of a `shm://` or `file://` source holds one `<name>.npy` file whose bytes
// are the .npy header and the array's live data.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "mapfs/shared_array.h"
#include "test_util.h"
#include "tree.h"
#include "tree_test_util.h"

namespace mapfs::fs {
namespace {

using mapfs::testing::TempDir;

std::string Bytes(const SharedArray& a) {
  return std::string(reinterpret_cast<const char*>(a.bytes().data()), a.bytes().size());
}

// A uniquely named shm array, removed on destruction.
class ShmArray {
 public:
  ShmArray(std::vector<uint64_t> shape, DType dtype) {
    name_ = "mapfs-fs-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++);
    Result<SharedArray> a = SharedArray::Create("shm://" + name_, shape, dtype);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    if (a.ok()) array_ = std::make_unique<SharedArray>(std::move(a).value());
  }
  ~ShmArray() { (void)SharedArray::Remove("shm://" + name_); }
  const std::string& name() const { return name_; }
  std::string uri() const { return "shm://" + name_; }
  SharedArray& array() { return *array_; }

 private:
  static inline int counter_ = 0;
  std::string name_;
  std::unique_ptr<SharedArray> array_;
};

TEST(ArraySource, ShmRootHoldsOneNpyFile) {
  ShmArray shm({3, 4}, DType::kFloat64);
  auto tree = Tree::Open(shm.uri());
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  EXPECT_TRUE((*tree)->has_live_files());
  NodeAttr root = (*tree)->GetAttr(kRootIno).value();
  EXPECT_TRUE(root.is_dir);
  std::vector<std::string> names;
  for (auto& [name, a] : List(**tree, kRootIno, false)) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{".", "..", shm.name() + ".npy"}));
}

TEST(ArraySource, NpyFileHasExactSizeHeaderAndData) {
  ShmArray shm({3, 4}, DType::kFloat64);
  auto values = shm.array().MutableSpan<double>().value();
  for (size_t i = 0; i < values.size(); ++i) values[i] = 0.5 * static_cast<double>(i);
  auto tree = Tree::Open(shm.uri()).value();
  Result<NodeAttr> file = tree->Lookup(kRootIno, shm.name() + ".npy");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_FALSE(file->is_dir);
  EXPECT_TRUE(file->live);
  const std::string header = NpyHeader(DType::kFloat64, std::vector<uint64_t>{3, 4});
  EXPECT_EQ(header.size() % 64, 0u);
  EXPECT_EQ(file->size, header.size() + 96);
  EXPECT_EQ(tree->GetAttr(file->ino).value().size, file->size);
  EXPECT_EQ(ReadAll(*tree, file->ino), header + Bytes(shm.array()));
}

TEST(ArraySource, ReadsSeeLaterWrites) {
  ShmArray shm({5}, DType::kInt32);
  auto tree = Tree::Open(shm.uri()).value();
  const uint64_t ino = tree->Lookup(kRootIno, shm.name() + ".npy").value().ino;
  const std::string before = ReadAll(*tree, ino);
  shm.array().MutableSpan<int32_t>().value()[4] = 0x01020304;
  const std::string after = ReadAll(*tree, ino);
  ASSERT_EQ(after.size(), before.size());
  int32_t last;
  std::memcpy(&last, after.data() + after.size() - 4, 4);
  EXPECT_EQ(last, 0x01020304);
}

TEST(ArraySource, ReaddirPlusGivesTheFileSize) {
  ShmArray shm({2, 2}, DType::kUInt8);
  auto tree = Tree::Open(shm.uri()).value();
  auto entries = List(*tree, kRootIno, true);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_FALSE(entries[2].second.is_dir);
  EXPECT_EQ(entries[2].second.size,
            NpyHeader(DType::kUInt8, std::vector<uint64_t>{2, 2}).size() + 4);
  EXPECT_EQ(entries[2].second.ino, tree->Lookup(kRootIno, entries[2].first).value().ino);
}

TEST(ArraySource, FileUriAndPlainPathAreNamedByTheirStem) {
  TempDir dir;
  const std::string path = dir.File("frames.arr");
  ASSERT_TRUE(SharedArray::Create("file://" + path, std::vector<uint64_t>{2}, DType::kInt64).ok());
  for (const std::string& source : {"file://" + path, path}) {
    auto tree = Tree::Open(source);
    ASSERT_TRUE(tree.ok()) << source << ": " << tree.status().ToString();
    Result<NodeAttr> file = (*tree)->Lookup(kRootIno, "frames.npy");
    ASSERT_TRUE(file.ok()) << source << ": " << file.status().ToString();
    EXPECT_EQ(file->size, NpyHeader(DType::kInt64, std::vector<uint64_t>{2}).size() + 16);
  }
}

TEST(ArraySource, OtherNamesAreNotFound) {
  ShmArray shm({1}, DType::kUInt8);
  auto tree = Tree::Open(shm.uri()).value();
  EXPECT_TRUE(tree->Lookup(kRootIno, shm.name()).status().IsNotFound());
  EXPECT_TRUE(tree->Lookup(kRootIno, "@info").status().IsNotFound());
  const uint64_t ino = tree->Lookup(kRootIno, shm.name() + ".npy").value().ino;
  EXPECT_FALSE(tree->Lookup(ino, "x").ok());
  EXPECT_FALSE(tree->ReadDir(ino, 0, false, [](auto, auto&, auto) { return true; }).ok());
}

TEST(ArraySource, MissingShmIsNotFound) {
  auto tree = Tree::Open("shm://mapfs-fs-test-no-such-array-" + std::to_string(::getpid()));
  EXPECT_TRUE(tree.status().IsNotFound()) << tree.status().ToString();
}

TEST(ArraySource, InvalidHeaderIsRefusedAsTheWholeMount) {
  TempDir dir;
  const std::string path = dir.File("bad.arr");
  // The magic, then a header that claims more data than the file holds.
  std::string bytes(4096, '\0');
  std::memcpy(bytes.data(), "MAPFSARR", 8);
  bytes[8] = 1;      // version
  bytes[12] = 3;     // int64
  bytes[13] = 1;     // ndim
  bytes[17] = 0x10;  // data_offset 4096
  bytes[24] = 80;    // data_size
  bytes[32] = 10;    // shape[0]
  testing::WriteFileOrDie(path, bytes);
  auto tree = Tree::Open(path);
  EXPECT_TRUE(tree.status().IsCorruption()) << tree.status().ToString();
  for (size_t cut : {size_t{0}, size_t{8}, size_t{100}}) {
    testing::WriteFileOrDie(path, bytes.substr(0, cut));
    EXPECT_FALSE(Tree::Open("file://" + path).ok()) << cut;
  }
}

TEST(ArraySource, DirectoryShowsArrayFilesAsNpy) {
  TempDir dir;
  ASSERT_TRUE(
      SharedArray::Create("file://" + dir.File("a.arr"), std::vector<uint64_t>{3}, DType::kUInt16)
          .ok());
  ASSERT_TRUE(
      SharedArray::Create("file://" + dir.File("a.other"), std::vector<uint64_t>{1}, DType::kUInt8)
          .ok());
  testing::WriteFileOrDie(dir.File("broken.arr"), "MAPFSARR but no header");
  testing::WriteFileOrDie(dir.File("notes.txt"), "ignored");
  auto tree = Tree::Open(dir.path()).value();
  EXPECT_TRUE(tree->has_live_files());
  std::vector<std::string> names;
  for (auto& [name, a] : List(*tree, kRootIno, false)) {
    names.push_back(name);
    if (name.ends_with(".npy")) {
      EXPECT_FALSE(a.is_dir) << name;
    }
  }
  // "a.other" would also be a.npy: the first file in name order keeps it.
  EXPECT_EQ(names, (std::vector<std::string>{".", "..", "a.npy", "broken.npy"}));
  Result<NodeAttr> a = tree->Lookup(kRootIno, "a.npy");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->size, NpyHeader(DType::kUInt16, std::vector<uint64_t>{3}).size() + 6);
  EXPECT_TRUE(tree->Lookup(kRootIno, "broken.npy").status().IsCorruption());
}

TEST(ArraySource, DirectoryWithoutArraysHasNoLiveFiles) {
  TempDir dir;
  testing::WriteFileOrDie(dir.File("notes.txt"), "ignored");
  EXPECT_FALSE(Tree::Open(dir.path()).value()->has_live_files());
}

}  // namespace
}  // namespace mapfs::fs
