// Settings layering (env over file over default) and size parsing.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <map>

#include "core/config.hpp"
#include "core/error.hpp"
#include "support/test_env.hpp"

using namespace rmm;

namespace {

// The [serve] keys these tests use; in rmm they come from the server's settings table
// (src/cli/serve_settings.cpp, checked by CliServeSettings).
const bool serve_keys_declared =
    (Config::declare_keys("serve", {"port", "host", "kv_unified", "parallel", "chat_template", "models_dir"}),
     true);

std::filesystem::path write_config(const std::string& name, const std::string& text) {
  EXPECT_TRUE(serve_keys_declared);
  const auto p = test::temp_dir("config-" + name) / "config.toml";
  std::ofstream(p) << text;
  return p;
}

}  // namespace

TEST(Config, FileValuesAndDefaults) {
  ::unsetenv("RMM_PORT");
  ::unsetenv("RMM_HOST");
  const auto c =
      Config::load(write_config("file", "[serve]\nport = 6000\nhost = \"0.0.0.0\"\nkv_unified = true\n"));
  EXPECT_EQ(c.get_int("serve", "port", 5000, 0, 65535), 6000);
  EXPECT_EQ(c.get_string("serve", "host", "127.0.0.1"), "0.0.0.0");
  EXPECT_TRUE(c.get_bool("serve", "kv_unified", false));
  EXPECT_EQ(c.get_int("serve", "parallel", 4, 1, 256), 4);  // absent: the default
  // Only known keys may be read: [other] port is no setting, so asking for it is a bug.
  EXPECT_THROW(c.get_int("other", "port", 7, 0, 65535), Error);
}

TEST(Config, EnvironmentWinsOverTheFile) {
  const auto c = Config::load(write_config("env", "[serve]\nport = 6000\n"));
  ::setenv("RMM_PORT", "7001", 1);
  EXPECT_EQ(c.get_int("serve", "port", 5000, 0, 65535), 7001);
  ::setenv("RMM_PORT", "not-a-number", 1);
  try {
    c.get_int("serve", "port", 5000, 0, 65535);
    FAIL() << "accepted a bad RMM_PORT";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("RMM_PORT"), std::string::npos) << e.what();
  }
  ::unsetenv("RMM_PORT");
}

TEST(Config, OtherSectionsReadEnvironmentNamesWithTheirSection) {
  const auto c = Config::load(write_config("sections", "[cache]\nttl = \"1h\"\n"));
  ::unsetenv("RMM_CACHE_TTL");
  ::setenv("RMM_TTL", "5m", 1);  // not the cache's: [cache] keys carry their section
  EXPECT_EQ(c.get_string("cache", "ttl", ""), "1h");
  ::setenv("RMM_CACHE_TTL", "2h", 1);
  const auto v = c.get("cache", "ttl");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->first, "2h");
  EXPECT_EQ(v->second, "RMM_CACHE_TTL");
  ::unsetenv("RMM_TTL");
  ::unsetenv("RMM_CACHE_TTL");
}

TEST(Config, BadValuesNameTheirSource) {
  ::unsetenv("RMM_PARALLEL");
  const auto c = Config::load(write_config("bad", "[serve]\nparallel = 0\nkv_unified = \"maybe\"\n"));
  try {
    c.get_int("serve", "parallel", 4, 1, 256);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[serve] parallel"), std::string::npos) << e.what();
  }
  EXPECT_THROW(c.get_bool("serve", "kv_unified", false), Error);
}

