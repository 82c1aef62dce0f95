// Tests for the mount configuration loader (docs/mounts.md): the
// grammar and defaults, path resolution, every error at its exact
// FILE:LINE:COL, and SelectMounts.
#include "mapfs/mount_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "test_util.h"

namespace mapfs {
namespace {

MountConfig MustParse(std::string_view yaml, std::string_view filename = "/etc/mapfs/m.yaml") {
  Result<MountConfig> c = ParseMountConfig(yaml, filename);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(c).value() : MountConfig();
}

// The full message of a parse that must fail with InvalidArgument.
std::string ErrorOf(std::string_view yaml) {
  Result<MountConfig> c = ParseMountConfig(yaml, "m.yaml");
  if (c.ok()) return "(loaded)";
  EXPECT_TRUE(c.status().IsInvalidArgument()) << c.status().ToString();
  return c.status().message();
}

// A one-mount config whose `options` mapping is `options` (flow style).
std::string WithOptions(const std::string& options) {
  return "mounts:\n"
         "  m:\n"
         "    mountpoint: /mnt/m\n"
         "    sources: {a: /data/a.mapfs}\n"
         "    options: " +
         options + "\n";
}

std::vector<std::string> Names(const std::vector<MountSpec>& mounts) {
  std::vector<std::string> names;
  for (const MountSpec& m : mounts) names.push_back(m.name);
  return names;
}

constexpr char kDesignExample[] =
    "mounts:\n"
    "  catalog:\n"
    "    mountpoint: /mnt/catalog\n"
    "    sources:                    # name in the mount -> segment file\n"
    "      people: /data/people.mapfs\n"
    "      by_name: /data/people_by_name.mapfs\n"
    "    options: {allow_other: false, uid: 0, gid: 0, mode: \"0444\", cache_timeout: 3600, "
    "threads: 2}\n";

TEST(MountConfigParse, ReadsTheDesignExample) {
  MountConfig c = MustParse(kDesignExample);
  EXPECT_EQ(c.path, "/etc/mapfs/m.yaml");
  ASSERT_EQ(c.mounts.size(), 1u);
  const MountSpec& m = c.mounts[0];
  EXPECT_EQ(m.name, "catalog");
  EXPECT_EQ(m.mountpoint, "/mnt/catalog");
  EXPECT_EQ(m.where, "/etc/mapfs/m.yaml:2:3");
  ASSERT_EQ(m.sources.size(), 2u);
  EXPECT_EQ(m.sources[0].name, "people");
  EXPECT_EQ(m.sources[0].kind, MountSource::Kind::kPath);
  EXPECT_EQ(m.sources[0].path, "/data/people.mapfs");
  EXPECT_EQ(m.sources[0].where, "/etc/mapfs/m.yaml:5:15");
  EXPECT_EQ(m.sources[1].name, "by_name");
  EXPECT_EQ(m.sources[1].path, "/data/people_by_name.mapfs");
  EXPECT_FALSE(m.options.allow_other);
  EXPECT_EQ(m.options.uid, 0u);
  EXPECT_EQ(m.options.gid, 0u);
  EXPECT_EQ(m.options.mode, 0444u);
  EXPECT_EQ(m.options.cache_timeout, 3600.0);
  EXPECT_EQ(m.options.threads, 2u);
}

TEST(MountConfigParse, DefaultsWhenOptionsAreOmitted) {
  MountConfig c = MustParse("mounts:\n  m:\n    mountpoint: /mnt/m\n    sources: {a: /a}\n");
  const MountOptions& o = c.mounts.at(0).options;
  EXPECT_FALSE(o.allow_other);
  EXPECT_FALSE(o.default_permissions);
  EXPECT_FALSE(o.debug);
  EXPECT_FALSE(o.uid.has_value());
  EXPECT_FALSE(o.gid.has_value());
  EXPECT_EQ(o.mode, 0444u);
  EXPECT_EQ(o.cache_timeout, 3600.0);
  EXPECT_EQ(o.threads, 2u);
  EXPECT_FALSE(o.open);
  EXPECT_FALSE(o.exec);
  EXPECT_EQ(o.render_cache_mb, 64u);
}

TEST(MountConfigParse, EmptyOptionsMeanDefaults) {
  MountConfig a = MustParse(WithOptions("{}"));
  MountConfig b = MustParse(WithOptions(""));
  EXPECT_EQ(a.mounts.at(0).options.threads, 2u);
  EXPECT_EQ(b.mounts.at(0).options.threads, 2u);
  EXPECT_FALSE(b.mounts.at(0).options.uid.has_value());
}

TEST(MountConfigParse, ReadsEveryOption) {
  MountConfig c = MustParse(
      "mounts:\n"
      "  m:\n"
      "    mountpoint: /mnt/m\n"
      "    sources: {a: /a}\n"
      "    options:\n"
      "      allow_other: true\n"
      "      default_permissions: True\n"
      "      debug: TRUE\n"
      "      uid: 1000\n"
      "      gid: 4294967294\n"
      "      mode: 0640\n"
      "      cache_timeout: 0.5\n"
      "      threads: 256\n"
      "      open: true\n"
      "      exec: true\n"
      "      render_cache_mb: 128\n");
  const MountOptions& o = c.mounts.at(0).options;
  EXPECT_TRUE(o.allow_other);
  EXPECT_TRUE(o.default_permissions);
  EXPECT_TRUE(o.debug);
  EXPECT_EQ(o.uid, 1000u);
  EXPECT_EQ(o.gid, 4294967294u);
  EXPECT_EQ(o.mode, 0640u);
  EXPECT_EQ(o.cache_timeout, 0.5);
  EXPECT_EQ(o.threads, 256u);
  EXPECT_TRUE(o.open);
  EXPECT_TRUE(o.exec);
  EXPECT_EQ(o.render_cache_mb, 128u);
}

TEST(MountConfigParse, ModeIsOctalQuotedOrNot) {
  EXPECT_EQ(MustParse(WithOptions("{mode: \"0444\"}")).mounts.at(0).options.mode, 0444u);
  EXPECT_EQ(MustParse(WithOptions("{mode: 0444}")).mounts.at(0).options.mode, 0444u);
  EXPECT_EQ(MustParse(WithOptions("{mode: 444}")).mounts.at(0).options.mode, 0444u);
  EXPECT_EQ(MustParse(WithOptions("{mode: 0o755}")).mounts.at(0).options.mode, 0755u);
  EXPECT_EQ(MustParse(WithOptions("{mode: \"0777\"}")).mounts.at(0).options.mode, 0777u);
  EXPECT_EQ(MustParse(WithOptions("{mode: 0}")).mounts.at(0).options.mode, 0u);
}

TEST(MountConfigParse, CacheTimeoutAcceptsZeroAndIntegers) {
  EXPECT_EQ(MustParse(WithOptions("{cache_timeout: 0}")).mounts.at(0).options.cache_timeout, 0.0);
  EXPECT_EQ(MustParse(WithOptions("{cache_timeout: 86400}")).mounts.at(0).options.cache_timeout,
            86400.0);
}

TEST(MountConfigParse, KeepsMountAndSourceOrderOfTheFile) {
  MountConfig c = MustParse(
      "mounts:\n"
      "  zeta:\n"
      "    mountpoint: /mnt/z\n"
      "    sources: {z: /z, a: /a, m: /m}\n"
      "  alpha:\n"
      "    mountpoint: /mnt/a\n"
      "    sources: {x: /x}\n");
  EXPECT_EQ(Names(c.mounts), (std::vector<std::string>{"zeta", "alpha"}));
  const auto& s = c.mounts[0].sources;
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].name, "z");
  EXPECT_EQ(s[1].name, "a");
  EXPECT_EQ(s[2].name, "m");
}

