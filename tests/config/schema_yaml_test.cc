// Tests for the schema YAML loader: the grammar of docs/schema.md, every error at
// its exact FILE:LINE:COL, and round trips through ToYaml and canonical JSON.
#include "mapfs/schema_yaml.h"

#include <gtest/gtest.h>

#include <string>

#include "test_util.h"

namespace mapfs {
namespace {

Schema MustParse(std::string_view yaml) {
  Result<Schema> s = ParseSchemaYaml(yaml, "schema.yaml");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : Schema();
}

// The full message of a load that must fail with InvalidArgument.
std::string ErrorOf(std::string_view yaml) {
  Result<Schema> s = ParseSchemaYaml(yaml, "schema.yaml");
  if (s.ok()) return "(loaded)";
  EXPECT_TRUE(s.status().IsInvalidArgument()) << s.status().ToString();
  return s.status().message();
}

std::vector<std::string> FieldNames(const StructDef& def) {
  std::vector<std::string> names;
  for (const Field& f : def.fields) names.push_back(f.name);
  return names;
}

TEST(SchemaYamlLoad, ReadsTheSampleSchema) {
  Result<Schema> s = LoadSchemaYaml(MAPFS_SAMPLE_DIR "/schema.yaml");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->structs().size(), 2u);
  const StructDef& point = s->struct_def(*s->FindStruct("Point"));
  EXPECT_EQ(point.typecode, "P");
  EXPECT_EQ(FieldNames(point), (std::vector<std::string>{"x", "y"}));
  const StructDef& person = s->struct_def(*s->FindStruct("Person"));
  EXPECT_EQ(FieldNames(person),
            (std::vector<std::string>{"id", "name", "age", "score", "active", "photo", "born",
                                      "seen", "balance", "tags", "aliases", "pair", "attrs",
                                      "home", "embedding", "extra"}));
  EXPECT_EQ(s->TypeName(person.fields[11].type), "tuple<str, int64>");
  EXPECT_EQ(person.fields[13].type, Type::Struct(*s->FindStruct("Point")));
}

TEST(SchemaYamlLoad, KeepsFieldOrderOfTheFile) {
  Schema s = MustParse(
      "structs:\n"
      "  R:\n"
      "    fields:\n"
      "      zeta: int8\n"
      "      alpha: int8\n"
      "      mid: int8\n"
      "  F:\n"
      "    fields: {z: str, a: str, m: str}\n");
  EXPECT_EQ(FieldNames(s.struct_def(0)), (std::vector<std::string>{"zeta", "alpha", "mid"}));
  EXPECT_EQ(FieldNames(s.struct_def(1)), (std::vector<std::string>{"z", "a", "m"}));
  EXPECT_EQ(s.struct_def(0).name, "R");
  EXPECT_EQ(s.struct_def(1).name, "F");
}

TEST(SchemaYamlLoad, ParsesEveryType) {
  Schema s = MustParse(
      "structs:\n"
      "  All:\n"
      "    fields:\n"
      "      i8: int8\n      i16: int16\n      i32: int32\n      i64: int64\n"
      "      u8: uint8\n      u16: uint16\n      u32: uint32\n      u64: uint64\n"
      "      f32: float32\n      f64: float64\n      b: bool\n      by: bytes\n"
      "      s: str\n      d: date\n      dt: datetime\n      dec: decimal\n"
      "      o: object\n      i: int\n      f: float\n"
      "      l: list\n      t: tuple\n      fs: frozenset\n      di: dict\n      nd: ndarray\n"
      "      nested: dict<int64, list<tuple<str, frozenset<uint8>, Later>>>\n"
      "      spaced: \"dict< str , list<int8> >\"\n"
      "      later: Later\n"
      "      later_list: list<Later>\n"
      "      self_list: list<All>\n"
      "      nd_i8: ndarray<int8>\n      nd_i16: ndarray<int16>\n      nd_i32: ndarray<int32>\n"
      "      nd_i64: ndarray<int64>\n      nd_u8: ndarray<uint8>\n      nd_u16: ndarray<uint16>\n"
      "      nd_u32: ndarray<uint32>\n      nd_u64: ndarray<uint64>\n"
      "      nd_f32: ndarray<float32>\n      nd_f64: ndarray<float64>\n"
      "      nd_b: ndarray<bool>\n"
      "  Later:\n"
      "    typecode: L\n"
      "    fields: {v: int8}\n");
  std::vector<std::string> expected = {
      "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32",
      "float64", "bool", "bytes", "str", "date", "datetime", "decimal", "object", "int64",
      "float64", "list<object>", "tuple", "frozenset<object>", "dict<object, object>", "ndarray",
      "dict<int64, list<tuple<str, frozenset<uint8>, Later>>>", "dict<str, list<int8>>", "Later",
      "list<Later>", "list<All>", "ndarray<int8>", "ndarray<int16>", "ndarray<int32>",
      "ndarray<int64>", "ndarray<uint8>", "ndarray<uint16>", "ndarray<uint32>",
      "ndarray<uint64>", "ndarray<float32>", "ndarray<float64>", "ndarray<bool>"};
  const StructDef& all = s.struct_def(0);
  ASSERT_EQ(all.fields.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(s.TypeName(all.fields[i].type), expected[i]) << all.fields[i].name;
  }
  EXPECT_EQ(all.fields[19].type.kind, TypeKind::kList);
  EXPECT_TRUE(all.fields[20].type.is_variadic_tuple());
  EXPECT_EQ(s.FindTypecode('L'), 1);
}

TEST(SchemaYamlLoad, AcceptsQuotedTypesAndCommasInFlowStyle) {
  Schema s = MustParse("structs:\n  A:\n    fields: {p: \"tuple<str, int64>\", q: 'dict<str, A>'}\n");
  EXPECT_EQ(s.TypeName(s.struct_def(0).fields[0].type), "tuple<str, int64>");
  EXPECT_EQ(s.TypeName(s.struct_def(0).fields[1].type), "dict<str, A>");
}

TEST(SchemaYamlLoad, AcceptsAnExplicitlyEmptyStruct) {
  Schema s = MustParse("structs:\n  E:\n    fields: {}\n");
  EXPECT_TRUE(s.struct_def(0).fields.empty());
}

TEST(SchemaYamlLoad, MissingFileIsAnIOErrorNamingIt) {
  testing::TempDir dir;
  Result<Schema> s = LoadSchemaYaml(dir.File("nope.yaml"));
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsIOError()) << s.status().ToString();
  EXPECT_NE(s.status().message().find(dir.File("nope.yaml")), std::string::npos);
}

