// TypedArray tests: every operation checked against std::vector as the
// oracle over many seeded random steps, plus file growth and reopen, the
// on-disk format, read-only refusal and value range checks.
#include "mapfs/typed_array.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "test_util.h"

namespace mapfs {
namespace {

using ::mapfs::testing::ReadFileOrDie;
using ::mapfs::testing::TempDir;
using ::mapfs::testing::WriteFileOrDie;

off_t FileSize(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_size;
}

template <typename T>
std::string BytesOf(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// The oracle's slice: the indices of a[start:stop:step], written as the loop
// the Python reference describes (clamp the ends, then walk).
std::vector<size_t> SliceIndices(size_t size, std::optional<int64_t> start,
                                 std::optional<int64_t> stop, int64_t step) {
  const int64_t n = static_cast<int64_t>(size);
  std::vector<size_t> out;
  if (step > 0) {
    int64_t lo = start.value_or(0), hi = stop.value_or(n);
    if (lo < 0) lo = std::max<int64_t>(lo + n, 0);
    if (hi < 0) hi = std::max<int64_t>(hi + n, 0);
    lo = std::min(lo, n);
    hi = std::min(hi, n);
    for (int64_t i = lo; i < hi; i += step) out.push_back(static_cast<size_t>(i));
  } else {
    int64_t lo = start.value_or(n - 1), hi = stop.value_or(-1);
    if (start && lo < 0) lo = lo + n < 0 ? -1 : lo + n;
    if (stop && *stop < 0) hi = *stop + n < 0 ? -1 : *stop + n;
    lo = std::min(lo, n - 1);
    hi = std::min(hi, n - 1);
    for (int64_t i = lo; i > hi; i += step) out.push_back(static_cast<size_t>(i));
  }
  return out;
}

template <typename T, char kCode>
struct Code {
  using Type = T;
  static constexpr char kTypecode = kCode;
};

template <typename C>
class TypedArrayOracleTest : public ::testing::Test {};

using AllCodes =
    ::testing::Types<Code<int8_t, 'b'>, Code<uint8_t, 'B'>, Code<int16_t, 'h'>,
                     Code<uint16_t, 'H'>, Code<int32_t, 'i'>, Code<uint32_t, 'I'>,
                     Code<int64_t, 'l'>, Code<uint64_t, 'L'>, Code<int64_t, 'q'>,
                     Code<uint64_t, 'Q'>, Code<float, 'f'>, Code<double, 'd'>>;
TYPED_TEST_SUITE(TypedArrayOracleTest, AllCodes);

template <typename T>
T RandomValue(std::mt19937_64& rng) {
  if constexpr (std::is_floating_point_v<T>) {
    // Mostly small integers so that index/count/remove find repeats.
    if (rng() % 4 != 0) return static_cast<T>(static_cast<int>(rng() % 16) - 8);
    return static_cast<T>(std::uniform_real_distribution<double>(-1e6, 1e6)(rng));
  } else {
    if (rng() % 4 != 0) return static_cast<T>(rng() % 16);
    return static_cast<T>(rng());
  }
}

std::optional<int64_t> RandomBound(std::mt19937_64& rng, size_t size) {
  if (rng() % 5 == 0) return std::nullopt;
  int64_t span = static_cast<int64_t>(size) + 4;
  return static_cast<int64_t>(rng() % static_cast<uint64_t>(2 * span + 1)) - span;
}

TYPED_TEST(TypedArrayOracleTest, RandomOperationsMatchVector) {
  using T = typename TypeParam::Type;
  constexpr char kTypecode = TypeParam::kTypecode;
  TempDir dir;
  const std::string path = dir.File("a.arr");
  auto opened = TypedArray::OpenFile(path, kTypecode, FileMode::kTruncate);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  TypedArray a = std::move(opened).value();
  ASSERT_EQ(a.itemsize(), sizeof(T));
  std::vector<T> want;
  std::mt19937_64 rng(20240601 + kTypecode);

  for (int step = 0; step < 3000; ++step) {
    const int op = static_cast<int>(rng() % 17);
    SCOPED_TRACE("step " + std::to_string(step) + " op " + std::to_string(op));
    switch (op) {
      case 0: case 1: {  // append
        T v = RandomValue<T>(rng);
        ASSERT_TRUE(a.Append(v).ok());
        want.push_back(v);
        break;
      }
      case 2: {  // extend from values
        std::vector<Number> vals;
        for (size_t k = rng() % 40; k > 0; --k) {
          T v = RandomValue<T>(rng);
          vals.emplace_back(v);
          want.push_back(v);
        }
        ASSERT_TRUE(a.Extend(vals).ok());
        break;
      }
      case 3: {  // insert at any (even out-of-range) index
        T v = RandomValue<T>(rng);
        int64_t n = static_cast<int64_t>(want.size());
        int64_t i = static_cast<int64_t>(rng() % static_cast<uint64_t>(2 * n + 7)) - n - 3;
        ASSERT_TRUE(a.Insert(i, v).ok());
        int64_t w = i < 0 ? std::max<int64_t>(i + n, 0) : std::min(i, n);
        want.insert(want.begin() + w, v);
        break;
      }
      case 4: {  // pop
        if (want.empty()) {
          EXPECT_EQ(a.Pop().status().code(), StatusCode::kOutOfRange);
          break;
        }
        int64_t n = static_cast<int64_t>(want.size());
        int64_t i = static_cast<int64_t>(rng() % static_cast<uint64_t>(2 * n)) - n;
        auto got = a.Pop(i);
        ASSERT_TRUE(got.ok()) << got.status().ToString();
        size_t w = static_cast<size_t>(i < 0 ? i + n : i);
        EXPECT_EQ(*got, Number(want[w]));
        want.erase(want.begin() + static_cast<ptrdiff_t>(w));
        break;
      }
      case 5: {  // remove
        T v = RandomValue<T>(rng);
        auto it = std::find(want.begin(), want.end(), v);
        Status st = a.Remove(v);
        if (it == want.end()) {
          EXPECT_TRUE(st.IsNotFound()) << st.ToString();
        } else {
          ASSERT_TRUE(st.ok()) << st.ToString();
          want.erase(it);
        }
        break;
      }
      case 6: {  // index and count
        T v = RandomValue<T>(rng);
        auto it = std::find(want.begin(), want.end(), v);
        auto got = a.Index(v);
        if (it == want.end()) {
          EXPECT_TRUE(got.status().IsNotFound());
        } else {
          ASSERT_TRUE(got.ok());
          EXPECT_EQ(*got, static_cast<size_t>(it - want.begin()));
        }
        EXPECT_EQ(a.Count(v), static_cast<size_t>(std::count(want.begin(), want.end(), v)));
        break;
      }
      case 7: {  // reverse
        ASSERT_TRUE(a.Reverse().ok());
        std::reverse(want.begin(), want.end());
        break;
      }
      case 8: {  // set and get with Python indices
        if (want.empty()) {
          EXPECT_EQ(a.Get(0).status().code(), StatusCode::kOutOfRange);
          break;
        }
        int64_t n = static_cast<int64_t>(want.size());
        int64_t i = static_cast<int64_t>(rng() % static_cast<uint64_t>(2 * n)) - n;
        T v = RandomValue<T>(rng);
        ASSERT_TRUE(a.Set(i, v).ok());
        want[static_cast<size_t>(i < 0 ? i + n : i)] = v;
        auto got = a.Get(i);
        ASSERT_TRUE(got.ok());
        EXPECT_EQ(*got, Number(v));
        EXPECT_EQ(a.Get(n).status().code(), StatusCode::kOutOfRange);
        EXPECT_EQ(a.Get(-n - 1).status().code(), StatusCode::kOutOfRange);
        break;
      }
      case 9: {  // slice
        auto start = RandomBound(rng, want.size()), stop = RandomBound(rng, want.size());
        int64_t stp = static_cast<int64_t>(rng() % 7) - 3;
        if (stp == 0) {
          EXPECT_TRUE(a.Slice(start, stop, 0).status().IsInvalidArgument());
          break;
        }
        auto got = a.Slice(start, stop, stp);
        ASSERT_TRUE(got.ok()) << got.status().ToString();
        std::vector<T> expect;
        for (size_t i : SliceIndices(want.size(), start, stop, stp)) expect.push_back(want[i]);
        EXPECT_EQ(got->ToBytes(), BytesOf(expect));
        break;
      }
      case 10: {  // slice assignment, step 1: may resize
        auto start = RandomBound(rng, want.size()), stop = RandomBound(rng, want.size());
        auto src = TypedArray::Anonymous(kTypecode);
        ASSERT_TRUE(src.ok());
        std::vector<T> vals;
        for (size_t k = rng() % 12; k > 0; --k) vals.push_back(RandomValue<T>(rng));
        ASSERT_TRUE(src->FromBytes(BytesOf(vals)).ok());
        ASSERT_TRUE(a.AssignSlice(start, stop, 1, *src).ok());
        auto idx = SliceIndices(want.size(), start, stop, 1);
        // An empty slice inserts at its (clamped) start.
        int64_t n = static_cast<int64_t>(want.size());
        int64_t lo = start.value_or(0);
        lo = lo < 0 ? std::max<int64_t>(lo + n, 0) : std::min(lo, n);
        size_t from = idx.empty() ? static_cast<size_t>(lo) : idx.front();
        want.erase(want.begin() + static_cast<ptrdiff_t>(from),
                   want.begin() + static_cast<ptrdiff_t>(from + idx.size()));
        want.insert(want.begin() + static_cast<ptrdiff_t>(from), vals.begin(), vals.end());
        break;
      }
      case 11: {  // extended slice assignment: sizes must match
        auto start = RandomBound(rng, want.size()), stop = RandomBound(rng, want.size());
        int64_t stp = (rng() % 2 ? 1 : -1) * static_cast<int64_t>(2 + rng() % 3);
        if (rng() % 4 == 0) stp = -1;
        auto idx = SliceIndices(want.size(), start, stop, stp);
        auto src = TypedArray::Anonymous(kTypecode);
        ASSERT_TRUE(src.ok());
        std::vector<T> vals;
        for (size_t k = 0; k < idx.size(); ++k) vals.push_back(RandomValue<T>(rng));
        ASSERT_TRUE(src->FromBytes(BytesOf(vals)).ok());
        ASSERT_TRUE(src->Append(T{1}).ok());
        Status wrong = a.AssignSlice(start, stop, stp, *src);
        EXPECT_TRUE(wrong.IsInvalidArgument()) << wrong.ToString();
        ASSERT_TRUE(src->Pop().ok());
        ASSERT_TRUE(a.AssignSlice(start, stop, stp, *src).ok());
        for (size_t k = 0; k < idx.size(); ++k) want[idx[k]] = vals[k];
        break;
      }
      case 12: {  // delete slice
        auto start = RandomBound(rng, want.size()), stop = RandomBound(rng, want.size());
        int64_t stp = static_cast<int64_t>(rng() % 7) - 3;
        if (stp == 0) stp = 1;
        auto idx = SliceIndices(want.size(), start, stop, stp);
        ASSERT_TRUE(a.DeleteSlice(start, stop, stp).ok());
        std::sort(idx.begin(), idx.end(), std::greater<>());
        for (size_t i : idx) want.erase(want.begin() + static_cast<ptrdiff_t>(i));
        break;
      }
      case 13: {  // byteswap
        ASSERT_TRUE(a.ByteSwap().ok());
        for (T& v : want) {
          unsigned char b[sizeof(T)];
          std::memcpy(b, &v, sizeof b);
          std::reverse(b, b + sizeof b);
          std::memcpy(&v, b, sizeof b);
        }
        break;
      }
      case 14: {  // frombytes
        std::vector<T> vals;
        for (size_t k = rng() % 20; k > 0; --k) vals.push_back(RandomValue<T>(rng));
        ASSERT_TRUE(a.FromBytes(BytesOf(vals)).ok());
        want.insert(want.end(), vals.begin(), vals.end());
        if (sizeof(T) > 1) {
          EXPECT_TRUE(a.FromBytes("x").IsInvalidArgument());
        }
        break;
      }
      case 15: {  // extend from an array, sometimes itself
        if (rng() % 3 == 0 && want.size() < 2000) {
          ASSERT_TRUE(a.Extend(a).ok());
          std::vector<T> copy = want;
          want.insert(want.end(), copy.begin(), copy.end());
        } else {
          auto src = TypedArray::Anonymous(kTypecode);
          ASSERT_TRUE(src.ok());
          T v = RandomValue<T>(rng);
          ASSERT_TRUE(src->Append(v).ok());
          ASSERT_TRUE(a.Extend(*src).ok());
          want.push_back(v);
        }
        break;
      }
      case 16: {  // shrink now and then so the array does not only grow
        if (want.size() > 500) {
          ASSERT_TRUE(a.DeleteSlice(250, std::nullopt).ok());
          want.resize(250);
        }
        break;
      }
    }
    ASSERT_EQ(a.size(), want.size());
    ASSERT_EQ(a.ToBytes(), BytesOf(want));
  }
  // Iteration and ToVector agree with the oracle too.
  size_t i = 0;
  for (Number n : a) {
    ASSERT_LT(i, want.size());
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(want[i])) { ++i; continue; }
    }
    EXPECT_EQ(n, Number(want[i])) << i;
    ++i;
  }
  EXPECT_EQ(i, want.size());
  auto span = a.Span<T>();
  ASSERT_TRUE(span.ok());
  EXPECT_TRUE(std::equal(span->begin(), span->end(), want.begin(), want.end(),
                         [](T x, T y) { return std::memcmp(&x, &y, sizeof x) == 0; }));
  ASSERT_TRUE(a.Close().ok());
  EXPECT_EQ(ReadFileOrDie(path), BytesOf(want));
}

TEST(TypedArray, PythonSliceExamples) {
  auto a = TypedArray::Anonymous('i');
  ASSERT_TRUE(a.ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(a->Append(i).ok());
  auto check = [&](std::optional<int64_t> s, std::optional<int64_t> e, int64_t st,
                   std::vector<int32_t> want) {
    auto got = a->Slice(s, e, st);
    ASSERT_TRUE(got.ok());
    auto v = got->ToVector<int32_t>();
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(*v, want);
  };
  check(std::nullopt, std::nullopt, -2, {9, 7, 5, 3, 1});  // a[::-2]
  check(-3, std::nullopt, 1, {7, 8, 9});                    // a[-3:]
  check(8, 2, -3, {8, 5});                                  // a[8:2:-3]
  check(-100, 100, 4, {0, 4, 8});                           // a[-100:100:4]
  check(5, -100, -1, {5, 4, 3, 2, 1, 0});                   // a[5:-100:-1]
  check(3, 3, 1, {});                                       // a[3:3]
}

TEST(TypedArray, FileHoldsPlainLittleEndianItems) {
  TempDir dir;
  const std::string path = dir.File("le.arr");
  auto a = TypedArray::OpenFile(path, 'i', FileMode::kTruncate);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(a->Append(0x01020304).ok());
  ASSERT_TRUE(a->Append(-2).ok());
  ASSERT_TRUE(a->Sync().ok());
  EXPECT_EQ(ReadFileOrDie(path), std::string("\x04\x03\x02\x01\xfe\xff\xff\xff", 8));
}

TEST(TypedArray, GrowsAndReopensWithExactFileSize) {
  TempDir dir;
  const std::string path = dir.File("grow.arr");
  std::vector<uint64_t> want;
  {
    auto a = TypedArray::OpenFile(path, 'Q', FileMode::kTruncate);
    ASSERT_TRUE(a.ok());
    for (uint64_t i = 0; i < 100000; ++i) {
      ASSERT_TRUE(a->Append(i * 2654435761u).ok());
      want.push_back(i * 2654435761u);
    }
    // While open the file may hold spare capacity, never less than the items.
    EXPECT_GE(FileSize(path), static_cast<off_t>(want.size() * 8));
    EXPECT_GE(a->capacity(), a->size());
    ASSERT_TRUE(a->Sync().ok());
    EXPECT_EQ(FileSize(path), static_cast<off_t>(want.size() * 8));
    // Appends after a sync grow the trimmed file again.
    ASSERT_TRUE(a->Append(7u).ok());
    want.push_back(7);
    ASSERT_TRUE(a->Close().ok());
  }
  EXPECT_EQ(FileSize(path), static_cast<off_t>(want.size() * 8));
  {
    auto a = TypedArray::OpenFile(path, 'Q', FileMode::kReadWrite);
    ASSERT_TRUE(a.ok());
    ASSERT_EQ(a->size(), want.size());
    auto v = a->ToVector<uint64_t>();
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(*v, want);
    for (int i = 0; i < 5000; ++i) ASSERT_TRUE(a->Append(1u).ok());
    want.insert(want.end(), 5000, 1);
    // No Close(): the destructor trims too.
  }
  EXPECT_EQ(FileSize(path), static_cast<off_t>(want.size() * 8));
  auto a = TypedArray::OpenFile(path, 'Q', FileMode::kReadOnly);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a->ToVector<uint64_t>(), want);
}

TEST(TypedArray, TruncateModeEmptiesFile) {
  TempDir dir;
  const std::string path = dir.File("t.arr");
  WriteFileOrDie(path, std::string(16, 'x'));
  auto a = TypedArray::OpenFile(path, 'h', FileMode::kTruncate);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->size(), 0u);
  ASSERT_TRUE(a->Close().ok());
  EXPECT_EQ(FileSize(path), 0);
}

