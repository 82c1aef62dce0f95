// Tests for the schema's canonical JSON (writer, strict reader, hostile input)
// and its YAML rendering, and for the struct/field name rules of Schema::Create.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mapfs/types.h"

namespace mapfs {
namespace {

Type MustParse(std::string_view text, const std::vector<std::string>& names = {}) {
  Result<Type> t = ParseType(text, [&](std::string_view n) -> std::optional<int> {
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == n) return static_cast<int>(i);
    }
    return std::nullopt;
  });
  EXPECT_TRUE(t.ok()) << text << ": " << t.status().ToString();
  return t.ok() ? t.value() : Type::Object();
}

StructDef Def(std::string name, std::string typecode,
              std::vector<std::pair<std::string, std::string>> fields,
              const std::vector<std::string>& names) {
  StructDef def;
  def.name = std::move(name);
  def.typecode = std::move(typecode);
  for (auto& [n, t] : fields) def.fields.push_back(Field{n, MustParse(t, names)});
  return def;
}

// Point and Person of docs/schema.md (Person first, so `home` is a forward reference).
Schema PersonSchema() {
  std::vector<std::string> names = {"Person", "Point"};
  std::vector<StructDef> defs;
  defs.push_back(Def("Person", "",
                     {{"id", "uint64"},
                      {"name", "str"},
                      {"age", "int32"},
                      {"score", "float64"},
                      {"active", "bool"},
                      {"photo", "bytes"},
                      {"born", "date"},
                      {"seen", "datetime"},
                      {"balance", "decimal"},
                      {"tags", "frozenset<int64>"},
                      {"aliases", "list<str>"},
                      {"pair", "tuple<str, int64>"},
                      {"attrs", "dict<str, object>"},
                      {"home", "Point"},
                      {"embedding", "ndarray<float32>"},
                      {"extra", "object"}},
                     names));
  defs.push_back(Def("Point", "P", {{"x", "float64"}, {"y", "float64"}}, names));
  Result<Schema> s = Schema::Create(std::move(defs));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : Schema();
}

constexpr std::string_view kPersonJson =
    R"({"mapfs_schema":1,"structs":[{"name":"Person","fields":[["id","uint64"],["name","str"],)"
    R"(["age","int32"],["score","float64"],["active","bool"],["photo","bytes"],["born","date"],)"
    R"(["seen","datetime"],["balance","decimal"],["tags","frozenset<int64>"],)"
    R"(["aliases","list<str>"],["pair","tuple<str, int64>"],["attrs","dict<str, object>"],)"
    R"(["home","Point"],["embedding","ndarray<float32>"],["extra","object"]]},)"
    R"({"name":"Point","typecode":"P","fields":[["x","float64"],["y","float64"]]}]})";

TEST(SchemaJson, WritesTheDocumentedCanonicalForm) {
  EXPECT_EQ(PersonSchema().ToCanonicalJson(), kPersonJson);
}

TEST(SchemaJson, IsDeterministic) {
  EXPECT_EQ(PersonSchema().ToCanonicalJson(), PersonSchema().ToCanonicalJson());
}

TEST(SchemaJson, RoundTripsByteForByte) {
  Result<Schema> s = Schema::FromCanonicalJson(kPersonJson);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->ToCanonicalJson(), kPersonJson);
  ASSERT_EQ(s->structs().size(), 2u);
  EXPECT_EQ(s->struct_def(1).typecode, "P");
  EXPECT_EQ(s->FindTypecode('P'), 1);
  const StructDef& person = s->struct_def(0);
  ASSERT_EQ(person.fields.size(), 16u);
  EXPECT_EQ(person.fields[13].name, "home");
  EXPECT_EQ(person.fields[13].type, Type::Struct(1));
  EXPECT_EQ(person.fields[14].type, Type::NdArray(DType::kFloat32));
}

TEST(SchemaJson, WritesCanonicalTypeNamesForAliases) {
  std::vector<StructDef> defs;
  defs.push_back(Def("A", "", {{"i", "int"}, {"f", "float"}, {"l", "list"}, {"t", "tuple"},
                               {"s", "frozenset"}, {"d", "dict"}, {"n", "ndarray"},
                               {"ni", "ndarray<int>"}, {"sp", "dict< str ,list< int8 > >"}},
                     {}));
  Result<Schema> s = Schema::Create(std::move(defs));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::string json = s->ToCanonicalJson();
  EXPECT_EQ(json,
            R"({"mapfs_schema":1,"structs":[{"name":"A","fields":[["i","int64"],["f","float64"],)"
            R"(["l","list<object>"],["t","tuple"],["s","frozenset<object>"],)"
            R"(["d","dict<object, object>"],["n","ndarray"],["ni","ndarray<int64>"],)"
            R"(["sp","dict<str, list<int8>>"]]}]})");
  Result<Schema> back = Schema::FromCanonicalJson(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->ToCanonicalJson(), json);
}