TEST(SchemaYamlLoad, ErrorsNameTheFileAsGiven) {
  testing::TempDir dir;
  std::string path = dir.File("bad.yaml");
  testing::WriteFileOrDie(path, "structs:\n  A:\n    feilds: {x: int8}\n");
  Result<Schema> s = LoadSchemaYaml(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(),
            path + ":3:5: unknown key 'feilds' (expected typecode, fields)");
}

TEST(SchemaYamlLoad, LoadsAnEmptyFileAsAnError) {
  testing::TempDir dir;
  std::string path = dir.File("empty.yaml");
  testing::WriteFileOrDie(path, "");
  Result<Schema> s = LoadSchemaYaml(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(),
            path + ":1:1: empty schema (expected a mapping with 'structs')");
}

TEST(SchemaYamlErrors, SyntaxError) {
  EXPECT_EQ(ErrorOf("structs:\n  A: b: c\n"), "schema.yaml:2:7: illegal map value");
  EXPECT_EQ(ErrorOf("structs:\n  A: [1\n"), "schema.yaml:3:1: end of sequence flow not found");
}

TEST(SchemaYamlErrors, EmptyFile) {
  EXPECT_EQ(ErrorOf(""), "schema.yaml:1:1: empty schema (expected a mapping with 'structs')");
  EXPECT_EQ(ErrorOf("# just a comment\n"),
            "schema.yaml:1:1: empty schema (expected a mapping with 'structs')");
}

TEST(SchemaYamlErrors, TopLevelNotAMapping) {
  EXPECT_EQ(ErrorOf("- structs\n"), "schema.yaml:1:1: expected a mapping with 'structs'");
  EXPECT_EQ(ErrorOf("\n\n  hello\n"), "schema.yaml:3:3: expected a mapping with 'structs'");
}

TEST(SchemaYamlErrors, MissingStructs) {
  EXPECT_EQ(ErrorOf("{}\n"), "schema.yaml:1:1: missing 'structs'");
  EXPECT_EQ(ErrorOf("structs:\n"), "schema.yaml:1:1: 'structs' is empty");
  EXPECT_EQ(ErrorOf("structs: {}\n"), "schema.yaml:1:10: 'structs' defines no struct");
  EXPECT_EQ(ErrorOf("structs: [A]\n"),
            "schema.yaml:1:10: 'structs' must be a mapping of struct names to definitions");
}