TEST(TypedArray, ReadOnlyRefusesWrites) {
  TempDir dir;
  const std::string path = dir.File("ro.arr");
  {
    auto a = TypedArray::OpenFile(path, 'd', FileMode::kTruncate);
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(a->Append(1.5).ok());
    ASSERT_TRUE(a->Append(-2.0).ok());
  }
  auto a = TypedArray::OpenFile(path, 'd', FileMode::kReadOnly);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->read_only());
  auto other = TypedArray::Anonymous('d');
  ASSERT_TRUE(other.ok());
  std::vector<Status> refusals = {a->Append(1.0),         a->Set(0, 3.0),
                                  a->Insert(0, 1.0),      a->Pop().status(),
                                  a->Remove(1.5),         a->Reverse(),
                                  a->ByteSwap(),          a->FromBytes(std::string(8, '\0')),
                                  a->Extend(*other),      a->AssignSlice(0, 0, 1, *other),
                                  a->DeleteSlice(0, 1),   a->Clear(),
                                  a->MutableSpan<double>().status()};
  for (const Status& st : refusals) {
    EXPECT_TRUE(st.IsIOError()) << st.ToString();
    EXPECT_EQ(st.posix_errno(), EROFS);
    EXPECT_NE(st.message().find("ro.arr"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("read-only"), std::string::npos) << st.message();
  }
  EXPECT_EQ(*a->ToVector<double>(), (std::vector<double>{1.5, -2.0}));
  EXPECT_EQ(*a->Index(-2.0), 1u);
  EXPECT_EQ(FileSize(path), 16);
}

