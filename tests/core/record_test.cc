// Records: every type packed and read back through views, the JSON rendering,
// pack errors, and the byte-exact golden encoding.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "mapfs/record.h"
#include "record_test_data.h"
#include "test_util.h"

namespace mapfs {
namespace {

using testing::MakeSchema;

// Packs `v` as a one-field record {v: type} and returns the field's view plus
// the materialized copy; the buffer stays alive in `holder`.
struct OneField {
  Schema schema;
  std::string bytes;
  View field;
};

OneField PackOne(const std::string& type_text, const Value& v) {
  OneField r{MakeSchema({{"R", "", {{"v", type_text}}}, {"P", "P", {{"x", "float64"}, {"y", "float64"}}}}),
             "", View()};
  auto packed = Pack(r.schema, 0, Value::Struct("R", {{"v", v}}));
  EXPECT_TRUE(packed.ok()) << packed.status().ToString();
  if (!packed.ok()) return r;
  r.bytes = *packed;
  auto rec = ViewRecord(r.schema, 0, r.bytes);
  EXPECT_TRUE(rec.ok()) << rec.status().ToString();
  EXPECT_TRUE(Verify(*rec).ok());
  auto f = rec->Field(0);
  EXPECT_TRUE(f.ok());
  r.field = *f;
  return r;
}

// Round trip through pack, view and materialize; returns the materialized value.
Value RoundTrip(const std::string& type_text, const Value& v) {
  OneField r = PackOne(type_text, v);
  auto m = Materialize(r.field);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? *m : Value();
}

std::string Json(const std::string& type_text, const Value& v) {
  OneField r = PackOne(type_text, v);
  std::string out;
  Status st = RenderJson(r.field, &out);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

TEST(Record, IntsRoundTripAtTheirLimits) {
  EXPECT_EQ(RoundTrip("int8", Value::Int(-128)), Value::Int(-128));
  EXPECT_EQ(RoundTrip("int8", Value::Int(127)), Value::Int(127));
  EXPECT_EQ(RoundTrip("int16", Value::Int(-32768)), Value::Int(-32768));
  EXPECT_EQ(RoundTrip("int32", Value::Int(INT32_MIN)), Value::Int(INT32_MIN));
  EXPECT_EQ(RoundTrip("int64", Value::Int(INT64_MIN)), Value::Int(INT64_MIN));
  EXPECT_EQ(RoundTrip("int64", Value::Int(INT64_MAX)), Value::Int(INT64_MAX));
  EXPECT_EQ(RoundTrip("uint8", Value::Int(255)), Value::Int(255));
  EXPECT_EQ(RoundTrip("uint32", Value::UInt(UINT32_MAX)), Value::Int(UINT32_MAX));
  EXPECT_EQ(RoundTrip("uint64", Value::UInt(UINT64_MAX)), Value::UInt(UINT64_MAX));
  EXPECT_EQ(Json("uint64", Value::UInt(UINT64_MAX)), "18446744073709551615");
  EXPECT_EQ(Json("int64", Value::Int(INT64_MIN)), "-9223372036854775808");
}

TEST(Record, IntOutOfRangeIsRejectedWithTheFieldName) {
  Schema schema = MakeSchema({{"R", "", {{"age", "int8"}}}});
  auto r = Pack(schema, 0, Value::Struct("R", {{"age", Value::Int(128)}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "field \"age\": value 128 out of range for int8");
  auto neg = Pack(MakeSchema({{"R", "", {{"n", "uint64"}}}}), 0,
                  Value::Struct("R", {{"n", Value::Int(-1)}}));
  EXPECT_FALSE(neg.ok());
}

TEST(Record, FloatsKeepNanInfinityAndNegativeZero) {
  double nan = std::numeric_limits<double>::quiet_NaN();
  double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(RoundTrip("float64", Value::Float(nan)), Value::Float(nan));
  EXPECT_EQ(RoundTrip("float64", Value::Float(-inf)), Value::Float(-inf));
  Value negzero = RoundTrip("float64", Value::Float(-0.0));
  EXPECT_TRUE(std::signbit(negzero.as_float()));
  EXPECT_EQ(RoundTrip("float32", Value::Float(0.1)), Value::Float(static_cast<float>(0.1)));
  EXPECT_EQ(Json("float64", Value::Float(nan)), "\"NaN\"");
  EXPECT_EQ(Json("float64", Value::Float(-inf)), "\"-Infinity\"");
  EXPECT_EQ(Json("float64", Value::Float(-0.0)), "-0.0");
  EXPECT_EQ(Json("float64", Value::Float(42.0)), "42.0");
  EXPECT_EQ(Json("float32", Value::Float(0.1)), "0.1");
  EXPECT_EQ(Json("float64", Value::Float(0.1)), "0.1");
}

TEST(Record, StringsAndBytesAreZeroCopyViews) {
  std::string big(65536, 'x');
  big[100] = '\xc3';  // keep it valid UTF-8: "é" spliced in
  big[101] = '\xa9';
  OneField r = PackOne("str", Value::Str(big));
  std::string_view s = r.field.as_str();
  EXPECT_EQ(s, big);
  EXPECT_GE(s.data(), r.bytes.data());
  EXPECT_LE(s.data() + s.size(), r.bytes.data() + r.bytes.size());
  EXPECT_EQ(RoundTrip("str", Value::Str("")), Value::Str(""));
  EXPECT_EQ(RoundTrip("str", Value::Str("日本語 ✓ \U0001F600")), Value::Str("日本語 ✓ \U0001F600"));
  std::string binary("\x00\xff\x80\n", 4);
  EXPECT_EQ(RoundTrip("bytes", Value::Bytes(binary)), Value::Bytes(binary));
  EXPECT_EQ(Json("bytes", Value::Bytes("hello")), "\"aGVsbG8=\"");
  EXPECT_EQ(Json("str", Value::Str("a\"b\n")), "\"a\\\"b\\n\"");
}

TEST(Record, InvalidUtf8StrIsRejected) {
  Schema schema = MakeSchema({{"R", "", {{"s", "str"}}}});
  auto r = Pack(schema, 0, Value::Struct("R", {{"s", Value::Str("\xff\xfe")}}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("UTF-8"), std::string::npos);
}

TEST(Record, DatesAndDatetimesCoverTheirWholeRange) {
  Value first = Value::FromDate(Date{-719162});  // 0001-01-01
  Value last = Value::FromDate(Date{2932896});   // 9999-12-31
  EXPECT_EQ(RoundTrip("date", first), first);
  EXPECT_EQ(RoundTrip("date", last), last);
  EXPECT_EQ(Json("date", first), "\"0001-01-01\"");
  EXPECT_EQ(Json("date", last), "\"9999-12-31\"");
  Value micro = Value::FromDateTime(DateTime{1700000000123456});
  EXPECT_EQ(RoundTrip("datetime", micro), micro);
  EXPECT_EQ(Json("datetime", micro), "\"2023-11-14T22:13:20.123456Z\"");
  EXPECT_EQ(Json("datetime", Value::FromDateTime(DateTime{0})), "\"1970-01-01T00:00:00Z\"");
}

TEST(Record, DecimalsAreExact) {
  Decimal tenth{Decimal::Kind::kFinite, false, "1", -1};
  Decimal big{Decimal::Kind::kFinite, true, "123456789012345678901234567890", 1000};
  Decimal trailing{Decimal::Kind::kFinite, false, "150", -2};
  Decimal nan{Decimal::Kind::kNaN, false, "", 0};
  for (const Decimal& d : {tenth, big, trailing, nan}) {
    EXPECT_EQ(RoundTrip("decimal", Value::FromDecimal(d)), Value::FromDecimal(d));
  }
  EXPECT_EQ(Json("decimal", Value::FromDecimal(tenth)), "\"0.1\"");
  EXPECT_EQ(Json("decimal", Value::FromDecimal(trailing)), "\"1.50\"");
  EXPECT_EQ(Json("decimal", Value::FromDecimal(nan)), "\"NaN\"");
}

TEST(Record, IntListsUseTheNarrowestWidth) {
  std::vector<Value> small, wide;
  for (int i = 0; i < 100; ++i) {
    small.push_back(Value::Int(i - 50));
    wide.push_back(Value::Int(int64_t{i} << 40));
  }
  OneField s = PackOne("list<int64>", Value::List(small));
  OneField w = PackOne("list<int64>", Value::List(wide));
  EXPECT_LT(s.bytes.size() + 100 * 6, w.bytes.size());
  EXPECT_EQ(RoundTrip("list<int64>", Value::List(small)), Value::List(small));
  EXPECT_EQ(RoundTrip("list<int64>", Value::List(wide)), Value::List(wide));
  auto e = s.field.At(7);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->as_int(), -43);
}

TEST(Record, ContainersRoundTrip) {
  Value list = Value::List({Value::Str("a"), Value::Str(""), Value::Str("a")});
  EXPECT_EQ(RoundTrip("list<str>", list), list);
  EXPECT_EQ(RoundTrip("list<str>", Value::List({})), Value::List({}));
  Value tuple = Value::Tuple({Value::Str("x"), Value::Int(3)});
  EXPECT_EQ(RoundTrip("tuple<str, int64>", tuple), tuple);
  Value tuple_null = Value::Tuple({Value::Null(), Value::Int(3)});
  EXPECT_EQ(RoundTrip("tuple<str, int64>", tuple_null), tuple_null);
  Value any = Value::Tuple({Value::Int(1), Value::Str("b"), Value::Null(), Value::Float(2.5)});
  EXPECT_EQ(RoundTrip("tuple", any), any);
  Value dict = Value::Dict({{Value::Int(2), Value::Str("two")}, {Value::Int(-1), Value::Str("m")}});
  Value sorted = Value::Dict({{Value::Int(-1), Value::Str("m")}, {Value::Int(2), Value::Str("two")}});
  EXPECT_EQ(RoundTrip("dict<int64, str>", dict), sorted);
  Value tuple_keys = Value::Dict({{Value::Tuple({Value::Str("b"), Value::Int(1)}), Value::Float(1)},
                                  {Value::Tuple({Value::Str("a"), Value::Int(2)}), Value::Float(2)}});
  Value got = RoundTrip("dict<tuple<str, int64>, float64>", tuple_keys);
  ASSERT_EQ(got.dict_size(), 2u);
  EXPECT_EQ(got.dict_key(0), Value::Tuple({Value::Str("a"), Value::Int(2)}));
  EXPECT_EQ(Json("dict<int64, str>", dict), "{\"-1\":\"m\",\"2\":\"two\"}");
}

TEST(Record, FrozensetsAreSortedUniqueAndSearchable) {
  std::vector<Value> dense, sparse;
  for (int i = 0; i < 200; i += 3) dense.push_back(Value::Int(1000 + i));
  dense.push_back(Value::Int(1000));  // duplicate
  for (int i = 0; i < 20; ++i) sparse.push_back(Value::Int((int64_t{i} * 7919) << 33));
  OneField d = PackOne("frozenset<int64>", Value::FrozenSet(dense));
  EXPECT_EQ(d.field.size(), 67u);
  EXPECT_LT(d.bytes.size(), 67u);  // bitmap: fewer bytes than members
  for (int i = 990; i < 1210; ++i) {
    EXPECT_EQ(d.field.Contains(int64_t{i}).value(), i >= 1000 && i < 1200 && (i - 1000) % 3 == 0) << i;
  }
  auto third = d.field.At(2);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->as_int(), 1006);
  OneField s = PackOne("frozenset<int64>", Value::FrozenSet(sparse));
  EXPECT_TRUE(s.field.Contains(int64_t{7919} << 33).value());
  EXPECT_FALSE(s.field.Contains(int64_t{7919}).value());
  OneField strs = PackOne("frozenset<str>", Value::FrozenSet({Value::Str("pear"), Value::Str("apple"),
                                                              Value::Str("fig"), Value::Str("apple")}));
  EXPECT_EQ(strs.field.size(), 3u);
  EXPECT_TRUE(strs.field.Contains(std::string_view("fig")).value());
  EXPECT_FALSE(strs.field.Contains(std::string_view("kiwi")).value());
  std::string json;
  ASSERT_TRUE(RenderJson(strs.field, &json).ok());
  EXPECT_EQ(json, "[\"apple\",\"fig\",\"pear\"]");
  Value objects = Value::FrozenSet({Value::Str("x"), Value::Int(5), Value::Tuple({Value::Int(1)})});
  OneField o = PackOne("frozenset", objects);
  EXPECT_TRUE(o.field.Contains(Value::Tuple({Value::Int(1)})).value());
  EXPECT_TRUE(o.field.Contains(Value::Int(5)).value());
  EXPECT_FALSE(o.field.Contains(Value::Str("y")).value());
}

TEST(Record, DictLookupByKey) {
  std::vector<std::pair<Value, Value>> items;
  for (int i = 0; i < 50; ++i) items.emplace_back(Value::Str("k" + std::to_string(i)), Value::Int(i));
  OneField r = PackOne("dict<str, object>", Value::Dict(items));
  auto hit = r.field.Find(std::string_view("k42"));
  ASSERT_TRUE(hit.ok());
  ASSERT_TRUE(hit->has_value());
  EXPECT_EQ((*hit)->as_int(), 42);
  EXPECT_FALSE(r.field.Find(std::string_view("k50"))->has_value());
  OneField ints = PackOne("dict<int32, str>", Value::Dict({{Value::Int(-5), Value::Str("neg")},
                                                            {Value::Int(9), Value::Str("nine")}}));
  EXPECT_EQ((*ints.field.Find(int64_t{-5}))->as_str(), "neg");
  EXPECT_FALSE(ints.field.Find(int64_t{5})->has_value());
  OneField dates = PackOne("dict<date, int64>", Value::Dict({{Value::FromDate(Date{3}), Value::Int(3)}}));
  EXPECT_EQ((*dates.field.Find(Value::FromDate(Date{3})))->as_int(), 3);
}

TEST(Record, DuplicateDictKeysAreRejected) {
  Schema schema = MakeSchema({{"R", "", {{"d", "dict<str, int64>"}}}});
  auto r = Pack(schema, 0, Value::Struct("R", {{"d", Value::Dict({{Value::Str("a"), Value::Int(1)},
                                                                  {Value::Str("a"), Value::Int(2)}})}}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("duplicate dict key"), std::string::npos);
}

TEST(Record, NdarraysOfEveryDtypeAndShape) {
  for (int d = 0; d < kDTypeCount; ++d) {
    DType dtype = static_cast<DType>(d);
    NdArray a{dtype, {2, 3}, std::string(6 * DTypeSize(dtype), '\x01')};
    std::string type = "ndarray<" + std::string(DTypeName(dtype)) + ">";
    EXPECT_EQ(RoundTrip(type, Value::FromNdArray(a)), Value::FromNdArray(a)) << type;
  }
  NdArray empty{DType::kFloat32, {2, 0}, ""};
  EXPECT_EQ(RoundTrip("ndarray<float32>", Value::FromNdArray(empty)), Value::FromNdArray(empty));
  EXPECT_EQ(Json("ndarray<float32>", Value::FromNdArray(empty)), "[[],[]]");
  double x = 2.5;
  NdArray scalar{DType::kFloat64, {}, std::string(reinterpret_cast<char*>(&x), 8)};
  EXPECT_EQ(Json("ndarray", Value::FromNdArray(scalar)), "2.5");
  int32_t m[6] = {1, 2, 3, 4, 5, -6};
  NdArray matrix{DType::kInt32, {2, 3}, std::string(reinterpret_cast<char*>(m), sizeof m)};
  OneField r = PackOne("ndarray<int32>", Value::FromNdArray(matrix));
  EXPECT_EQ((r.field.ndarray_data().data() - r.bytes.data()) % 4, 0);
  std::string json;
  ASSERT_TRUE(RenderJson(r.field, &json).ok());
  EXPECT_EQ(json, "[[1,2,3],[4,5,-6]]");
  Schema schema = MakeSchema({{"R", "", {{"v", "ndarray<float32>"}}}});
  EXPECT_FALSE(Pack(schema, 0, Value::Struct("R", {{"v", Value::FromNdArray(matrix)}})).ok());
}

TEST(Record, ObjectsCarryTheirRunTimeType) {
  Value inner = Value::Struct("P", {{"x", Value::Float(1)}, {"y", Value::Float(-2)}});
  std::vector<Value> values = {
      Value::Int(-7), Value::UInt(UINT64_MAX), Value::Float(1.5), Value::Bool(true),
      Value::Str("s"), Value::Bytes("b"), Value::FromDate(Date{1}), Value::FromDateTime(DateTime{2}),
      Value::FromDecimal(Decimal{Decimal::Kind::kFinite, true, "5", -3}),
      Value::List({Value::Int(1), Value::Null()}), Value::Tuple({Value::Str("t")}),
      Value::FrozenSet({Value::Int(2), Value::Int(1)}),
      Value::Dict({{Value::Str("k"), Value::List({})}}), inner,
      Value::FromNdArray(NdArray{DType::kUInt8, {3}, "abc"})};
  for (const Value& v : values) {
    Value got = RoundTrip("object", v);
    if (v.kind() == Value::Kind::kFrozenSet) {
      EXPECT_EQ(got, Value::FrozenSet({Value::Int(1), Value::Int(2)}));
    } else {
      EXPECT_EQ(got, v) << v.DebugString() << " vs " << got.DebugString();
    }
  }
  EXPECT_EQ(Json("object", inner), "{\"x\":1.0,\"y\":-2.0}");
  OneField r = PackOne("object", inner);
  EXPECT_EQ(r.field.kind(), TypeKind::kStruct);
  EXPECT_EQ(r.field.struct_def().name, "P");
}

TEST(Record, StructWithoutTypecodeCannotBeAnObject) {
  Schema schema = MakeSchema({{"R", "", {{"o", "object"}}}, {"Q", "", {{"a", "int8"}}}});
  auto r = Pack(schema, 0, Value::Struct("R", {{"o", Value::Struct("Q", {{"a", Value::Int(1)}})}}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no typecode"), std::string::npos);
}

TEST(Record, AbsentFieldsAreNullAndCostNoSlot) {
  Schema schema = testing_data::PersonSchema();
  int person = *schema.FindStruct("Person");
  auto bytes = Pack(schema, person, Value::Struct("Person", {}));
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->size(), 3u);  // the 17-bit presence bitmap only
  auto rec = ViewRecord(schema, person, *bytes);
  ASSERT_TRUE(rec.ok());
  for (size_t i = 0; i < rec->size(); ++i) EXPECT_TRUE(rec->Field(static_cast<int>(i))->is_null());
  std::string json;
  ASSERT_TRUE(RenderJson(*rec, &json).ok());
  EXPECT_EQ(json.find("\"id\":null"), 1u);
}

TEST(Record, FieldsReadByNameAndIndex) {
  Schema schema = testing_data::PersonSchema();
  int person = *schema.FindStruct("Person");
  auto bytes = Pack(schema, person, testing_data::SamplePerson());
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto rec = ViewRecord(schema, person, *bytes);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->Field("name")->as_str(), "Ada Lovelace");
  EXPECT_EQ(rec->Field("age")->as_int(), 36);
  EXPECT_EQ(rec->Field("home")->Field("y")->as_float(), -0.5);
  EXPECT_TRUE(rec->Field("tags")->Contains(int64_t{3}).value());
  EXPECT_TRUE(rec->Field("nope").status().IsNotFound());
  auto m = Materialize(*rec);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, testing_data::SamplePerson());
}

TEST(Record, IdenticalStringsInARecordAreStoredOnce) {
  Schema schema = MakeSchema({{"R", "", {{"a", "str"}, {"b", "str"}, {"c", "list<str>"}}}});
  std::string s(100, 'q');
  auto same = Pack(schema, 0, Value::Struct("R", {{"a", Value::Str(s)}, {"b", Value::Str(s)},
                                                  {"c", Value::List({Value::Str(s)})}}));
  auto differ = Pack(schema, 0, Value::Struct("R", {{"a", Value::Str(s)}, {"b", Value::Str(s + "!")},
                                                    {"c", Value::List({Value::Str(s + "?")})}}));
  ASSERT_TRUE(same.ok() && differ.ok());
  EXPECT_LT(same->size() + 200, differ->size());
  auto rec = ViewRecord(schema, 0, *same);
  EXPECT_EQ(rec->Field(0)->as_str().data(), rec->Field(1)->as_str().data());
}

TEST(Record, DeepNestingIsBounded) {
  Schema schema = MakeSchema({{"R", "", {{"v", "object"}}}});
  Value deep = Value::Int(1);
  for (int i = 0; i < 60; ++i) deep = Value::List({deep});
  EXPECT_TRUE(Pack(schema, 0, Value::Struct("R", {{"v", deep}})).ok());
  for (int i = 0; i < 10; ++i) deep = Value::List({deep});
  auto r = Pack(schema, 0, Value::Struct("R", {{"v", deep}}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nested deeper"), std::string::npos);
}

TEST(Record, PackIntoRefusesASmallBufferAndLeavesItUntouched) {
  Schema schema = testing_data::PersonSchema();
  int person = *schema.FindStruct("Person");
  std::vector<uint8_t> buffer(16, 0xAB);
  auto r = PackInto(schema, person, testing_data::SamplePerson(), buffer, 4);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(buffer, std::vector<uint8_t>(16, 0xAB));
  std::vector<uint8_t> big(4096, 0);
  auto size = PackInto(schema, person, testing_data::SamplePerson(), big, 100);
  ASSERT_TRUE(size.ok());
  std::string_view all(reinterpret_cast<const char*>(big.data()), big.size());
  auto rec = ViewRecordAt(schema, person, all, 100);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->Field("name")->as_str(), "Ada Lovelace");
}

TEST(Record, TypeErrorsNameTheFieldPath) {
  Schema schema = testing_data::PersonSchema();
  int person = *schema.FindStruct("Person");
  auto r = Pack(schema, person, Value::Struct("Person", {{"aliases", Value::List({Value::Str("a"), Value::Int(1)})}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "field \"aliases[1]\": expected str, got int");
  auto u = Pack(schema, person, Value::Struct("Person", {{"agee", Value::Int(1)}}));
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.status().message().find("unknown field \"agee\""), std::string::npos);
  auto home = Pack(schema, person, Value::Struct("Person", {{"home", Value::Struct("Point", {{"x", Value::Str("1")}})}}));
  ASSERT_FALSE(home.ok());
  EXPECT_EQ(home.status().message(), "field \"home.x\": expected float64, got str");
}

TEST(Record, SampleRendersTheDesignJson) {
  Schema schema = testing_data::PersonSchema();
  int person = *schema.FindStruct("Person");
  auto bytes = Pack(schema, person, testing_data::SamplePerson());
  ASSERT_TRUE(bytes.ok());
  auto rec = ViewRecord(schema, person, *bytes);
  std::string json;
  ASSERT_TRUE(RenderJson(*rec, &json).ok());
  EXPECT_EQ(json, testing_data::kSamplePersonJson);
}

TEST(Record, GoldenEncodingIsByteExact) {
  Schema schema = testing_data::PersonSchema();
  int person = *schema.FindStruct("Person");
  auto bytes = Pack(schema, person, testing_data::SamplePerson());
  ASSERT_TRUE(bytes.ok());
  std::string golden_path = std::string(MAPFS_TEST_DATA_DIR) + "/person_record.golden";
  if (std::getenv("MAPFS_UPDATE_GOLDEN")) testing::WriteFileOrDie(golden_path, *bytes);
  EXPECT_EQ(*bytes, testing::ReadFileOrDie(golden_path))
      << "the record encoding changed: update docs/format.md and the golden file together";
}

}  // namespace
}  // namespace mapfs

namespace mapfs {
namespace {

TEST(Record, DocumentedExamplesMatchTheirBytes) {
  Schema schema = testing::MakeSchema({{"Point", "", {{"x", "float64"}, {"y", "float64"}}},
                                       {"R", "", {{"name", "str"}, {"tags", "frozenset<int64>"}}}});
  auto point = Pack(schema, 0, Value::Struct("Point", {{"x", Value::Float(1.25)}, {"y", Value::Float(-0.5)}}));
  ASSERT_TRUE(point.ok());
  EXPECT_EQ(*point, std::string("\x03\0\0\0\0\0\0\xf4\x3f\0\0\0\0\0\0\xe0\xbf", 17));
  auto r = Pack(schema, 1, Value::Struct("R", {{"name", Value::Str("Ada")},
                                               {"tags", Value::FrozenSet({Value::Int(3), Value::Int(1), Value::Int(2)})}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, std::string("\x03\x09\0\0\0\x0d\0\0\0\x03" "Ada" "\x00\x03\x01\x01\x02\x03", 19));
}

}  // namespace
TEST(Record, StructFromNamesAndValuesEqualsStructFromPairs) {
  const Value pairs = Value::Struct("P", {{"x", Value::Int(1)}, {"y", Value::Str("two")}});
  EXPECT_EQ(Value::Struct("P", {"x", "y"}, {Value::Int(1), Value::Str("two")}), pairs);
  // Unequal lists: the extra name (or value) is dropped.
  EXPECT_EQ(Value::Struct("P", {"x", "y", "z"}, {Value::Int(1), Value::Str("two")}), pairs);
  EXPECT_EQ(Value::Struct("P", {"x"}, {Value::Int(1), Value::Str("two")}),
            Value::Struct("P", {{"x", Value::Int(1)}}));
}

}  // namespace mapfs
