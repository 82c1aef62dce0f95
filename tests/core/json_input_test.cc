// Tests for JSONL record input (json_input.h): every field type, every error
// message, and hostile lines that must give errors, never crashes or hangs.
#include "mapfs/json_input.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "mapfs/text_format.h"

namespace mapfs {
namespace {

using FieldSpecs = std::vector<std::pair<std::string, std::string>>;

Schema MakeSchema(const std::vector<std::pair<std::string, FieldSpecs>>& defs) {
  auto resolve = [&](std::string_view name) -> std::optional<int> {
    for (size_t i = 0; i < defs.size(); ++i) {
      if (defs[i].first == name) return static_cast<int>(i);
    }
    return std::nullopt;
  };
  std::vector<StructDef> structs;
  for (const auto& [name, fields] : defs) {
    StructDef def;
    def.name = name;
    for (const auto& [field, type_text] : fields) {
      Result<Type> t = ParseType(type_text, resolve);
      EXPECT_TRUE(t.ok()) << type_text << ": " << t.status().ToString();
      def.fields.push_back(Field{field, *t});
    }
    structs.push_back(std::move(def));
  }
  Result<Schema> schema = Schema::Create(std::move(structs));
  EXPECT_TRUE(schema.ok()) << schema.status().ToString();
  return std::move(schema).value();
}

class JsonInputTest : public ::testing::Test {
 protected:
  JsonInputTest()
      : schema_(MakeSchema({
            {"Rec",
             {{"id", "uint64"},      {"age", "int32"},          {"small", "int8"},
              {"u8", "uint8"},       {"big", "int64"},          {"score", "float64"},
              {"f32", "float32"},    {"active", "bool"},        {"name", "str"},
              {"photo", "bytes"},    {"born", "date"},          {"seen", "datetime"},
              {"balance", "decimal"}, {"tags", "list<int64>"},   {"set", "frozenset<str>"},
              {"pair", "tuple<str, int64>"}, {"anytuple", "tuple"}, {"ids", "dict<int64, str>"},
              {"days", "dict<date, int32>"}, {"attrs", "dict<str, object>"},
              {"fkeys", "dict<float64, bool>"}, {"home", "Point"}, {"path", "list<Point>"},
              {"emb", "ndarray<float32>"},   {"i8s", "ndarray<int8>"}, {"u64s", "ndarray<uint64>"},
              {"mask", "ndarray<bool>"},     {"arr", "ndarray"},   {"extra", "object"},
              {"nested", "list<list<int32>>"}}},
            {"Point", {{"x", "float64"}, {"y", "float64"}}},
        })),
        parser_(schema_, 0) {}

  Value Parse(std::string_view line) {
    Result<Value> v = parser_.ParseLine(line);
    EXPECT_TRUE(v.ok()) << line << "\n  -> " << v.status().ToString();
    return v.ok() ? std::move(v).value() : Value();
  }
  // The error message for a line that must fail with InvalidArgument.
  std::string Error(std::string_view line) {
    Result<Value> v = parser_.ParseLine(line);
    EXPECT_FALSE(v.ok()) << line << " parsed as " << (v.ok() ? v->DebugString() : "");
    if (v.ok()) return "";
    EXPECT_TRUE(v.status().IsInvalidArgument()) << v.status().ToString();
    return v.status().message();
  }
  // The value of the one field of a record parsed from `{"<field>": <json>}`.
  Value Field(const std::string& field, const std::string& json) {
    Value rec = Parse("{\"" + field + "\": " + json + "}");
    const Value* v = rec.FindField(field);
    EXPECT_NE(v, nullptr) << field << ": " << json;
    return v ? *v : Value();
  }