TEST(SchemaJson, EscapesNamesAsJsonStrings) {
  std::vector<StructDef> defs;
  defs.push_back(Def("S", "\"", {{"quote\"back\\slash", "str"},
                                 {"ctl\n\t\x01\x1f", "str"},
                                 {"caf\xc3\xa9 \xe2\x80\xa8", "str"}},
                     {}));
  Result<Schema> s = Schema::Create(std::move(defs));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::string json = s->ToCanonicalJson();
  EXPECT_EQ(json, "{\"mapfs_schema\":1,\"structs\":[{\"name\":\"S\",\"typecode\":\"\\\"\","
                  "\"fields\":[[\"quote\\\"back\\\\slash\",\"str\"],"
                  "[\"ctl\\n\\t\\u0001\\u001f\",\"str\"],"
                  "[\"caf\xc3\xa9 \xe2\x80\xa8\",\"str\"]]}]}");
  Result<Schema> back = Schema::FromCanonicalJson(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->struct_def(0).fields[1].name, "ctl\n\t\x01\x1f");
  EXPECT_EQ(back->ToCanonicalJson(), json);
}

TEST(SchemaJson, ResolvesForwardAndSelfReferencesThroughIndirection) {
  std::string json =
      R"({"mapfs_schema":1,"structs":[{"name":"Tree","fields":[["kids","list<Tree>"],)"
      R"(["by_name","dict<str, Node>"]]},{"name":"Node","fields":[["t","tuple<Leaf, int8>"]]},)"
      R"({"name":"Leaf","fields":[["v","int8"]]}]})";
  Result<Schema> s = Schema::FromCanonicalJson(json);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->struct_def(0).fields[0].type, Type::List(Type::Struct(0)));
  EXPECT_EQ(s->ToCanonicalJson(), json);
}

TEST(SchemaJson, AcceptsAnEmptySchemaAndStructWithoutFields) {
  for (std::string json : {R"({"mapfs_schema":1,"structs":[]})",
                           R"({"mapfs_schema":1,"structs":[{"name":"E","fields":[]}]})"}) {
    Result<Schema> s = Schema::FromCanonicalJson(json);
    ASSERT_TRUE(s.ok()) << json << ": " << s.status().ToString();
    EXPECT_EQ(s->ToCanonicalJson(), json);
  }
}

void ExpectRejected(std::string_view json, std::string_view message_part) {
  Result<Schema> s = Schema::FromCanonicalJson(json);
  ASSERT_FALSE(s.ok()) << json;
  EXPECT_TRUE(s.status().IsCorruption()) << s.status().ToString();
  EXPECT_NE(s.status().message().find(message_part), std::string::npos)
      << json << " gave: " << s.status().ToString();
}

TEST(SchemaJson, RejectsWrongShapesWithClearMessages) {
  ExpectRejected("", "not valid JSON");
  ExpectRejected("nul", "not valid JSON");
  ExpectRejected("[]", "top level is not an object");
  ExpectRejected(R"({"structs":[]})", "missing integer 'mapfs_schema'");
  ExpectRejected(R"({"mapfs_schema":"1","structs":[]})", "missing integer 'mapfs_schema'");
  ExpectRejected(R"({"mapfs_schema":1})", "missing array 'structs'");
  ExpectRejected(R"({"mapfs_schema":1,"structs":{}})", "missing array 'structs'");
  ExpectRejected(R"({"mapfs_schema":1,"structs":[],"x":0})", "top level: unknown key 'x'");
  ExpectRejected(R"({"mapfs_schema":1,"structs":[7]})", "struct 0: not an object");
  ExpectRejected(R"({"mapfs_schema":1,"structs":[{"fields":[]}]})", "missing string 'name'");
  ExpectRejected(R"({"mapfs_schema":1,"structs":[{"name":1,"fields":[]}]})",
                 "missing string 'name'");
  ExpectRejected(R"({"mapfs_schema":1,"structs":[{"name":"A"}]})",
                 "struct 'A': missing array 'fields'");
  ExpectRejected(R"({"mapfs_schema":1,"structs":[{"name":"A","fields":[],"extra":1}]})",
                 "struct 'A': unknown key 'extra'");
  ExpectRejected(R"({"mapfs_schema":1,"structs":[{"name":"A","typecode":7,"fields":[]}]})",
                 "'typecode' is not a string");
  ExpectRejected(R"({"mapfs_schema":1,"structs":[{"name":"A","typecode":"","fields":[]}]})",
                 "empty 'typecode'");
  ExpectRejected(R"({"mapfs_schema":1,"structs":[{"name":"A","fields":[["x"]]}]})",
                 "field 0 is not a [name, type] pair");
  ExpectRejected(R"({"mapfs_schema":1,"structs":[{"name":"A","fields":[["x","str","y"]]}]})",
                 "field 0 is not a [name, type] pair");
  ExpectRejected(R"({"mapfs_schema":1,"structs":[{"name":"A","fields":[["x",3]]}]})",
                 "field 0 is not a [name, type] pair");
  ExpectRejected(R"({"mapfs_schema":1,"structs":[{"name":"A","fields":{"x":"str"}}]})",
                 "missing array 'fields'");
}