TEST(SchemaYamlErrors, UnknownKeys) {
  EXPECT_EQ(ErrorOf("# schema\nstruct:\n  A: {fields: {x: int8}}\n"),
            "schema.yaml:2:1: unknown key 'struct' (expected structs)");
  EXPECT_EQ(ErrorOf("structs:\n  Point:\n    typecode: P\n    feilds: {x: float64}\n"),
            "schema.yaml:4:5: unknown key 'feilds' (expected typecode, fields)");
  EXPECT_EQ(ErrorOf("structs:\n  Point: {fields: {x: float64}, doc: hi}\n"),
            "schema.yaml:2:33: unknown key 'doc' (expected typecode, fields)");
}

TEST(SchemaYamlErrors, DuplicateKeys) {
  EXPECT_EQ(ErrorOf("structs:\n  A: {fields: {x: int8}}\nstructs:\n  B: {fields: {x: int8}}\n"),
            "schema.yaml:3:1: duplicate key 'structs'");
  EXPECT_EQ(ErrorOf("structs:\n  A:\n    fields: {x: int8}\n    fields: {y: int8}\n"),
            "schema.yaml:4:5: duplicate key 'fields'");
  EXPECT_EQ(ErrorOf("structs:\n  A:\n    typecode: a\n    typecode: b\n    fields: {x: int8}\n"),
            "schema.yaml:4:5: duplicate key 'typecode'");
}

TEST(SchemaYamlErrors, UnknownType) {
  EXPECT_EQ(ErrorOf("structs:\n  Point:\n    fields: {x: flaot64, y: float64}\n"),
            "schema.yaml:3:17: unknown type 'flaot64'");
  // The column points inside the type text, past the quote of a quoted scalar.
  EXPECT_EQ(ErrorOf("structs:\n  A:\n    fields:\n      m: dict<str, list<strr>>\n"),
            "schema.yaml:4:25: unknown type 'strr'");
  EXPECT_EQ(ErrorOf("structs:\n  A:\n    fields:\n      m: \"dict<str, list<strr>>\"\n"),
            "schema.yaml:4:26: unknown type 'strr'");
  EXPECT_EQ(ErrorOf("structs:\n  A:\n    fields:\n      m: ndarray<str>\n"),
            "schema.yaml:4:18: unknown ndarray dtype 'str'");
  EXPECT_EQ(ErrorOf("structs:\n  A:\n    fields:\n      m: list<str\n"),
            "schema.yaml:4:18: expected ',' or '>'");
  EXPECT_EQ(ErrorOf("structs:\n  A:\n    fields:\n      m: str<int8>\n"),
            "schema.yaml:4:10: type 'str' takes no parameters");
  EXPECT_EQ(ErrorOf("structs:\n  A:\n    fields:\n      m: 42\n"),
            "schema.yaml:4:10: unknown type '42'");
  EXPECT_EQ(ErrorOf("structs:\n  A:\n    fields:\n      m: '<'\n"),
            "schema.yaml:4:11: expected a type name");
}

TEST(SchemaYamlErrors, UnknownStruct) {
  EXPECT_EQ(ErrorOf("structs:\n  Person:\n    fields:\n      home: Pointt\n  Point:\n"
                    "    fields: {x: float64}\n"),
            "schema.yaml:4:13: unknown type 'Pointt'");
  EXPECT_EQ(ErrorOf("structs:\n  Person:\n    fields:\n      homes: list<Pointt>\n"),
            "schema.yaml:4:19: unknown type 'Pointt'");
}

TEST(SchemaYamlErrors, UnquotedCommaInFlowStyle) {
  EXPECT_EQ(ErrorOf("structs:\n  A:\n    fields: {pair: tuple<str, int64>}\n"),
            "schema.yaml:3:20: type 'tuple<str' is cut at ','; in {...} quote a type that "
            "contains ','");
}

TEST(SchemaYamlErrors, FieldWithoutType) {
  EXPECT_EQ(ErrorOf("structs:\n  A:\n    fields:\n      x:\n      y: int8\n"),
            "schema.yaml:4:7: field 'x' has no type");
  EXPECT_EQ(ErrorOf("structs:\n  A:\n    fields:\n      x: [int8]\n"),
            "schema.yaml:4:10: field 'x': expected a type such as 'list<str>'");
}