  Schema schema_;
  JsonRecordParser parser_;
};

NdArray FloatArray(std::vector<uint64_t> shape, std::vector<float> values) {
  NdArray a;
  a.dtype = DType::kFloat32;
  a.shape = std::move(shape);
  a.data.assign(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  return a;
}

// ------------------------------------------------------------------ records

TEST_F(JsonInputTest, ParsesScalarsOfEveryType) {
  Value rec = Parse(
      R"({"id": 18446744073709551615, "age": -42, "small": -128, "u8": 255,)"
      R"( "big": -9223372036854775808, "score": 2.5, "f32": 0.1, "active": true,)"
      R"( "name": "Ad\u00e9 \"A\"", "photo": "Zm9vYmFy", "born": "2000-02-29",)"
      R"( "seen": "2020-01-01T05:30:00.25+05:30", "balance": 0.10})");
  EXPECT_EQ(rec.kind(), Value::Kind::kStruct);
  EXPECT_EQ(rec.text(), "Rec");
  EXPECT_EQ(*rec.FindField("id"), Value::UInt(18446744073709551615u));
  EXPECT_EQ(*rec.FindField("age"), Value::Int(-42));
  EXPECT_EQ(*rec.FindField("small"), Value::Int(-128));
  EXPECT_EQ(*rec.FindField("u8"), Value::UInt(255));
  EXPECT_EQ(*rec.FindField("big"), Value::Int(INT64_MIN));
  EXPECT_EQ(*rec.FindField("score"), Value::Float(2.5));
  EXPECT_EQ(*rec.FindField("f32"), Value::Float(static_cast<double>(0.1f)));
  EXPECT_EQ(*rec.FindField("active"), Value::Bool(true));
  EXPECT_EQ(*rec.FindField("name"), Value::Str("Ad\xc3\xa9 \"A\""));
  EXPECT_EQ(*rec.FindField("photo"), Value::Bytes("foobar"));
  EXPECT_EQ(*rec.FindField("born"), Value::FromDate(*Date::Parse("2000-02-29")));
  EXPECT_EQ(rec.FindField("seen")->as_datetime().ToString(), "2020-01-01T00:00:00.250000Z");
  EXPECT_EQ(rec.FindField("balance")->as_decimal().ToString(), "0.10");
}

TEST_F(JsonInputTest, MissingAndNullFieldsAreAbsent) {
  Value rec = Parse(R"({"age": null, "name": "x"})");
  EXPECT_EQ(rec.field_names(), std::vector<std::string>{"name"});
  EXPECT_EQ(rec.FindField("age"), nullptr);
  Value empty = Parse("{}");
  EXPECT_TRUE(empty.field_names().empty());
  EXPECT_EQ(empty.kind(), Value::Kind::kStruct);
}

TEST_F(JsonInputTest, FieldsComeOutInSchemaOrder) {
  Value a = Parse(R"({"name": "x", "age": 1, "id": 2})");
  Value b = Parse(R"({"id": 2, "age": 1, "name": "x"})");
  EXPECT_EQ(a.field_names(), (std::vector<std::string>{"id", "age", "name"}));
  EXPECT_EQ(a, b);
}

TEST_F(JsonInputTest, ParserIsReusableAcrossLines) {
  Value first = Parse(R"({"name": "first", "tags": [1, 2]})");
  EXPECT_FALSE(parser_.ParseLine(R"({"age": "bad"})").ok());
  Value second = Parse(R"({"name": "second"})");
  EXPECT_EQ(first.FindField("name")->text(), "first");
  EXPECT_EQ(second.FindField("name")->text(), "second");
  // A longer line than any before grows the buffers.
  std::string long_name(100000, 'z');
  EXPECT_EQ(Field("name", "\"" + long_name + "\"").text(), long_name);
}

TEST_F(JsonInputTest, UnknownAndDuplicateFieldsAreErrors) {
  EXPECT_EQ(Error(R"({"x": 1})"), R"(unknown field "x")");
  EXPECT_EQ(Error(R"({"age": 1, "age": 2})"), R"(duplicate field "age")");
  EXPECT_EQ(Error(R"({"home": {"x": 1, "z": 2}})"), R"(field "home": unknown field "z")");
}

// ------------------------------------------------------------------ ints

TEST_F(JsonInputTest, IntsMustBeJsonIntegersInRange) {
  EXPECT_EQ(Error(R"({"age": "abc"})"), R"(field "age": expected int32, got "abc")");
  EXPECT_EQ(Error(R"({"age": 1.5})"), R"(field "age": expected int32, got 1.5)");
  EXPECT_EQ(Error(R"({"age": 1.0})"), R"(field "age": expected int32, got 1.0)");
  EXPECT_EQ(Error(R"({"age": 1e3})"), R"(field "age": expected int32, got 1e3)");
  EXPECT_EQ(Error(R"({"age": true})"), R"(field "age": expected int32, got true)");
  EXPECT_EQ(Error(R"({"age": [1]})"), R"(field "age": expected int32, got [1])");
  EXPECT_EQ(Error(R"({"age": 2147483648})"),
            R"(field "age": expected int32, got 2147483648 (out of range))");
  EXPECT_EQ(Field("age", "-2147483648"), Value::Int(INT32_MIN));
  EXPECT_EQ(Field("age", "-0"), Value::Int(0));
  EXPECT_EQ(Error(R"({"small": -129})"), R"(field "small": expected int8, got -129 (out of range))");
  EXPECT_EQ(Error(R"({"u8": -1})"), R"(field "u8": expected uint8, got -1 (out of range))");
  EXPECT_EQ(Error(R"({"u8": 256})"), R"(field "u8": expected uint8, got 256 (out of range))");
  EXPECT_EQ(Error(R"({"id": 18446744073709551616})"),
            R"(field "id": expected uint64, got 18446744073709551616 (out of range))");
  EXPECT_EQ(Error(R"({"big": -9223372036854775809})"),
            R"(field "big": expected int64, got -9223372036854775809 (out of range))");
  EXPECT_EQ(Error(R"({"big": 9223372036854775808})"),
            R"(field "big": expected int64, got 9223372036854775808 (out of range))");
}

TEST_F(JsonInputTest, LongTokensAreAbbreviatedInErrors) {
  std::string digits(1000, '7');
  EXPECT_EQ(Error(R"({"age": )" + digits + "}"),
            R"(field "age": expected int32, got )" + std::string(37, '7') + "... (out of range)");
  EXPECT_EQ(Error(R"({"age": ")" + std::string(100, 'a') + "\"}"),
            R"(field "age": expected int32, got ")" + std::string(36, 'a') + "...");
  EXPECT_EQ(Error(R"({"age": {"k": [1, 2, 3], "other": "a long long long value"}})"),
            R"(field "age": expected int32, got {"k": [1, 2, 3], "other": "a long lon...)");
}

// ------------------------------------------------------------------ floats

TEST_F(JsonInputTest, FloatsAcceptNumbersAndSpecialStrings) {
  EXPECT_EQ(Field("score", "1"), Value::Float(1.0));
  EXPECT_EQ(Field("score", "-0.0"), Value::Float(-0.0));
  EXPECT_EQ(Field("score", "1.7976931348623157e308"), Value::Float(1.7976931348623157e308));
  EXPECT_EQ(Field("score", "18446744073709551616"), Value::Float(18446744073709551616.0));
  EXPECT_TRUE(std::isnan(Field("score", R"("NaN")").as_float()));
  EXPECT_EQ(Field("score", R"("Infinity")"), Value::Float(INFINITY));
  EXPECT_EQ(Field("score", R"("-Infinity")"), Value::Float(-INFINITY));
  EXPECT_EQ(Field("f32", R"("-Infinity")"), Value::Float(-INFINITY));
  // Underflow gives a signed zero, as float('1e-400') does.
  EXPECT_EQ(Field("score", "1e-400"), Value::Float(0.0));
  EXPECT_EQ(Field("score", "-1e-400"), Value::Float(-0.0));
  EXPECT_EQ(Field("f32", "1e-50"), Value::Float(0.0));
}

TEST_F(JsonInputTest, Float32IsRoundedOnceFromTheText) {
  // 1.00000005960464477539062500001 is just above the midpoint between two
  // floats; rounding through a double first would land on the midpoint and
  // round to even (1.0f) instead.
  EXPECT_EQ(Field("f32", "1.00000005960464477539062500001"),
            Value::Float(static_cast<double>(std::nextafter(1.0f, 2.0f))));
}

TEST_F(JsonInputTest, FloatErrors) {
  EXPECT_EQ(Error(R"({"score": "nan"})"), R"(field "score": expected float64, got "nan")");
  EXPECT_EQ(Error(R"({"score": "1.5"})"), R"(field "score": expected float64, got "1.5")");
  EXPECT_EQ(Error(R"({"score": false})"), R"(field "score": expected float64, got false)");
  EXPECT_EQ(Error(R"({"score": 1e400})"),
            R"(field "score": expected float64, got 1e400 (out of range))");
  EXPECT_EQ(Error(R"({"f32": 1e39})"), R"(field "f32": expected float32, got 1e39 (out of range))");
}

// ------------------------------------------------------------------ strings

TEST_F(JsonInputTest, StringsKeepEveryCharacter) {
  EXPECT_EQ(Field("name", R"("\ud83d\ude00 \n \u0000")"),
            Value::Str(std::string("\xf0\x9f\x98\x80 \n \0", 8)));
  // U+2028 (LINE SEPARATOR) is data, not a line end.
  EXPECT_EQ(Field("name", "\"a\xe2\x80\xa8z\""), Value::Str("a\xe2\x80\xa8z"));
  EXPECT_EQ(Error(R"({"name": 5})"), R"(field "name": expected str, got 5)");
}

TEST_F(JsonInputTest, EscapedStringsRoundTripThroughAppendJsonString) {
  std::mt19937 rng(5);
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 30, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 0x80);
    if (i % 3 == 0) s += "\xc3\xa9\xe2\x9c\x93";
    std::string line = R"({"name": )";
    AppendJsonString(&line, s);
    line += "}";
    ASSERT_EQ(Field("name", line.substr(9, line.size() - 10)), Value::Str(s)) << line;
  }
}