TEST(SchemaJson, RejectsUnknownTypesAndBadSchemas) {
  ExpectRejected(R"({"mapfs_schema":1,"structs":[{"name":"A","fields":[["x","strr"]]}]})",
                 "struct 'A' field 'x': type 'strr': col 1: unknown type 'strr'");
  ExpectRejected(R"({"mapfs_schema":1,"structs":[{"name":"A","fields":[["x","list<B>"]]}]})",
                 "col 6: unknown type 'B'");
  ExpectRejected(R"({"mapfs_schema":1,"structs":[{"name":"A","fields":[["x","ndarray<str>"]]}]})",
                 "unknown ndarray dtype 'str'");
  ExpectRejected(R"({"mapfs_schema":1,"structs":[{"name":"A","fields":[["x","str"],["x","str"]]}]})",
                 "duplicate field 'x'");
  ExpectRejected(R"({"mapfs_schema":1,"structs":[{"name":"A","fields":[]},{"name":"A","fields":[]}]})",
                 "duplicate struct 'A'");
  ExpectRejected(R"({"mapfs_schema":1,"structs":[{"name":"A","typecode":"PP","fields":[]}]})",
                 "bad typecode 'PP'");
  ExpectRejected(R"({"mapfs_schema":1,"structs":[{"name":"A","typecode":"P","fields":[]},)"
                 R"({"name":"B","typecode":"P","fields":[]}]})",
                 "typecode 'P' already used by 'A'");
  ExpectRejected(R"({"mapfs_schema":1,"structs":[{"name":"A","fields":[["a","A"]]}]})",
                 "contains itself without indirection");
  ExpectRejected(R"({"mapfs_schema":1,"structs":[{"name":"a-b","fields":[]}]})",
                 "bad struct name 'a-b'");
  ExpectRejected(R"({"mapfs_schema":1,"structs":[{"name":"str","fields":[]}]})",
                 "struct name 'str' is a built-in type");
  ExpectRejected(R"({"mapfs_schema":1,"structs":[{"name":"A","fields":[["@x","str"]]}]})",
                 "bad field name '@x'");
  ExpectRejected(R"({"mapfs_schema":1,"structs":[{"name":"A","fields":[["a\u0000b","str"]]}]})",
                 "bad field name");
}

TEST(SchemaJson, RejectsUnsupportedVersions) {
  Result<Schema> s = Schema::FromCanonicalJson(R"({"mapfs_schema":2,"structs":[]})");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotSupported);
  EXPECT_NE(s.status().message().find("version 2"), std::string::npos);
}

TEST(SchemaJson, RejectsNonCanonicalSpellings) {
  const char* variants[] = {
      R"({ "mapfs_schema":1,"structs":[]})",
      R"({"structs":[],"mapfs_schema":1})",
      R"({"mapfs_schema":1,"structs":[{"name":"A","fields":[["x","int"]]}]})",
      R"({"mapfs_schema":1,"structs":[{"name":"A","fields":[["x","list< str >"]]}]})",
      R"({"mapfs_schema":1,"structs":[{"fields":[],"name":"A"}]})",
      R"({"mapfs_schema":1,"structs":[{"name":"\u0041","fields":[]}]})",
      R"({"mapfs_schema":1,"structs":[{"name":"A","fields":[]}]} )",
      R"({"mapfs_schema":1,"mapfs_schema":1,"structs":[]})",
  };
  for (const char* json : variants) ExpectRejected(json, "not in canonical form");
}

TEST(SchemaJson, RejectsInvalidUtf8) {
  ExpectRejected("{\"mapfs_schema\":1,\"structs\":[{\"name\":\"A\",\"fields\":[[\"\xff\",\"str\"]]}]}",
                 "not valid JSON");
}

TEST(SchemaJson, RejectsEveryTruncationWithoutCrashing) {
  for (size_t n = 0; n < kPersonJson.size(); ++n) {
    std::string prefix(kPersonJson.substr(0, n));
    Result<Schema> s = Schema::FromCanonicalJson(prefix);
    EXPECT_FALSE(s.ok()) << "accepted a prefix of length " << n;
  }
}