TEST(MountConfigParse, ResolvesRelativePathsAgainstTheConfigDirectory) {
  MountConfig c = MustParse(
      "mounts:\n"
      "  m:\n"
      "    mountpoint: mnt/here/\n"
      "    sources:\n"
      "      a: people.mapfs\n"
      "      b: ../data/./segments//\n"
      "      c: /abs//x/../y\n",
      "/srv/conf/m.yaml");
  const MountSpec& m = c.mounts.at(0);
  EXPECT_EQ(m.mountpoint, "/srv/conf/mnt/here");
  EXPECT_EQ(m.sources[0].path, "/srv/conf/people.mapfs");
  EXPECT_EQ(m.sources[1].path, "/srv/data/segments");
  EXPECT_EQ(m.sources[2].path, "/abs/y");
}

TEST(MountConfigParse, RelativeConfigNameResolvesAgainstTheCurrentDirectory) {
  MountConfig c = MustParse("mounts: {m: {mountpoint: mnt, sources: {a: a.mapfs}}}", "m.yaml");
  std::string cwd = std::filesystem::current_path().lexically_normal().string();
  if (cwd.size() > 1 && cwd.back() == '/') cwd.pop_back();
  EXPECT_EQ(c.mounts.at(0).mountpoint, (cwd == "/" ? "" : cwd) + "/mnt");
  EXPECT_EQ(c.mounts.at(0).sources.at(0).path, (cwd == "/" ? "" : cwd) + "/a.mapfs");
}