TEST(SchemaYamlErrors, BadStructShapes) {
  EXPECT_EQ(ErrorOf("structs:\n  A:\n"),
            "schema.yaml:2:3: struct 'A' has no definition (expected typecode, fields)");
  EXPECT_EQ(ErrorOf("structs:\n  A: 3\n"),
            "schema.yaml:2:6: struct 'A' must be a mapping (expected typecode, fields)");
  EXPECT_EQ(ErrorOf("structs:\n  A:\n    typecode: P\n"),
            "schema.yaml:2:3: struct 'A' has no 'fields'");
  EXPECT_EQ(ErrorOf("structs:\n  A:\n    fields:\n"),
            "schema.yaml:3:5: 'fields' must be a mapping of field names to types");
  EXPECT_EQ(ErrorOf("structs:\n  A:\n    fields: [x, y]\n"),
            "schema.yaml:3:13: 'fields' must be a mapping of field names to types");
  EXPECT_EQ(ErrorOf("structs:\n  ? [A]\n  : {fields: {x: int8}}\n"),
            "schema.yaml:2:5: expected a struct name");
  EXPECT_EQ(ErrorOf("structs:\n  A:\n    fields:\n      null: int8\n"),
            "schema.yaml:4:7: expected a field name");
}

TEST(SchemaYamlErrors, BadTypecode) {
  EXPECT_EQ(ErrorOf("structs:\n  Point:\n    typecode: PP\n    fields: {x: int8}\n"),
            "schema.yaml:3:15: bad typecode 'PP' (one printable ASCII character)");
  EXPECT_EQ(ErrorOf("structs:\n  Point:\n    typecode: \" \"\n    fields: {x: int8}\n"),
            "schema.yaml:3:15: bad typecode ' ' (one printable ASCII character)");
  EXPECT_EQ(ErrorOf("structs:\n  Point:\n    typecode:\n    fields: {x: int8}\n"),
            "schema.yaml:3:5: empty typecode (one printable ASCII character)");
  EXPECT_EQ(ErrorOf("structs:\n  Point:\n    typecode: [P]\n    fields: {x: int8}\n"),
            "schema.yaml:3:15: bad typecode (one printable ASCII character)");
}

TEST(SchemaYamlErrors, DuplicateTypecode) {
  EXPECT_EQ(ErrorOf("structs:\n  A:\n    typecode: P\n    fields: {x: int8}\n"
                    "  B:\n    fields: {x: int8}\n"
                    "  C:\n    typecode: P\n    fields: {x: int8}\n"),
            "schema.yaml:8:15: typecode 'P' already used by struct 'A'");
}

TEST(SchemaYamlErrors, DuplicateField) {
  EXPECT_EQ(ErrorOf("structs:\n  A:\n    fields:\n      x: int8\n      y: int8\n      x: str\n"),
            "schema.yaml:6:7: duplicate field 'x' (first defined at line 4)");
  EXPECT_EQ(ErrorOf("structs:\n  A:\n    fields: {x: int8, x: str}\n"),
            "schema.yaml:3:23: duplicate field 'x' (first defined at line 3)");
}

TEST(SchemaYamlErrors, DuplicateStruct) {
  EXPECT_EQ(ErrorOf("structs:\n  A:\n    fields: {x: int8}\n  B:\n    fields: {x: int8}\n"
                    "  A:\n    fields: {y: int8}\n"),
            "schema.yaml:6:3: duplicate struct 'A' (first defined at line 2)");
}

TEST(SchemaYamlErrors, BadNames) {
  EXPECT_EQ(ErrorOf("structs:\n  a-b:\n    fields: {x: int8}\n"),
            "schema.yaml:2:3: bad struct name 'a-b' (letters, digits and '_', not starting "
            "with a digit)");
  EXPECT_EQ(ErrorOf("structs:\n  list:\n    fields: {x: int8}\n"),
            "schema.yaml:2:3: struct name 'list' is a built-in type");
  EXPECT_EQ(ErrorOf("structs:\n  A:\n    fields: {\"@x\": int8}\n"),
            "schema.yaml:3:14: bad field name '@x' (not empty, valid UTF-8, no '/' or NUL, "
            "not '.' or '..', not starting with '@')");
  EXPECT_EQ(ErrorOf("structs:\n  A:\n    fields:\n      a/b: int8\n"),
            "schema.yaml:4:7: bad field name 'a/b' (not empty, valid UTF-8, no '/' or NUL, "
            "not '.' or '..', not starting with '@')");
}

TEST(SchemaYamlErrors, RecursionWithoutIndirection) {
  EXPECT_EQ(ErrorOf("structs:\n  A:\n    fields: {me: A}\n"),
            "schema.yaml:3:18: struct 'A' contains itself without indirection: A.me -> A");
  EXPECT_EQ(ErrorOf("structs:\n  A:\n    fields:\n      n: int8\n      b: B\n"
                    "  B:\n    fields:\n      a: tuple<int8, A>\n"),
            "schema.yaml:5:10: struct 'A' contains itself without indirection: A.b -> B.a -> A");
  // Through an indirection that may be empty, recursion is fine.
  MustParse("structs:\n  A:\n    fields: {kids: list<A>, by: 'dict<str, A>', any: object}\n");
}