TEST(SchemaJson, SurvivesEveryByteFlip) {
  // Each byte replaced by a few troublesome values: a clean result either way.
  for (size_t i = 0; i < kPersonJson.size(); ++i) {
    for (char c : {'\0', '"', '\\', '[', '{', '}', '<', 'x', '\xff'}) {
      std::string json(kPersonJson);
      json[i] = c;
      Result<Schema> s = Schema::FromCanonicalJson(json);
      if (s.ok()) {
        EXPECT_EQ(s->ToCanonicalJson(), json);
      }
    }
  }
}

TEST(SchemaJson, RejectsHugeNestingWithoutRecursing) {
  for (std::string open : {"[", "{\"a\":"}) {
    std::string json;
    for (int i = 0; i < 1000000; ++i) json += open;
    ExpectRejected(json, "nested deeper than");
  }
  std::string deep_type = "list<";
  for (int i = 0; i < 10000; ++i) deep_type += "list<";
  ExpectRejected(R"({"mapfs_schema":1,"structs":[{"name":"A","fields":[["x",")" + deep_type +
                     R"("]]}]})",
                 "nested too deeply");
}

TEST(SchemaJson, BracketsInsideStringsDoNotCountAsNesting) {
  std::vector<StructDef> defs;
  defs.push_back(Def("A", "", {{std::string(100, '['), "str"}, {"\"{{{{{{{{{{", "str"}}, {}));
  Result<Schema> s = Schema::Create(std::move(defs));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Result<Schema> back = Schema::FromCanonicalJson(s->ToCanonicalJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
}

TEST(SchemaYaml, RendersDesignYaml) {
  EXPECT_EQ(PersonSchema().ToYaml(),
            "structs:\n"
            "  Person:\n"
            "    fields:\n"
            "      id: uint64\n"
            "      name: str\n"
            "      age: int32\n"
            "      score: float64\n"
            "      active: bool\n"
            "      photo: bytes\n"
            "      born: date\n"
            "      seen: datetime\n"
            "      balance: decimal\n"
            "      tags: frozenset<int64>\n"
            "      aliases: list<str>\n"
            "      pair: tuple<str, int64>\n"
            "      attrs: dict<str, object>\n"
            "      home: Point\n"
            "      embedding: ndarray<float32>\n"
            "      extra: object\n"
            "  Point:\n"
            "    typecode: P\n"
            "    fields:\n"
            "      x: float64\n"
            "      y: float64\n");
}

TEST(SchemaYaml, QuotesNamesYamlWouldMisread) {
  std::vector<StructDef> defs;
  defs.push_back(Def("Null", "#", {{"with space", "str"}, {"a: b", "str"}, {"q\"\\", "str"},
                                   {"nl\n", "str"}, {"ls\xe2\x80\xa8", "str"}, {"1", "str"}},
                     {}));
  defs.push_back(Def("E", "", {}, {}));
  Result<Schema> s = Schema::Create(std::move(defs));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->ToYaml(),
            "structs:\n"
            "  \"Null\":\n"
            "    typecode: \"#\"\n"
            "    fields:\n"
            "      \"with space\": str\n"
            "      \"a: b\": str\n"
            "      \"q\\\"\\\\\": str\n"
            "      \"nl\\x0a\": str\n"
            "      \"ls\\u2028\": str\n"
            "      \"1\": str\n"
            "  E:\n"
            "    fields: {}\n");
}

TEST(SchemaCreate, RejectsStructNamesTypeTextCannotReach) {
  for (std::string name : {"a-b", "1A", "A B", "", "list", "int", "float", "object", "ndarray"}) {
    std::vector<StructDef> defs;
    defs.push_back(Def(name, "", {}, {}));
    EXPECT_FALSE(Schema::Create(std::move(defs)).ok()) << name;
  }
  for (std::string name : {"_A", "a1", "Int", "lists"}) {
    std::vector<StructDef> defs;
    defs.push_back(Def(name, "", {}, {}));
    EXPECT_TRUE(Schema::Create(std::move(defs)).ok()) << name;
  }
}

TEST(SchemaCreate, RejectsFieldNamesThatCannotBeFileNames) {
  for (std::string name : {std::string(""), std::string("@x"), std::string("a/b"),
                           std::string("."), std::string(".."), std::string("a\0b", 3),
                           std::string("\xff"), std::string("\xc0\xaf"),
                           std::string("\xed\xa0\x80"), std::string("\xe2\x82")}) {
    EXPECT_FALSE(CheckFieldName(name).ok()) << name;
  }
  for (std::string name : {"a.b", "x@", "caf\xc3\xa9", "\xf0\x9f\x98\x80", "..."}) {
    EXPECT_TRUE(CheckFieldName(name).ok()) << name;
  }
}

}  // namespace
}  // namespace mapfs