TEST(MountConfigParse, ReadsSharedArraySources) {
  MountConfig c = MustParse("mounts: {m: {mountpoint: /mnt, sources: {frames: shm://frames}}}");
  const MountSource& s = c.mounts.at(0).sources.at(0);
  EXPECT_EQ(s.kind, MountSource::Kind::kSharedArray);
  EXPECT_EQ(s.path, "frames");
}

TEST(MountConfigParse, SourceNamesMayHoldDotsAndSpacesInside) {
  MountConfig c = MustParse("mounts: {m: {mountpoint: /mnt, sources: {\"a.b c@d\": /a}}}");
  EXPECT_EQ(c.mounts.at(0).sources.at(0).name, "a.b c@d");
}

TEST(MountConfigLoad, ReadsAFileAndResolvesAgainstItsDirectory) {
  testing::TempDir dir;
  testing::WriteFileOrDie(dir.File("mounts.yaml"),
                          "mounts:\n  m:\n    mountpoint: mnt\n    sources: {p: people.mapfs}\n");
  Result<MountConfig> c = LoadMountConfig(dir.File("mounts.yaml"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->path, dir.File("mounts.yaml"));
  EXPECT_EQ(c->mounts.at(0).mountpoint, dir.File("mnt"));
  EXPECT_EQ(c->mounts.at(0).sources.at(0).path, dir.File("people.mapfs"));
  EXPECT_EQ(c->mounts.at(0).sources.at(0).where, dir.File("mounts.yaml") + ":4:18");
}

TEST(MountConfigLoad, MissingFileIsIOError) {
  testing::TempDir dir;
  Result<MountConfig> c = LoadMountConfig(dir.File("absent.yaml"));
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.status().IsIOError());
  EXPECT_NE(c.status().message().find("absent.yaml"), std::string::npos);
}

TEST(MountConfigLoad, EmptyFileIsAnErrorAtOneOne) {
  testing::TempDir dir;
  testing::WriteFileOrDie(dir.File("m.yaml"), "");
  Result<MountConfig> c = LoadMountConfig(dir.File("m.yaml"));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), dir.File("m.yaml") +
                                      ":1:1: empty mount configuration (expected a mapping with "
                                      "'mounts')");
}

TEST(MountConfigErrors, CommentsOnlyIsEmpty) {
  EXPECT_EQ(ErrorOf("# nothing here\n"),
            "m.yaml:1:1: empty mount configuration (expected a mapping with 'mounts')");
}