TEST(TypedArray, RejectsValuesOutOfRangeForTypecode) {
  struct Case {
    char typecode;
    Number value;
  };
  const Case bad[] = {
      {'b', 128},  {'b', -129},       {'B', -1},         {'B', 256},
      {'h', 32768}, {'H', 65536},     {'H', -1},         {'i', int64_t{1} << 31},
      {'I', -1},   {'I', uint64_t{1} << 32}, {'l', ~uint64_t{0}}, {'q', uint64_t{1} << 63},
      {'L', -1},   {'Q', int64_t{-1}}, {'f', 1e39},      {'f', -1e39},
      {'i', 1.5},  {'q', 2.0},        {'B', 0.0},
  };
  for (const Case& c : bad) {
    SCOPED_TRACE(std::string(1, c.typecode) + " " + c.value.ToString());
    auto a = TypedArray::Anonymous(c.typecode);
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(a->Append(1).ok());
    EXPECT_TRUE(a->Append(c.value).IsInvalidArgument());
    EXPECT_TRUE(a->Set(0, c.value).IsInvalidArgument());
    EXPECT_TRUE(a->Insert(0, c.value).IsInvalidArgument());
    // Extend is all or nothing.
    std::vector<Number> vals = {2, c.value};
    EXPECT_TRUE(a->Extend(vals).IsInvalidArgument());
    EXPECT_EQ(a->size(), 1u);
    EXPECT_EQ(*a->Get(0), Number(1));
  }
  const Case good[] = {
      {'b', -128}, {'b', 127}, {'B', 255u}, {'h', -32768}, {'H', 65535},
      {'i', INT32_MIN}, {'I', UINT32_MAX}, {'q', INT64_MIN}, {'Q', UINT64_MAX},
      {'l', INT64_MAX}, {'L', UINT64_MAX}, {'f', 3.0e38}, {'f', INFINITY},
      {'d', -1e308}, {'d', 7}, {'f', uint64_t{1} << 40},
  };
  for (const Case& c : good) {
    SCOPED_TRACE(std::string(1, c.typecode) + " " + c.value.ToString());
    auto a = TypedArray::Anonymous(c.typecode);
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(a->Append(c.value).ok());
    if (c.typecode != 'f') {
      EXPECT_EQ(*a->Get(0), c.value);
    }
  }
}

