// `rmm --version`: the conventional flag, the same text as `rmm version`.
#include <gtest/gtest.h>

#include "core/subprocess.hpp"
#include "support/test_env.hpp"

using namespace rmm;
using namespace rmm::test;

TEST(CliVersion, VersionFlagAloneMatchesTheVersionCommand) {
  const ProcessResult flag = run_process({rmm_binary().string(), "--version"});
  const ProcessResult command = run_process({rmm_binary().string(), "version"});
  ASSERT_EQ(command.exit_code, 0) << command.err;
  EXPECT_EQ(flag.exit_code, 0) << flag.err;
  EXPECT_EQ(flag.out.rfind(std::string("rmm ") + RMM_VERSION + "\n", 0), 0u) << flag.out;
  // Free memory differs between runs: compare the first line.
  EXPECT_EQ(flag.out.substr(0, flag.out.find('\n')), command.out.substr(0, command.out.find('\n')));
  EXPECT_EQ(flag.err, "");
}