TEST_F(JsonInputTest, BytesAreBase64) {
  EXPECT_EQ(Field("photo", R"("")"), Value::Bytes(""));
  EXPECT_EQ(Field("photo", R"("AP8=")"), Value::Bytes(std::string("\0\xff", 2)));
  EXPECT_EQ(Error(R"({"photo": "Zm9"})"),
            R"(field "photo": expected bytes, got "Zm9" (base64 length 3 is not a multiple of 4))");
  EXPECT_EQ(Error(R"({"photo": [1]})"), R"(field "photo": expected bytes, got [1])");
}

TEST_F(JsonInputTest, DatesAndDatetimes) {
  EXPECT_EQ(Field("born", R"("0001-01-01")").as_date().days, -719162);
  EXPECT_EQ(Error(R"({"born": "1900-02-29"})"),
            R"(field "born": expected date, got "1900-02-29" (day 29 out of range for 1900-02))");
  EXPECT_EQ(Error(R"({"born": 20200101})"), R"(field "born": expected date, got 20200101)");
  EXPECT_EQ(Field("seen", R"("2019-12-31T16:00:00-08:00")").as_datetime().ToString(),
            "2020-01-01T00:00:00Z");
  EXPECT_EQ(Field("seen", R"("2020-01-01 00:00:00")").as_datetime().ToString(),
            "2020-01-01T00:00:00Z");
  EXPECT_EQ(Error(R"({"seen": "2020-01-01T25:00:00"})"),
            R"(field "seen": expected datetime, got "2020-01-01T25:00:00" (hour 25 out of range 0..23))");
}