TEST(TypedArray, RejectsBadTypecodeAndMisSizedFile) {
  EXPECT_TRUE(TypedArray::Anonymous('x').status().IsInvalidArgument());
  EXPECT_TRUE(TypedArray::Anonymous('u').status().IsInvalidArgument());
  TempDir dir;
  const std::string path = dir.File("odd.arr");
  WriteFileOrDie(path, std::string(6, '\0'));
  auto a = TypedArray::OpenFile(path, 'i', FileMode::kReadOnly);
  ASSERT_TRUE(a.status().IsCorruption()) << a.status().ToString();
  EXPECT_NE(a.status().message().find("odd.arr"), std::string::npos);
  EXPECT_TRUE(TypedArray::OpenFile(path, 'h', FileMode::kReadOnly).ok());
  EXPECT_TRUE(TypedArray::OpenFile(dir.path(), 'h', FileMode::kReadOnly)
                  .status().IsInvalidArgument());
  EXPECT_TRUE(TypedArray::OpenFile(dir.File("missing"), 'h', FileMode::kReadOnly)
                  .status().IsIOError());
}

TEST(TypedArray, SliceAssignmentNeedsSameTypecode) {
  auto a = TypedArray::Anonymous('I');
  auto b = TypedArray::Anonymous('b');
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(a->Extend(std::vector<Number>{1, 1, 1, 1}).ok());
  ASSERT_TRUE(b->Extend(std::vector<Number>{3, 3}).ok());
  EXPECT_TRUE(a->AssignSlice(2, 4, 1, *b).IsInvalidArgument());
  EXPECT_TRUE(a->Extend(*b).IsInvalidArgument());
  EXPECT_TRUE(a->AssignSlice(0, 4, 0, *a).IsInvalidArgument());
  // a[2:4] = a  (self-assignment copies first)
  ASSERT_TRUE(a->AssignSlice(2, 4, 1, *a).ok());
  EXPECT_EQ(*a->ToVector<uint32_t>(), (std::vector<uint32_t>{1, 1, 1, 1, 1, 1}));
  EXPECT_TRUE(a->Span<int32_t>().status().IsInvalidArgument());
  EXPECT_TRUE(a->Span<uint32_t>().ok());
}