TEST(MountConfigErrors, YamlSyntaxErrorHasPosition) {
  EXPECT_EQ(ErrorOf("mounts:\n  m: {mountpoint: /x\n"), "m.yaml:3:1: end of map flow not found");
}

TEST(MountConfigErrors, TopLevelMustBeAMapping) {
  EXPECT_EQ(ErrorOf("- a\n"), "m.yaml:1:1: expected a mapping with 'mounts'");
}

TEST(MountConfigErrors, UnknownTopLevelKey) {
  EXPECT_EQ(ErrorOf("mounts: {m: {mountpoint: /m, sources: {a: /a}}}\nmount: {}\n"),
            "m.yaml:2:1: unknown key 'mount' (expected mounts)");
}

TEST(MountConfigErrors, DuplicateTopLevelKey) {
  EXPECT_EQ(ErrorOf("mounts: {m: {mountpoint: /m, sources: {a: /a}}}\n"
                    "mounts: {n: {mountpoint: /n, sources: {a: /a}}}\n"),
            "m.yaml:2:1: duplicate key 'mounts'");
}

TEST(MountConfigErrors, MissingMounts) {
  EXPECT_EQ(ErrorOf("{}\n"), "m.yaml:1:1: missing 'mounts'");
}

TEST(MountConfigErrors, EmptyMounts) {
  EXPECT_EQ(ErrorOf("mounts:\n"), "m.yaml:1:1: 'mounts' is empty");
  EXPECT_EQ(ErrorOf("mounts: {}\n"), "m.yaml:1:9: 'mounts' defines no mount");
  EXPECT_EQ(ErrorOf("mounts: [a]\n"),
            "m.yaml:1:9: 'mounts' must be a mapping of mount names to definitions");
}

TEST(MountConfigErrors, DuplicateMountName) {
  EXPECT_EQ(ErrorOf("mounts:\n"
                    "  m: {mountpoint: /a, sources: {a: /a}}\n"
                    "  m: {mountpoint: /b, sources: {a: /a}}\n"),
            "m.yaml:3:3: duplicate mount 'm' (first defined at m.yaml:2:3)");
}

TEST(MountConfigErrors, MountNameStartingWithDash) {
  EXPECT_EQ(ErrorOf("mounts:\n  -f: {mountpoint: /a, sources: {a: /a}}\n"),
            "m.yaml:2:3: mount name '-f' starts with '-'");
}

TEST(MountConfigErrors, MountWithoutDefinition) {
  EXPECT_EQ(ErrorOf("mounts:\n  m:\n"),
            "m.yaml:2:3: mount 'm' has no definition (expected mountpoint, sources, options)");
  EXPECT_EQ(ErrorOf("mounts:\n  m: /mnt\n"),
            "m.yaml:2:6: mount 'm' must be a mapping (expected mountpoint, sources, options)");
}

TEST(MountConfigErrors, UnknownMountKey) {
  EXPECT_EQ(ErrorOf("mounts:\n"
                    "  m:\n"
                    "    mountpoint: /a\n"
                    "    source: {a: /a}\n"),
            "m.yaml:4:5: unknown key 'source' (expected mountpoint, sources, options)");
}

TEST(MountConfigErrors, DuplicateMountKey) {
  EXPECT_EQ(ErrorOf("mounts:\n"
                    "  m:\n"
                    "    mountpoint: /a\n"
                    "    sources: {a: /a}\n"
                    "    mountpoint: /b\n"),
            "m.yaml:5:5: duplicate key 'mountpoint'");
}

TEST(MountConfigErrors, MissingMountpoint) {
  EXPECT_EQ(ErrorOf("mounts:\n  m:\n    sources: {a: /a}\n"),
            "m.yaml:2:3: mount 'm' has no 'mountpoint'");
}

