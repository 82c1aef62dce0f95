// The mount options: the -o list, and that -o and mounts.yaml share one
// validator (same names, ranges and messages).
#include "mapfs/mount_options.h"

#include <gtest/gtest.h>

#include <string>

#include "mapfs/mount_config.h"

namespace mapfs {
namespace {

MountOptions MustParseList(std::string_view list) {
  MountOptions o;
  Status st = ParseMountOptionList(list, &o);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return o;
}

std::string ListError(std::string_view list) {
  MountOptions o;
  Status st = ParseMountOptionList(list, &o);
  return st.ok() ? "OK" : std::string(st.message());
}

// The message of one option in a mounts.yaml, without its position.
std::string YamlError(const std::string& option) {
  Result<MountConfig> c = ParseMountConfig(
      "mounts:\n  m:\n    mountpoint: /mnt/m\n    sources: {a: /a}\n    options: {" + option +
          "}\n",
      "m.yaml");
  if (c.ok()) return "OK";
  std::string msg(c.status().message());
  // "m.yaml:5:COL: " comes first.
  return msg.substr(msg.find(": ") + 2);
}

TEST(MountOptionList, DefaultsAreReadOnlyNoexecNoOpen) {
  const MountOptions o = MustParseList("");
  EXPECT_EQ(o.mode, 0444u);
  EXPECT_FALSE(o.exec);
  EXPECT_FALSE(o.open);
  EXPECT_TRUE(o.passthrough);
  EXPECT_EQ(o.threads, 2u);
  EXPECT_EQ(o.render_cache_mb, 64u);
  EXPECT_EQ(o.cache_timeout, 3600.0);
  EXPECT_FALSE(o.uid.has_value());
}

TEST(MountOptionList, ReadsEveryOption) {
  const MountOptions o = MustParseList(
      "allow_other,default_permissions,debug,uid=1000,gid=0,mode=0550,cache_timeout=1.5,"
      "threads=256,open,exec,render_cache_mb=8,passthrough=false");
  EXPECT_TRUE(o.allow_other);
  EXPECT_TRUE(o.default_permissions);
  EXPECT_TRUE(o.debug);
  EXPECT_EQ(o.uid, 1000u);
  EXPECT_EQ(o.gid, 0u);
  EXPECT_EQ(o.mode, 0550u);
  EXPECT_EQ(o.cache_timeout, 1.5);
  EXPECT_EQ(o.threads, 256u);
  EXPECT_TRUE(o.open);
  EXPECT_TRUE(o.exec);
  EXPECT_EQ(o.render_cache_mb, 8u);
  EXPECT_FALSE(o.passthrough);
}

TEST(MountOptionList, NegatedAndExplicitBooleans) {
  EXPECT_FALSE(MustParseList("exec,noexec").exec);
  EXPECT_FALSE(MustParseList("open,no_open").open);
  EXPECT_TRUE(MustParseList("allow_other=true").allow_other);
  EXPECT_FALSE(MustParseList("allow_other,allow_other=false").allow_other);
}

TEST(MountOptionList, GenericMountNamesAreAcceptedAndChangeNothing) {
  const MountOptions o = MustParseList("rw,ro,dev,nodev,suid,nosuid,atime,noatime,auto,noauto,"
                                       "user,nouser,_netdev");
  const MountOptions d;
  EXPECT_EQ(o.exec, d.exec);
  EXPECT_EQ(o.mode, d.mode);
  EXPECT_EQ(o.allow_other, d.allow_other);
}

TEST(MountOptionList, ErrorsNameTheOption) {
  EXPECT_EQ(ListError("allow_other,threads=0"),
            "mount option 'threads=0': 'threads' must be an integer from 1 to 256, got '0'");
  EXPECT_EQ(ListError("mode=4755"),
            "mount option 'mode=4755': 'mode' must be permission bits from 0 to 0777, got "
            "'4755': setuid, setgid and sticky bits are not allowed");
  EXPECT_EQ(ListError("mode=0888"),
            "mount option 'mode=0888': 'mode' must be octal permission bits from 0 to 0777 "
            "(such as \"0444\"), got '0888'");
  EXPECT_EQ(ListError("uid"), "mount option 'uid': 'uid' needs a value");
  EXPECT_EQ(ListError("debug=yes"), "mount option 'debug=yes': 'debug' must be true or false, "
                                    "got 'yes'");
  EXPECT_EQ(ListError("bogus"),
            "mount option 'bogus': unknown option 'bogus' (expected allow_other, "
            "default_permissions, uid, gid, mode, cache_timeout, threads, render_cache_mb, open, "
            "exec, passthrough, debug)");
  // The mount(8) flags take no value.
  EXPECT_EQ(ListError("ro=1"),
            "mount option 'ro=1': unknown option 'ro' (expected allow_other, "
            "default_permissions, uid, gid, mode, cache_timeout, threads, render_cache_mb, open, "
            "exec, passthrough, debug)");
}

TEST(MountOptionList, ModeAboveOctal777IsRefused) {
  for (const char* mode : {"04444", "02444", "01444", "07777", "1000"}) {
    EXPECT_NE(ListError(std::string("mode=") + mode), "OK") << mode;
  }
  EXPECT_EQ(MustParseList("mode=0777").mode, 0777u);
  EXPECT_EQ(MustParseList("mode=0").mode, 0u);
}

// Both spellings reach the same validator: every value gets the same answer.
TEST(MountOptionParity, YamlAndListAgreeOnEveryOption) {
  struct Case {
    const char* name;
    const char* value;
  };
  const Case cases[] = {
      {"threads", "0"},        {"threads", "256"},        {"threads", "257"},
      {"mode", "0555"},        {"mode", "04555"},         {"mode", "0888"},
      {"uid", "4294967295"},   {"gid", "7"},              {"cache_timeout", "-1"},
      {"cache_timeout", "0.5"}, {"render_cache_mb", "1048577"}, {"render_cache_mb", "0"},
      {"open", "true"},        {"exec", "maybe"},         {"allow_other", "false"},
      {"nonsense", "1"},
  };
  for (const Case& c : cases) {
    const std::string item = std::string(c.name) + "=" + c.value;
    std::string from_list = ListError(item);
    const std::string prefix = "mount option '" + item + "': ";
    if (from_list.starts_with(prefix)) from_list = from_list.substr(prefix.size());
    std::string yaml_value = std::string("\"") + c.value + "\"";
    EXPECT_EQ(YamlError(std::string(c.name) + ": " + yaml_value), from_list) << item;
  }
}

}  // namespace
}  // namespace mapfs