TEST(TypedArray, NumbersCompareExactlyAcrossKinds) {
  EXPECT_EQ(Number(1), Number(1u));
  EXPECT_EQ(Number(1), Number(1.0));
  EXPECT_NE(Number(-1), Number(~uint64_t{0}));
  EXPECT_NE(Number((int64_t{1} << 53) + 1), Number(9007199254740992.0));
  EXPECT_NE(Number(NAN), Number(NAN));
  auto a = TypedArray::Anonymous('d');
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(a->Extend(std::vector<Number>{1.0, 2.5, 1, NAN}).ok());
  EXPECT_EQ(a->Count(1), 2u);
  EXPECT_EQ(a->Count(NAN), 0u);
  EXPECT_EQ(*a->Index(2.5), 1u);
  auto b = TypedArray::Anonymous('h');
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(b->Extend(std::vector<Number>{5, 6, 5}).ok());
  EXPECT_EQ(b->Count(5.0), 2u);
  EXPECT_EQ(b->Count(5.5), 0u);
  EXPECT_EQ(b->Count(70000), 0u);  // not an error: it is simply absent
  EXPECT_EQ(*b->Index(5, 1), 2u);
  EXPECT_TRUE(b->Index(5, 1, 2).status().IsNotFound());
  EXPECT_EQ(*b->Index(6, -2), 1u);
}

TEST(TypedArray, AnonymousArrayIsSharedAcrossFork) {
  auto a = TypedArray::Anonymous('i');
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(a->Extend(std::vector<Number>{0, 0, 0}).ok());
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(a->Set(1, 42).ok() ? 0 : 1);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(*a->Get(1), Number(42));
}

TEST(TypedArray, ClosedArrayRefusesWrites) {
  TempDir dir;
  auto a = TypedArray::OpenFile(dir.File("c.arr"), 'B', FileMode::kTruncate);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(a->Append(1).ok());
  ASSERT_TRUE(a->Close().ok());
  EXPECT_EQ(a->size(), 0u);
  EXPECT_TRUE(a->Append(2).IsInvalidArgument());
}

}  // namespace
}  // namespace mapfs