TEST(MountConfigErrors, MissingSources) {
  EXPECT_EQ(ErrorOf("mounts:\n  m:\n    mountpoint: /a\n"),
            "m.yaml:2:3: mount 'm' has no 'sources'");
}

TEST(MountConfigErrors, BadMountpoint) {
  EXPECT_EQ(ErrorOf("mounts:\n  m:\n    mountpoint:\n    sources: {a: /a}\n"),
            "m.yaml:3:5: 'mountpoint' has no value");
  EXPECT_EQ(ErrorOf("mounts:\n  m:\n    mountpoint: [/a]\n    sources: {a: /a}\n"),
            "m.yaml:3:17: 'mountpoint' must be a path");
  EXPECT_EQ(ErrorOf("mounts:\n  m:\n    mountpoint: \"\"\n    sources: {a: /a}\n"),
            "m.yaml:3:17: 'mountpoint' is an empty path");
  EXPECT_EQ(ErrorOf("mounts:\n  m:\n    mountpoint: /x/..//\n    sources: {a: /a}\n"),
            "m.yaml:3:17: the mountpoint cannot be '/'");
  EXPECT_EQ(ErrorOf("mounts:\n  m:\n    mountpoint: ~/mnt\n    sources: {a: /a}\n"),
            "m.yaml:3:17: '~' is not expanded; write the full path");
}

TEST(MountConfigErrors, TwoMountsOnOneMountpoint) {
  EXPECT_EQ(ErrorOf("mounts:\n"
                    "  a: {mountpoint: /mnt/x, sources: {s: /s}}\n"
                    "  b: {mountpoint: /mnt/./x/, sources: {s: /s}}\n"),
            "m.yaml:3:19: mountpoint /mnt/x is already used by mount 'a' (m.yaml:2:3)");
}

TEST(MountConfigErrors, MountpointInsideAnotherMount) {
  EXPECT_EQ(ErrorOf("mounts:\n"
                    "  a: {mountpoint: /mnt/x/y, sources: {s: /s}}\n"
                    "  b: {mountpoint: /mnt/x, sources: {s: /s}}\n"),
            "m.yaml:3:19: mountpoint /mnt/x/y of mount 'a' is inside mountpoint /mnt/x of "
            "mount 'b'");
  // A shared prefix that is not a parent directory is fine.
  MustParse(
      "mounts:\n"
      "  a: {mountpoint: /mnt/xy, sources: {s: /s}}\n"
      "  b: {mountpoint: /mnt/x, sources: {s: /s}}\n");
}

TEST(MountConfigErrors, BadSources) {
  EXPECT_EQ(ErrorOf("mounts:\n  m:\n    mountpoint: /a\n    sources:\n"),
            "m.yaml:4:5: 'sources' is empty");
  EXPECT_EQ(ErrorOf("mounts:\n  m:\n    mountpoint: /a\n    sources: {}\n"),
            "m.yaml:4:14: 'sources' defines no source");
  EXPECT_EQ(ErrorOf("mounts:\n  m:\n    mountpoint: /a\n    sources: [/a, /b]\n"),
            "m.yaml:4:14: 'sources' must be a mapping of names to segment paths");
}

TEST(MountConfigErrors, DuplicateSourceName) {
  EXPECT_EQ(ErrorOf("mounts:\n"
                    "  m:\n"
                    "    mountpoint: /mnt\n"
                    "    sources:\n"
                    "      people: /a\n"
                    "      people: /b\n"),
            "m.yaml:6:7: duplicate source 'people' in mount 'm' (first defined at m.yaml:5:7)");
}

TEST(MountConfigErrors, SameSourceNameInTwoMountsIsFine) {
  MountConfig c = MustParse(
      "mounts:\n"
      "  a: {mountpoint: /a, sources: {people: /p}}\n"
      "  b: {mountpoint: /b, sources: {people: /p}}\n");
  EXPECT_EQ(c.mounts.size(), 2u);
}