TEST(Config, BrokenTomlIsAnErrorWithFileAndLine) {
  const auto p = write_config("broken", "[serve]\nport = = 3\n");
  try {
    Config::load(p);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(p.string() + ":2"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(Config::load(test::temp_dir("config-missing") / "none.toml"));  // missing file: empty
}

// toml++ refuses deeply nested inline values itself (256 levels); dotted keys
// and table headers it would follow down to a stack overflow are refused
// before it parses. Either way a clean error naming the file, never a crash.
TEST(Config, DeeplyNestedTomlIsAnErrorNotACrash) {
  const int n = 100000;
  std::string dotted = "[serve]\nport = 1\nx", header = "[serve]\nport = 1\n[a", tables = "[serve]\nx = ";
  for (int i = 0; i < n; ++i) {
    dotted += ".a";
    header += ".a";
    tables += "{a = ";
  }
  tables += "1" + std::string(n, '}') + "\n";
  const std::map<std::string, std::string> cases = {
      {"arrays", "[serve]\nx = " + std::string(n, '[') + "1" + std::string(n, ']') + "\n"},
      {"tables", tables},
      {"dotted", dotted + " = 1\n"},
      {"header", header + "]\ny = 2\n"},
  };
  for (const auto& [name, text] : cases) {
    SCOPED_TRACE(name);
    const auto p = write_config("deep-" + name, text);
    try {
      Config::load(p);
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
      EXPECT_NE(std::string(e.what()).find(p.string() + ":"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("nested"), std::string::npos) << e.what();
    }
  }
  // 64 parts are still a key; dots in strings, comments and numbers never count.
  std::string ok = "[serve]\nport = 6000\nratio = 1.5\nchat_template = \"" + std::string(200, '.') +
                   "\"\n# " + std::string(200, '.') + "\n[deep";
  for (int i = 1; i < 64; ++i) ok += ".a";
  ok += "]\nx = '...'\n";
  const auto c = Config::load(write_config("deep-ok", ok));
  EXPECT_EQ(c.get_int("serve", "port", 5000, 0, 65535), 6000);
  EXPECT_EQ(c.get_string("serve", "chat_template", ""), std::string(200, '.'));
}

// Keys the code never reads are ignored, but said: file, line, and the key meant when one is close.
TEST(Config, UnknownKeysAreWarnedWithFileAndLine) {
  ::unsetenv("RMM_PORT");
  const auto p = write_config("unknown",
                              "top = 1\n"
                              "[serve]\n"
                              "port = 6000\n"
                              "prot = 6001\n"
                              "models-dir = \"/m\"\n"
                              "no_such_setting_at_all = true\n"
                              "host = [\"a\"]\n"
                              "[cache]\n"
                              "ttl = \"1h\"\n"
                              "[sever]\n"
                              "port = 1\n");
  const auto c = Config::load(p);
  const std::string f = p.string();
  const std::vector<std::string> expected = {
      f + ":1: 'top' is outside any section (ignored; put it under [serve], [cache] or [models])",
      f + ":4: unknown key 'prot' in [serve] (ignored; did you mean 'port'?)",
      f + ":5: unknown key 'models-dir' in [serve] (ignored; did you mean 'models_dir'?)",
      f + ":6: unknown key 'no_such_setting_at_all' in [serve] (ignored)",
      f + ":7: 'host' in [serve] must be a string, a number or true/false (ignored)",
      f + ":10: unknown section [sever] (ignored; did you mean 'serve'?)",
  };
  EXPECT_EQ(c.warnings(), expected);
  EXPECT_EQ(c.get_int("serve", "port", 5000, 0, 65535), 6000);  // known keys still count
  EXPECT_EQ(c.get_string("cache", "ttl", ""), "1h");
  EXPECT_EQ(c.get_string("serve", "host", "127.0.0.1"), "127.0.0.1");  // the ignored value is not used
  // A file with known keys only has nothing to say.
  EXPECT_TRUE(Config::load(write_config("known", "[serve]\nport = 1\n[models]\nextra_dirs = \"\"\n"))
                  .warnings()
                  .empty());
}

// Code that reads a key missing from the known list fails at once, so the list stays the one truth.
TEST(Config, ReadingAKeyMissingFromTheListIsAnInternalError) {
  const auto c = Config::load(write_config("unlisted", "[serve]\nport = 1\n"));
  try {
    c.get("serve", "prot");
    FAIL() << "read an unlisted key";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Internal);
    EXPECT_NE(std::string(e.what()).find("[serve] prot"), std::string::npos) << e.what();
  }
}

TEST(Config, DeclaredKeysAreKnownFromThenOn) {
  const auto c = Config::load(write_config("declared", "[serve]\nlate_setting = 3\n"));
  EXPECT_EQ(c.warnings().size(), 1u);  // not declared when the file was read
  EXPECT_THROW(c.get("serve", "late_setting"), Error);
  Config::declare_keys("serve", {"late_setting"});
  EXPECT_FALSE(c.get("serve", "late_setting").has_value());  // now a key, but the file's value was ignored
  const auto d = Config::load(write_config("declared-after", "[serve]\nlate_setting = 3\n"));
  EXPECT_TRUE(d.warnings().empty());
  EXPECT_EQ(d.get_int("serve", "late_setting", 0, 0, 10), 3);
}