TEST_F(JsonInputTest, DecimalsKeepTheirExactText) {
  EXPECT_EQ(Field("balance", "0.1").as_decimal().ToString(), "0.1");
  EXPECT_EQ(Field("balance", "1.50").as_decimal().ToString(), "1.50");
  EXPECT_EQ(Field("balance", "1E+3").as_decimal().ToString(), "1E+3");
  EXPECT_EQ(Field("balance", "1e400").as_decimal().ToString(), "1E+400");
  EXPECT_EQ(Field("balance", "-0").as_decimal().ToString(), "-0");
  EXPECT_EQ(Field("balance", "123456789012345678901234567890.123").as_decimal().digits,
            "123456789012345678901234567890123");
  EXPECT_EQ(Field("balance", R"("-Infinity")").as_decimal().ToString(), "-Infinity");
  EXPECT_EQ(Field("balance", R"("NaN")").as_decimal().kind, Decimal::Kind::kNaN);
  EXPECT_EQ(Field("balance", R"("1.23E+5")").as_decimal().ToString(), "1.23E+5");
  EXPECT_EQ(Error(R"({"balance": "abc"})"),
            R"(field "balance": expected decimal, got "abc" (not a decimal number))");
  EXPECT_EQ(Error(R"({"balance": true})"), R"(field "balance": expected decimal, got true)");
}

// ------------------------------------------------------------------ containers