TEST(MountConfigErrors, SourceNameThatCouldNotBeAFileName) {
  auto error = [](const std::string& name) {
    return ErrorOf("mounts:\n  m:\n    mountpoint: /mnt\n    sources:\n      " + name + ": /a\n");
  };
  EXPECT_EQ(error("a/b"),
            "m.yaml:5:7: source name 'a/b' contains '/'; it must be usable as a file name");
  EXPECT_EQ(error("\"\""), "m.yaml:5:7: source name '' is empty; it must be usable as a file name");
  EXPECT_EQ(error(".hidden"),
            "m.yaml:5:7: source name '.hidden' starts with '.'; it must be usable as a file name");
  EXPECT_EQ(error("\"..\""),
            "m.yaml:5:7: source name '..' starts with '.'; it must be usable as a file name");
  EXPECT_EQ(error("\"@json\""),
            "m.yaml:5:7: source name '@json' starts with '@' (names starting with '@' are "
            "reserved); it must be usable as a file name");
  EXPECT_EQ(error(std::string(256, 'x')),
            "m.yaml:5:7: source name '" + std::string(256, 'x') +
                "' is longer than 255 bytes; it must be usable as a file name");
  EXPECT_NE(error("\"a\\0b\"").find("contains NUL"), std::string::npos);
  EXPECT_EQ(error("[a]"), "m.yaml:5:7: expected a source name");
}

TEST(MountConfigErrors, BadSourceValue) {
  auto error = [](const std::string& value) {
    return ErrorOf("mounts:\n  m:\n    mountpoint: /mnt\n    sources:\n      p: " + value + "\n");
  };
  EXPECT_EQ(error(""), "m.yaml:5:7: 'p' has no value");
  EXPECT_EQ(error("{x: 1}"), "m.yaml:5:10: 'p' must be a path or shm://NAME");
  EXPECT_EQ(error("\"\""), "m.yaml:5:10: 'p' is an empty path");
  EXPECT_EQ(error("http://host/p.mapfs"),
            "m.yaml:5:10: unsupported source 'http://host/p.mapfs' (expected a path or "
            "shm://NAME)");
  EXPECT_EQ(error("file:///data/a"),
            "m.yaml:5:10: unsupported source 'file:///data/a' (expected a path or shm://NAME)");
  EXPECT_EQ(error("shm://"), "m.yaml:5:10: shm://: empty name");
  EXPECT_EQ(error("shm://a/b"),
            "m.yaml:5:10: shm://a/b: a shm name is one path component of at most 255 bytes");
}

TEST(MountConfigErrors, PathWithSchemeLikeTextInsideIsAPath) {
  MountConfig c = MustParse("mounts: {m: {mountpoint: /mnt, sources: {a: /data/x://y}}}");
  EXPECT_EQ(c.mounts.at(0).sources.at(0).path, "/data/x:/y");
}

TEST(MountConfigErrors, UnknownOption) {
  EXPECT_EQ(ErrorOf(WithOptions("{allow_others: true}")),
            "m.yaml:5:15: unknown option 'allow_others' (expected allow_other, "
            "default_permissions, uid, gid, mode, cache_timeout, threads, render_cache_mb, open, "
            "exec, passthrough, debug)");
}

TEST(MountConfigErrors, DuplicateOption) {
  EXPECT_EQ(ErrorOf(WithOptions("{uid: 1, uid: 2}")), "m.yaml:5:23: duplicate option 'uid'");
}

TEST(MountConfigErrors, OptionsMustBeAMapping) {
  EXPECT_EQ(ErrorOf(WithOptions("[allow_other]")),
            "m.yaml:5:14: 'options' must be a mapping of option names to values");
}

