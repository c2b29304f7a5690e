// rmm serve's settings table (src/cli/serve_settings.cpp) against what reads
// it: Config's keys and environment names, `rmm serve --help` and README.md.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <set>

#include "cli/serve_settings.hpp"
#include "core/config.hpp"
#include "core/subprocess.hpp"
#include "support/test_env.hpp"

using namespace rmm;
using namespace rmm::cli;

namespace {

const std::string kBegin = "<!-- serve-settings:begin (generated from src/cli/serve_settings.cpp) -->\n";
const std::string kEnd = "<!-- serve-settings:end -->";

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST(CliServeSettings, NamesFlagsAndKeysAreUnique) {
  std::set<std::string> names, keys, envs;
  for (const auto& s : serve_settings()) {
    EXPECT_TRUE(names.insert(std::string(s.name)).second) << s.name;
    EXPECT_TRUE(keys.insert(std::string(s.section) + "." + std::string(s.key)).second) << s.key;
    EXPECT_TRUE(envs.insert(env_name(s)).second) << env_name(s);
    EXPECT_NE(s.flags.find("--" + std::string(s.name)), std::string_view::npos) << s.flags;
    EXPECT_FALSE(s.help.empty()) << s.name;
    if (s.kind == ServeSetting::Kind::Int) {
      const int64_t d = std::stoll(std::string(s.default_text));
      EXPECT_TRUE(s.lo <= d && d <= s.hi) << s.name;
    }
  }
}

// Every key is one Config accepts, read from the environment name the table says.
TEST(CliServeSettings, ConfigReadsEachKeyFromItsEnvironmentName) {
  declare_serve_config_keys();
  const auto cfg = Config::load(test::temp_dir("serve-settings") / "absent.toml");
  for (const auto& s : serve_settings()) {
    const std::string env = env_name(s);
    test::ScopedEnv set(env, "value-of-" + env);
    const auto v = cfg.get(std::string(s.section), std::string(s.key));
    ASSERT_TRUE(v.has_value()) << env;
    EXPECT_EQ(v->first, "value-of-" + env);
    EXPECT_EQ(v->second, env);
  }
}

// A help text that names a default names the table's.
TEST(CliServeSettings, HelpDefaultsAreTheTableDefaults) {
  for (const auto& s : serve_settings()) {
    const std::string help(s.help);
    const size_t at = help.find("(default ");
    if (at == std::string::npos) continue;
    const size_t from = at + 9;
    const std::string shown = help.substr(from, help.find_first_of(";,) ", from) - from);
    EXPECT_EQ(shown, s.default_text) << s.name << ": " << help;
  }
}

TEST(CliServeSettings, ServeHelpShowsEverySetting) {
  const auto r = run_process({test::rmm_binary().string(), "serve", "--help"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& s : serve_settings()) {
    EXPECT_NE(r.out.find("--" + std::string(s.name)), std::string::npos) << s.name << "\n" << r.out;
    EXPECT_NE(r.out.find(std::string(s.help.substr(0, 30))), std::string::npos) << s.name << "\n" << r.out;
  }
}

// README.md's settings table is the generated one; on a change, paste the text this writes.
TEST(CliServeSettings, ReadmeTableIsTheGeneratedOne) {
  const std::string readme = read_text(std::filesystem::path(RMM_SOURCE_DIR) / "README.md");
  const size_t begin = readme.find(kBegin);
  const size_t end = readme.find(kEnd);
  const std::string expected = serve_settings_markdown();
  const auto out = test::temp_dir("serve-settings-readme") / "serve-settings.md";
  std::ofstream(out) << kBegin << expected << kEnd << "\n";
  ASSERT_NE(begin, std::string::npos) << "README.md lacks the serve settings table; expected:\n"
                                      << read_text(out);
  ASSERT_NE(end, std::string::npos);
  EXPECT_EQ(readme.substr(begin + kBegin.size(), end - begin - kBegin.size()), expected)
      << "README.md's serve settings differ from src/cli/serve_settings.cpp; replace them with " << out
      << ":\n"
      << read_text(out);
}