TEST_F(JsonInputTest, ListsSetsAndTuples) {
  EXPECT_EQ(Field("tags", "[1, 2, 3]"), Value::List({Value::Int(1), Value::Int(2), Value::Int(3)}));
  EXPECT_EQ(Field("tags", "[]"), Value::List({}));
  EXPECT_EQ(Field("set", R"(["b", "a", "b"])"),
            Value::FrozenSet({Value::Str("b"), Value::Str("a"), Value::Str("b")}));
  EXPECT_EQ(Field("pair", R"(["x", 7])"), Value::Tuple({Value::Str("x"), Value::Int(7)}));
  EXPECT_EQ(Field("anytuple", R"([1, "a", null])"),
            Value::Tuple({Value::Int(1), Value::Str("a"), Value::Null()}));
  EXPECT_EQ(Field("nested", "[[1], [], [2, 3]]"),
            Value::List({Value::List({Value::Int(1)}), Value::List({}),
                         Value::List({Value::Int(2), Value::Int(3)})}));
}

TEST_F(JsonInputTest, ContainerErrorsNameTheElement) {
  EXPECT_EQ(Error(R"({"tags": [1, 2, 3, "x"]})"), R"(field "tags[3]": expected int64, got "x")");
  EXPECT_EQ(Error(R"({"tags": [1, null]})"), R"(field "tags[1]": expected int64, got null)");
  EXPECT_EQ(Error(R"({"tags": {"a": 1}})"), R"(field "tags": expected list<int64>, got {"a": 1})");
  EXPECT_EQ(Error(R"({"nested": [[1], [2, 1.5]]})"),
            R"(field "nested[1][1]": expected int32, got 1.5)");
  EXPECT_EQ(Error(R"({"pair": ["x", 7, 8]})"),
            R"(field "pair": expected tuple<str, int64>, got ["x", 7, 8] (more than 2 elements))");
  EXPECT_EQ(Error(R"({"pair": ["x"]})"),
            R"(field "pair": expected tuple<str, int64>, got ["x"] (1 element, want 2))");
  EXPECT_EQ(Error(R"({"pair": [7, 7]})"), R"(field "pair[0]": expected str, got 7)");
}

TEST_F(JsonInputTest, DictKeysAreParsedToTheKeyType) {
  EXPECT_EQ(Field("ids", R"({"1": "a", "-2": "b"})"),
            Value::Dict({{Value::Int(1), Value::Str("a")}, {Value::Int(-2), Value::Str("b")}}));
  EXPECT_EQ(Field("days", R"({"2020-01-02": 5})"),
            Value::Dict({{Value::FromDate(*Date::Parse("2020-01-02")), Value::Int(5)}}));
  EXPECT_EQ(Field("fkeys", R"({"1.5": true, "NaN": false, "1e+16": true})").dict_size(), 3u);
  EXPECT_EQ(Field("fkeys", R"({"1e+16": true})").dict_key(0), Value::Float(1e16));
  EXPECT_EQ(Field("attrs", R"({"k": [1, "x"], "n": null})"),
            Value::Dict({{Value::Str("k"), Value::List({Value::Int(1), Value::Str("x")})},
                         {Value::Str("n"), Value::Null()}}));
  EXPECT_EQ(Field("ids", "{}"), Value::Dict({}));
}

TEST_F(JsonInputTest, DictErrors) {
  EXPECT_EQ(Error(R"({"ids": {"x": "a"}})"),
            R"(field "ids": expected int64 key, got "x" (not an integer))");
  EXPECT_EQ(Error(R"({"ids": {"1.0": "a"}})"),
            R"(field "ids": expected int64 key, got "1.0" (not an integer))");
  EXPECT_EQ(Error(R"({"days": {"2021-02-29": 1}})"),
            R"(field "days": expected date key, got "2021-02-29" (day 29 out of range for 2021-02))");
  EXPECT_EQ(Error(R"({"ids": {"1": 2}})"), R"(field "ids[1]": expected str, got 2)");
  EXPECT_EQ(Error(R"({"ids": [1]})"), R"(field "ids": expected dict<int64, str>, got [1])");
}