TEST(MountConfigErrors, BadBool) {
  EXPECT_EQ(ErrorOf(WithOptions("{allow_other: yes}")),
            "m.yaml:5:28: 'allow_other' must be true or false, got 'yes'");
  EXPECT_EQ(ErrorOf(WithOptions("{debug: 1}")),
            "m.yaml:5:22: 'debug' must be true or false, got '1'");
  EXPECT_EQ(ErrorOf(WithOptions("{default_permissions: [true]}")),
            "m.yaml:5:36: 'default_permissions' must be true or false");
  EXPECT_EQ(ErrorOf(WithOptions("{allow_other: }")), "m.yaml:5:15: 'allow_other' has no value");
}

TEST(MountConfigErrors, BadUidGid) {
  EXPECT_EQ(ErrorOf(WithOptions("{uid: -1}")),
            "m.yaml:5:20: 'uid' must be an integer from 0 to 4294967294, got '-1'");
  EXPECT_EQ(ErrorOf(WithOptions("{gid: 4294967295}")),
            "m.yaml:5:20: 'gid' must be an integer from 0 to 4294967294, got '4294967295'");
  EXPECT_EQ(ErrorOf(WithOptions("{uid: root}")),
            "m.yaml:5:20: 'uid' must be an integer from 0 to 4294967294, got 'root'");
  EXPECT_EQ(ErrorOf(WithOptions("{uid: 1.5}")),
            "m.yaml:5:20: 'uid' must be an integer from 0 to 4294967294, got '1.5'");
  EXPECT_EQ(ErrorOf(WithOptions("{uid: +1}")),
            "m.yaml:5:20: 'uid' must be an integer from 0 to 4294967294, got '+1'");
  EXPECT_EQ(ErrorOf(WithOptions("{gid: {a: 1}}")),
            "m.yaml:5:20: 'gid' must be a non-negative integer");
}

TEST(MountConfigErrors, BadMode) {
  const std::string msg =
      "m.yaml:5:21: 'mode' must be octal permission bits from 0 to 0777 "
      "(such as \"0444\"), got ";
  EXPECT_EQ(ErrorOf(WithOptions("{mode: \"0888\"}")), msg + "'0888'");
  EXPECT_EQ(ErrorOf(WithOptions("{mode: 010000}")), msg + "'010000'");
  EXPECT_EQ(ErrorOf(WithOptions("{mode: r--r--r--}")), msg + "'r--r--r--'");
  EXPECT_EQ(ErrorOf(WithOptions("{mode: -0444}")), msg + "'-0444'");
  EXPECT_EQ(ErrorOf(WithOptions("{mode: \"\"}")), msg + "''");
}

TEST(MountConfigErrors, ModeRefusesSetuidSetgidAndSticky) {
  for (const char* mode : {"04555", "02555", "01555", "07777", "4444"}) {
    EXPECT_EQ(ErrorOf(WithOptions(std::string("{mode: \"") + mode + "\"}")),
              std::string("m.yaml:5:21: 'mode' must be permission bits from 0 to 0777, got '") +
                  mode + "': setuid, setgid and sticky bits are not allowed")
        << mode;
  }
}

TEST(MountConfigErrors, BadThreads) {
  const std::string msg = "m.yaml:5:24: 'threads' must be an integer from 1 to 256, got ";
  EXPECT_EQ(ErrorOf(WithOptions("{threads: 0}")), msg + "'0'");
  EXPECT_EQ(ErrorOf(WithOptions("{threads: 257}")), msg + "'257'");
  EXPECT_EQ(ErrorOf(WithOptions("{threads: two}")), msg + "'two'");
  EXPECT_EQ(MustParse(WithOptions("{threads: 1}")).mounts.at(0).options.threads, 1u);
}

TEST(MountConfigErrors, BadCacheTimeout) {
  const std::string msg =
      "m.yaml:5:30: 'cache_timeout' must be a non-negative number of seconds, got ";
  EXPECT_EQ(ErrorOf(WithOptions("{cache_timeout: -1}")), msg + "'-1'");
  EXPECT_EQ(ErrorOf(WithOptions("{cache_timeout: .inf}")), msg + "'.inf'");
  EXPECT_EQ(ErrorOf(WithOptions("{cache_timeout: nan}")), msg + "'nan'");
  EXPECT_EQ(ErrorOf(WithOptions("{cache_timeout: 1h}")), msg + "'1h'");
}

