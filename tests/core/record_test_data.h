// The Person schema of docs/schema.md and one fully populated record of it, shared by
// the record tests, the golden file and the benchmarks.
#ifndef MAPFS_TESTS_CORE_RECORD_TEST_DATA_H_
#define MAPFS_TESTS_CORE_RECORD_TEST_DATA_H_

#include <string>

#include "mapfs/value.h"
#include "test_util.h"

namespace mapfs::testing_data {

inline Schema PersonSchema() {
  return testing::MakeSchema({
      {"Point", "P", {{"x", "float64"}, {"y", "float64"}}},
      {"Person", "", {{"id", "uint64"}, {"name", "str"}, {"age", "int32"}, {"score", "float64"},
                      {"active", "bool"}, {"photo", "bytes"}, {"born", "date"},
                      {"seen", "datetime"}, {"balance", "decimal"}, {"tags", "frozenset<int64>"},
                      {"aliases", "list<str>"}, {"pair", "tuple<str, int64>"},
                      {"attrs", "dict<str, object>"}, {"home", "Point"},
                      {"embedding", "ndarray<float32>"}, {"extra", "object"},
                      {"note", "str"}}},
  });
}

inline Value SamplePerson() {
  const char embedding[] = "\x00\x00\x00\x3f\x00\x00\x80\x3f\x00\x00\x00\xc0\x00\x00\x50\x40";
  return Value::Struct(
      "Person",
      {{"id", Value::Int(7)},
       {"name", Value::Str("Ada Lovelace")},
       {"age", Value::Int(36)},
       {"score", Value::Float(99.5)},
       {"active", Value::Bool(true)},
       {"photo", Value::Bytes("\x89PNG")},
       {"born", Value::FromDate(Date{-56270})},
       {"seen", Value::FromDateTime(DateTime{1714979289123456})},
       {"balance", Value::FromDecimal(Decimal{Decimal::Kind::kFinite, false, "123450", -2})},
       {"tags", Value::FrozenSet({Value::Int(1), Value::Int(2), Value::Int(3)})},
       {"aliases", Value::List({Value::Str("Ada"), Value::Str("Countess")})},
       {"pair", Value::Tuple({Value::Str("x"), Value::Int(2)})},
       {"attrs", Value::Dict({{Value::Str("a"), Value::List({Value::Bool(true), Value::Null()})},
                              {Value::Str("b"), Value::Int(1)}})},
       {"home", Value::Struct("Point", {{"x", Value::Float(1.25)}, {"y", Value::Float(-0.5)}})},
       {"embedding", Value::FromNdArray(NdArray{DType::kFloat32, {2, 2}, std::string(embedding, 16)})},
       {"extra", Value::Struct("Point", {{"x", Value::Float(0)}, {"y", Value::Float(3)}})}});
}

inline constexpr const char* kSamplePersonJson =
    "{\"id\":7,\"name\":\"Ada Lovelace\",\"age\":36,\"score\":99.5,\"active\":true,"
    "\"photo\":\"iVBORw==\",\"born\":\"1815-12-10\",\"seen\":\"2024-05-06T07:08:09.123456Z\","
    "\"balance\":\"1234.50\",\"tags\":[1,2,3],\"aliases\":[\"Ada\",\"Countess\"],"
    "\"pair\":[\"x\",2],\"attrs\":{\"a\":[true,null],\"b\":1},\"home\":{\"x\":1.25,\"y\":-0.5},"
    "\"embedding\":[[0.5,1.0],[-2.0,3.25]],\"extra\":{\"x\":0.0,\"y\":3.0},\"note\":null}";

}  // namespace mapfs::testing_data

#endif  // MAPFS_TESTS_CORE_RECORD_TEST_DATA_H_