TEST_F(JsonInputTest, NestedStructs) {
  Value home = Field("home", R"({"y": 2, "x": 1.5})");
  EXPECT_EQ(home, Value::Struct("Point", {{"x", Value::Float(1.5)}, {"y", Value::Float(2)}}));
  Value path = Field("path", R"([{"x": 1}, {"y": null}])");
  EXPECT_EQ(path, Value::List({Value::Struct("Point", {{"x", Value::Float(1)}}),
                               Value::Struct("Point", {})}));
  EXPECT_EQ(Error(R"({"home": {"x": "a"}})"), R"(field "home.x": expected float64, got "a")");
  EXPECT_EQ(Error(R"({"path": [{}, {"y": []}]})"), R"(field "path[1].y": expected float64, got [])");
  EXPECT_EQ(Error(R"({"home": 5})"), R"(field "home": expected Point, got 5)");
}

// ------------------------------------------------------------------ ndarrays

TEST_F(JsonInputTest, NdArraysInferShape) {
  EXPECT_EQ(Field("emb", "[[1, 2], [3, 4.5]]").ndarray(), FloatArray({2, 2}, {1, 2, 3, 4.5f}));
  EXPECT_EQ(Field("emb", "[0.1, -0.0]").ndarray(), FloatArray({2}, {0.1f, -0.0f}));
  EXPECT_EQ(Field("emb", "[[], []]").ndarray(), FloatArray({2, 0}, {}));
  EXPECT_EQ(Field("emb", "[]").ndarray(), FloatArray({0}, {}));
  EXPECT_EQ(Field("emb", "[[[]]]").ndarray(), FloatArray({1, 1, 0}, {}));
  EXPECT_EQ(Field("emb", "7").ndarray(), FloatArray({}, {7}));  // 0-d
  NdArray special = Field("emb", R"(["NaN", "-Infinity"])").ndarray();
  ASSERT_EQ(special.data.size(), 8u);
  float f[2];
  std::memcpy(f, special.data.data(), 8);
  EXPECT_TRUE(std::isnan(f[0]));
  EXPECT_EQ(f[1], -INFINITY);
}

TEST_F(JsonInputTest, NdArrayIntegerAndBoolDtypes) {
  NdArray i8 = Field("i8s", "[[-128, 127], [0, 1]]").ndarray();
  EXPECT_EQ(i8.dtype, DType::kInt8);
  EXPECT_EQ(i8.shape, (std::vector<uint64_t>{2, 2}));
  EXPECT_EQ(i8.data, std::string("\x80\x7f\x00\x01", 4));
  NdArray u64 = Field("u64s", "[18446744073709551615, 1]").ndarray();
  EXPECT_EQ(u64.data, std::string("\xff\xff\xff\xff\xff\xff\xff\xff\x01\0\0\0\0\0\0\0", 16));
  NdArray mask = Field("mask", "[true, false, true]").ndarray();
  EXPECT_EQ(mask.dtype, DType::kBool);
  EXPECT_EQ(mask.data, std::string("\x01\x00\x01", 3));
}

TEST_F(JsonInputTest, NdArrayWithoutDtypeInfersOne) {
  EXPECT_EQ(Field("arr", "[1, 2]").ndarray().dtype, DType::kInt64);
  EXPECT_EQ(Field("arr", "[1, 2.5]").ndarray().dtype, DType::kFloat64);
  EXPECT_EQ(Field("arr", R"([1, "NaN"])").ndarray().dtype, DType::kFloat64);
  EXPECT_EQ(Field("arr", "[true]").ndarray().dtype, DType::kBool);
  EXPECT_EQ(Field("arr", "[18446744073709551615]").ndarray().dtype, DType::kUInt64);
  EXPECT_EQ(Field("arr", "[]").ndarray().dtype, DType::kFloat64);
  EXPECT_EQ(Field("arr", "[[1, 2], [3, 4]]").ndarray().data.size(), 32u);
  EXPECT_EQ(Error(R"({"arr": [true, 1]})"), R"(field "arr": ndarray mixes booleans and numbers)");
  EXPECT_EQ(Error(R"({"arr": [-1, 18446744073709551615]})"),
            R"(field "arr[1]": expected int64, got 18446744073709551615 (out of range))");
}