TEST(MountConfigErrors, ErrorInALaterMountStopsTheWholeLoad) {
  // The first mount is valid; nothing may come back when the second is not.
  Result<MountConfig> c = ParseMountConfig(
      "mounts:\n"
      "  good: {mountpoint: /a, sources: {s: /s}}\n"
      "  bad: {mountpoint: /b, sources: {s: /s}, x: 1}\n",
      "m.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "m.yaml:3:43: unknown key 'x' (expected mountpoint, sources, options)");
}

TEST(MountConfigErrors, AStrayCommaIsAnErrorNotAHang) {
  EXPECT_EQ(ErrorOf(",\nmounts: {}\n"), "m.yaml:1:1: unexpected ','");
}

TEST(MountConfigErrors, MoreThanOneDocument) {
  EXPECT_EQ(ErrorOf("mounts: {m: {mountpoint: /a, sources: {s: /s}}}\n---\nmounts: {}\n"),
            "m.yaml:3:1: more than one YAML document");
}

TEST(MountConfigErrors, DeepNestingIsAnErrorNotACrash) {
  std::string yaml = "mounts: " + std::string(5000, '[') + std::string(5000, ']') + "\n";
  std::string msg = ErrorOf(yaml);
  EXPECT_TRUE(msg.starts_with("m.yaml:")) << msg;
}

class SelectMountsTest : public ::testing::Test {
 protected:
  MountConfig config_ = MustParse(
      "mounts:\n"
      "  a: {mountpoint: /mnt/a, sources: {s: /s}}\n"
      "  b: {mountpoint: /mnt/b, sources: {s: /s}}\n"
      "  c: {mountpoint: /mnt/c, sources: {s: /s}}\n",
      "m.yaml");
};

TEST_F(SelectMountsTest, NoNamesSelectsAllInFileOrder) {
  Result<std::vector<MountSpec>> chosen = SelectMounts(config_, {});
  ASSERT_TRUE(chosen.ok()) << chosen.status().ToString();
  EXPECT_EQ(Names(*chosen), (std::vector<std::string>{"a", "b", "c"}));
}

TEST_F(SelectMountsTest, NamesSelectInTheGivenOrder) {
  Result<std::vector<MountSpec>> chosen = SelectMounts(config_, {"c", "a"});
  ASSERT_TRUE(chosen.ok()) << chosen.status().ToString();
  EXPECT_EQ(Names(*chosen), (std::vector<std::string>{"c", "a"}));
  EXPECT_EQ(chosen->at(0).mountpoint, "/mnt/c");
}

TEST_F(SelectMountsTest, UnknownNameIsNotFound) {
  Result<std::vector<MountSpec>> chosen = SelectMounts(config_, {"a", "zz"});
  ASSERT_FALSE(chosen.ok());
  EXPECT_TRUE(chosen.status().IsNotFound());
  EXPECT_EQ(chosen.status().message(), "m.yaml: no mount named 'zz' (it has: a, b, c)");
}

TEST_F(SelectMountsTest, NameGivenTwiceIsAnError) {
  Result<std::vector<MountSpec>> chosen = SelectMounts(config_, {"b", "b"});
  ASSERT_FALSE(chosen.ok());
  EXPECT_TRUE(chosen.status().IsInvalidArgument());
  EXPECT_EQ(chosen.status().message(), "m.yaml: mount 'b' named twice");
}

TEST_F(SelectMountsTest, FindReturnsTheNamedMount) {
  ASSERT_NE(config_.Find("b"), nullptr);
  EXPECT_EQ(config_.Find("b")->mountpoint, "/mnt/b");
  EXPECT_EQ(config_.Find("nope"), nullptr);
}

}  // namespace
}  // namespace mapfs