TEST(SchemaYamlErrors, NamesLongerThanAFileNameAreRefused) {
  // Field names are file names in a mount (NAME_MAX), and a longer name
  // would also pass YAML's 1024-character limit on plain keys when written.
  const std::string longest(255, 'f');
  Schema ok = MustParse("structs:\n  A:\n    fields: {" + longest + ": int8}\n");
  EXPECT_EQ(MustParse(ok.ToYaml()).ToCanonicalJson(), ok.ToCanonicalJson());
  EXPECT_EQ(ErrorOf("structs:\n  A:\n    fields: {" + longest + "g: int8}\n"),
            "schema.yaml:3:14: field name '" + std::string(32, 'f') +
                "...' is 256 bytes, longer than 255");
  // The quoted start is cut at a character boundary: "a" then 2-byte "é"s.
  std::string accented = "a";
  for (int i = 0; i < 200; ++i) accented += "\xc3\xa9";
  std::string quoted = "a";
  for (int i = 0; i < 15; ++i) quoted += "\xc3\xa9";
  EXPECT_EQ(ErrorOf("structs:\n  A:\n    fields: {\"" + accented + "\": int8}\n"),
            "schema.yaml:3:14: field name '" + quoted + "...' is 401 bytes, longer than 255");
  EXPECT_EQ(ErrorOf("structs:\n  S" + longest + ": {fields: {x: int8}}\n"),
            "schema.yaml:2:3: struct name 'S" + std::string(31, 'f') +
                "...' is 256 bytes, longer than 255");
}

TEST(SchemaYamlErrors, MoreThanOneDocument) {
  EXPECT_EQ(ErrorOf("structs:\n  A: {fields: {x: int8}}\n---\nstructs: {}\n"),
            "schema.yaml:4:1: more than one YAML document");
}

TEST(SchemaYamlErrors, AStrayCommaIsAnErrorNotAHang) {
  // yaml-cpp 0.7's LoadAll never returns on these (yaml-cpp #1040).
  EXPECT_EQ(ErrorOf(","), "schema.yaml:1:1: unexpected ','");
  EXPECT_EQ(ErrorOf("structs:\n  A: {fields: {x: int8}}\n,\n"),
            "schema.yaml:3:1: end of map not found");
  EXPECT_EQ(ErrorOf("[a, b]\n,\n"), "schema.yaml:2:1: unexpected ','");
}

TEST(SchemaYamlErrors, DeepNestingIsAnErrorNotACrash) {
  std::string yaml = "structs: " + std::string(100000, '[');
  std::string err = ErrorOf(yaml);
  EXPECT_TRUE(err.starts_with("schema.yaml:1:")) << err;
}

TEST(SchemaYamlRoundTrip, ToYamlLoadsBackToTheSameSchema) {
  Result<Schema> sample = LoadSchemaYaml(MAPFS_SAMPLE_DIR "/schema.yaml");
  ASSERT_TRUE(sample.ok()) << sample.status().ToString();
  Schema again = MustParse(sample->ToYaml());
  EXPECT_EQ(again.ToCanonicalJson(), sample->ToCanonicalJson());
  EXPECT_EQ(again.ToYaml(), sample->ToYaml());
}

TEST(SchemaYamlRoundTrip, SurvivesNamesThatNeedQuoting) {
  std::vector<StructDef> defs(2);
  defs[0].name = "Null";
  defs[0].typecode = "#";
  for (std::string name : {"with space", "a: b", "q\"\\'", "nl\n", "tab\t", "ls\xe2\x80\xa8",
                           "nel\xc2\x85", "1", "true", "~", "- dash", "caf\xc3\xa9", "#c",
                           "{x}", "y", "n"}) {
    defs[0].fields.push_back(Field{name, Type::Struct(1)});
  }
  defs[1].name = "Empty";
  Result<Schema> s = Schema::Create(std::move(defs));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Schema again = MustParse(s->ToYaml());
  EXPECT_EQ(again.ToCanonicalJson(), s->ToCanonicalJson()) << s->ToYaml();
}

TEST(SchemaYamlRoundTrip, CanonicalJsonOfLoadedSchemaReadsBack) {
  Result<Schema> sample = LoadSchemaYaml(MAPFS_SAMPLE_DIR "/schema.yaml");
  ASSERT_TRUE(sample.ok()) << sample.status().ToString();
  std::string json = sample->ToCanonicalJson();
  Result<Schema> back = Schema::FromCanonicalJson(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->ToCanonicalJson(), json);
}

}  // namespace
}  // namespace mapfs