TEST_F(JsonInputTest, NdArrayErrors) {
  EXPECT_EQ(Error(R"({"emb": [[1, 2], [3]]})"),
            R"(field "emb[1]": expected an array of 2 elements, got [3] (ndarray is not rectangular))");
  EXPECT_EQ(Error(R"({"emb": [1, [2]]})"),
            R"(field "emb[1]": expected a number, got [2] (ndarray is not rectangular))");
  EXPECT_EQ(Error(R"({"emb": [[1], 2]})"),
            R"(field "emb[1]": expected an array, got 2 (ndarray is not rectangular))");
  EXPECT_EQ(Error(R"({"emb": [[], [1]]})"),
            R"(field "emb[1]": expected an array of 0 elements, got [1] (ndarray is not rectangular))");
  EXPECT_EQ(Error(R"({"emb": [1, null]})"), R"(field "emb[1]": expected a number, got null)");
  EXPECT_EQ(Error(R"({"emb": [{"a": 1}]})"), R"(field "emb[0]": expected a number, got {"a": 1})");
  EXPECT_EQ(Error(R"({"emb": ["x"]})"), R"(field "emb[0]": expected a number, got "x")");
  EXPECT_EQ(Error(R"({"i8s": [[1, 2], [300, 4]]})"),
            R"(field "i8s[1][0]": expected int8, got 300 (out of range))");
  EXPECT_EQ(Error(R"({"i8s": [1.5]})"), R"(field "i8s[0]": expected int8, got 1.5)");
  EXPECT_EQ(Error(R"({"mask": [1]})"), R"(field "mask[0]": expected bool, got 1)");
  EXPECT_EQ(Error(R"({"emb": [1e39]})"), R"(field "emb[0]": expected float32, got 1e39 (out of range))");
}

// ------------------------------------------------------------------ object

TEST_F(JsonInputTest, ObjectInfersItsType) {
  EXPECT_EQ(Field("extra", "-5"), Value::Int(-5));
  EXPECT_EQ(Field("extra", "9223372036854775808"), Value::UInt(9223372036854775808u));
  EXPECT_EQ(Field("extra", "1.0"), Value::Float(1.0));
  EXPECT_EQ(Field("extra", R"("s")"), Value::Str("s"));
  EXPECT_EQ(Field("extra", "false"), Value::Bool(false));
  EXPECT_EQ(Field("extra", R"([1, [null]])"),
            Value::List({Value::Int(1), Value::List({Value::Null()})}));
  EXPECT_EQ(Field("extra", R"({"a": {"b": 2.5}})"),
            Value::Dict({{Value::Str("a"), Value::Dict({{Value::Str("b"), Value::Float(2.5)}})}}));
  EXPECT_EQ(Error(R"({"extra": 18446744073709551616})"),
            R"(field "extra": expected object, got 18446744073709551616 (integer beyond int64/uint64))");
  EXPECT_EQ(Error(R"({"extra": [1, 1e999]})"),
            R"(field "extra[1]": expected object, got 1e999 (out of range for float64))");
}

// ------------------------------------------------------------------ bad lines

TEST_F(JsonInputTest, InvalidJsonIsReportedAsSuch) {
  EXPECT_EQ(Error(""), "invalid JSON: empty line");
  EXPECT_EQ(Error("   "), "invalid JSON: empty line");
  EXPECT_EQ(Error("[1]"), "expected a JSON object, got [1]");
  EXPECT_EQ(Error("42"), "expected a JSON object, got 42");
  EXPECT_EQ(Error(R"({"age": 1} x)"), "invalid JSON: trailing content after the object");
  EXPECT_EQ(Error(R"({"age": 1}{})"), "invalid JSON: trailing content after the object");
  for (const char* bad : {R"({"age":)", R"({"age": 1,})", R"({"age" 1})", R"({"age": 1)",
                          R"({"name": "abc)", R"({"active": tru})", R"({"active": nul})",
                          R"({"age": 01})", R"({"age": -})", R"({"name": "\x"})",
                          R"({"name": "\ud800"})", "{\"name\": \"\xff\"}", R"({age: 1})",
                          R"({"score": 1.})", R"({"balance": 1.5.5})", R"({"extra": [1,]})",
                          R"({"tags": [1 2]})", "{'age': 1}"}) {
    std::string msg = Error(bad);
    EXPECT_EQ(msg.rfind("invalid JSON: ", 0), 0u) << bad << " -> " << msg;
  }
}

TEST_F(JsonInputTest, DeepNestingIsAnErrorNotACrash) {
  for (const char* field : {"extra", "tags", "emb", "nested", "attrs"}) {
    for (int depth : {63, 64, 100, 100000}) {
      std::string line = "{\"" + std::string(field) + "\": " + std::string(depth, '[') +
                         std::string(depth, ']') + "}";
      Result<Value> v = parser_.ParseLine(line);
      if (depth >= 64) {
        ASSERT_FALSE(v.ok()) << field << " " << depth;
        EXPECT_TRUE(v.status().IsInvalidArgument());
      }
    }
  }
  std::string objects = "{\"extra\": " + std::string(100000, '{');
  EXPECT_FALSE(parser_.ParseLine(objects).ok());
  // The record object and 63 arrays make 64 levels: the most allowed.
  std::string ok = "{\"extra\": " + std::string(63, '[') + std::string(63, ']') + "}";
  EXPECT_TRUE(parser_.ParseLine(ok).ok());
  std::string deep = "{\"extra\": " + std::string(70, '[') + std::string(70, ']') + "}";
  std::string path = "extra";
  for (int i = 0; i < 63; ++i) path += "[0]";
  EXPECT_EQ(Error(deep), "field \"" + path + "\": nesting deeper than 64 levels");
}

TEST_F(JsonInputTest, HugeNumbersAreErrorsOrExact) {
  std::string digits(100000, '9');
  EXPECT_FALSE(parser_.ParseLine("{\"big\": " + digits + "}").ok());
  EXPECT_FALSE(parser_.ParseLine("{\"score\": " + digits + "e99999999999999999999}").ok());
  EXPECT_EQ(Field("score", "1e-99999"), Value::Float(0.0));
  EXPECT_EQ(Field("balance", digits).as_decimal().digits, digits);
}

TEST_F(JsonInputTest, EveryTruncationOfAValidLineFailsCleanly) {
  const std::string line =
      R"({"id": 1, "name": "x\"y", "tags": [1, 2], "home": {"x": 1.5}, "emb": [[1, 2]],)"
      R"( "attrs": {"a": [true, null]}, "balance": 1.50, "seen": "2020-01-01T00:00:00Z"})";
  ASSERT_TRUE(parser_.ParseLine(line).ok());
  for (size_t n = 0; n < line.size(); ++n) {
    Result<Value> v = parser_.ParseLine(line.substr(0, n));
    EXPECT_FALSE(v.ok()) << n;
  }
}

TEST_F(JsonInputTest, RandomCorruptionNeverCrashes) {
  const std::string line =
      R"({"id": 1, "name": "x", "tags": [1, 2], "home": {"x": 1.5}, "emb": [[1, 2]],)"
      R"( "extra": {"a": [true, null, "s", 1e5]}, "ids": {"3": "c"}, "pair": ["a", 1]})";
  std::mt19937 rng(2024);
  const char kBytes[] = "{}[]\",:0123456789.eE+-tfnul\\ \xff\x80";
  for (int i = 0; i < 20000; ++i) {
    std::string s = line;
    int edits = 1 + rng() % 4;
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % s.size();
      switch (rng() % 3) {
        case 0: s[pos] = kBytes[rng() % (sizeof(kBytes) - 1)]; break;
        case 1: s.erase(pos, 1); break;
        default: s.insert(pos, 1, kBytes[rng() % (sizeof(kBytes) - 1)]); break;
      }
    }
    Result<Value> v = parser_.ParseLine(s);
    if (!v.ok()) {
      ASSERT_TRUE(v.status().IsInvalidArgument());
    }
  }
}

TEST(JsonRecordParser, WideStructsUseTheFieldMap) {
  FieldSpecs fields;
  for (int i = 0; i < 40; ++i) fields.emplace_back("f" + std::to_string(i), "int32");
  Schema schema = MakeSchema({{"Wide", fields}});
  JsonRecordParser parser(schema, 0);
  Result<Value> v = parser.ParseLine(R"({"f39": 39, "f0": 0, "f17": 17})");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->field_names(), (std::vector<std::string>{"f0", "f17", "f39"}));
  EXPECT_EQ(parser.ParseLine(R"({"f40": 1})").status().message(), R"(unknown field "f40")");
}

}  // namespace
}  // namespace mapfs
