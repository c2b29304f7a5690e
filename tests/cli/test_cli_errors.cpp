// Errors a first run meets (issue 12, items 11 and 12): each says what is
// wrong and what to do, and the exit code follows one rule: 2 when the
// command line is wrong, 1 when something fails while running.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/subprocess.hpp"
#include "support/test_env.hpp"

using namespace rmm;
using namespace rmm::test;

namespace {

ProcessResult rmm_cmd(std::vector<std::string> args, const std::string& input = "") {
  if (!args.empty() && (args[0] == "run" || args[0] == "chat")) args.insert(args.end(), {"-t", "1"});
  args.insert(args.begin(), rmm_binary().string());
  return run_process(args, input);
}

std::string joined(const std::vector<std::string>& args) {
  std::string s;
  for (const auto& a : args) s += a + " ";
  return s;
}

// A fresh RMM_HOME, so that no command reads or writes the user's.
class CliErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("cli-errors");
    home_ = std::make_unique<ScopedEnv>("RMM_HOME", (dir_ / "home").string());
  }
  std::filesystem::path dir_;
  std::unique_ptr<ScopedEnv> home_;
};

}  // namespace

// Item 11: the model has no template, and --raw was not given: say that, and what to pass.
TEST_F(CliErrors, SystemWithoutAChatTemplateSaysSoAndSuggestsChatml) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");  // has no chat template
  auto r = rmm_cmd({"run", model.string(), "Hi", "--system", "Be brief.", "-n", "4"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("has no chat template"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--chat-template chatml"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("--raw"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  // With --raw the template is off because of the flag, and the message says so.
  r = rmm_cmd({"run", model.string(), "Hi", "--system", "Be brief.", "--raw", "-n", "4"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--raw"), std::string::npos) << r.err;
  // The suggestion works.
  r = rmm_cmd({"run", model.string(), "Hi", "--system", "Be brief.", "--chat-template", "chatml", "-n", "4"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// Item 11: text that is no number says so, for every numeric sampling flag; numbers out of range say that.
TEST_F(CliErrors, NumericFlagsSayNotANumberBeforeAnyRange) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  for (const std::string flag : {"--temp", "--top-k", "--top-p", "--min-p", "--typical", "--repeat-penalty",
                                 "--repeat-last-n", "--presence-penalty", "--frequency-penalty", "--seed",
                                 "--max-tokens", "--ctx-size", "--top-logprobs"}) {
    const std::vector<std::string> args = {"run", model.string(), "Hi", flag, "abc"};
    const auto r = rmm_cmd(args);
    EXPECT_EQ(r.exit_code, 2) << joined(args) << r.err;
    EXPECT_NE(r.err.find("rmm: " + flag + ": 'abc' is not a number"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("range"), std::string::npos) << r.err;
  }
  auto r = rmm_cmd({"run", model.string(), "Hi", "--top-k", "1.5"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--top-k: '1.5' is not a whole number"), std::string::npos) << r.err;
  r = rmm_cmd({"run", model.string(), "Hi", "--temp", "150"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--temp: 150 is out of range (0 to 100)"), std::string::npos) << r.err;
  r = rmm_cmd({"run", model.string(), "Hi", "--seed", "nan"});
  EXPECT_NE(r.err.find("--seed: 'nan' is not a number"), std::string::npos) << r.err;
}

// Item 11: a broken Jinja template (text or file) gives the parser's reason and
// place, never a bare std::exception, and never llama.cpp's advice about a
// --no-jinja flag rmm does not have. It fails before the model loads.
TEST_F(CliErrors, BrokenJinjaTemplateSaysWhereAndWhy) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  const auto file = dir_ / "broken.jinja";
  std::ofstream(file) << "{% for m in messages %}{{ m.content }\n{% endfor %}";
  for (const std::string& tmpl : {std::string("{{ messages[0].content "), file.string()}) {
    const auto r = rmm_cmd({"run", model.string(), "Hi", "--chat-template", tmpl, "-n", "4", "-v"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("not a valid Jinja template: parser: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("Expected }}"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("\n"), r.err.size() - 1) << "no source line with a caret: " << r.err;
    EXPECT_NE(r.err.find('^'), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("std::exception"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("no-jinja"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("loaded"), std::string::npos) << "the model loaded first: " << r.err;
  }
  const auto r = rmm_cmd({"run", model.string(), "Hi", "--chat-template", file.string()});
  EXPECT_NE(r.err.find(file.string()), std::string::npos) << r.err;
  // A template file that parses is used.
  const auto good = dir_ / "good.jinja";
  // ChatML written out (Jinja drops a template's final newline, so the newlines are Jinja strings).
  std::ofstream(good) << "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + "
                         "'<|im_end|>\\n' }}{% endfor %}{{ '<|im_start|>assistant\\n' }}";
  auto from_file =
      rmm_cmd({"run", model.string(), "Hi", "--chat-template", good.string(), "--temp", "0", "-n", "8"});
  auto by_name =
      rmm_cmd({"run", model.string(), "Hi", "--chat-template", "chatml", "--temp", "0", "-n", "8"});
  ASSERT_EQ(from_file.exit_code, 0) << from_file.err;
  EXPECT_EQ(from_file.out, by_name.out);
  // A file name that names no file is a missing file.
  const auto missing =
      rmm_cmd({"run", model.string(), "Hi", "--chat-template", (dir_ / "none.jinja").string()});
  EXPECT_EQ(missing.exit_code, 1) << missing.err;
  EXPECT_NE(missing.err.find("does not exist"), std::string::npos) << missing.err;
}

// Item 11: --keep-alive's error says what 0 and -1 mean.
TEST_F(CliErrors, KeepAliveErrorSaysWhatZeroAndMinusOneMean) {
  const auto r = rmm_cmd({"serve", "--keep-alive", "soon", "--port", "0"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--keep-alive 'soon' is not a duration"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("0 unloads the model"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("-1 keeps it loaded for ever"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("no limit"), std::string::npos) << r.err;  // what 0 means elsewhere, not here
}

// Item 12: `rmm run` checks the file with rmm's own GGUF reader before llama.cpp
// loads it, so that a damaged file gives the very line `rmm info` gives.
TEST_F(CliErrors, RunOnADamagedFileSaysWhatInfoSays) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  std::ifstream in(model, std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const auto cut = dir_ / "cut.gguf";
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  const auto short_tail = dir_ / "short-tail.gguf";
  std::ofstream(short_tail, std::ios::binary) << bytes.substr(0, bytes.size() - 100);
  auto bad_version = bytes;
  bad_version[4] = 9;  // the version field, after the magic
  const auto version = dir_ / "version.gguf";
  std::ofstream(version, std::ios::binary) << bad_version;
  const auto text = dir_ / "notes.gguf";
  std::ofstream(text) << "just some text\n";
  for (const auto& file : {cut, short_tail, version, text}) {
    const auto info = rmm_cmd({"info", file.string()});
    const auto run = rmm_cmd({"run", file.string(), "Hi"});
    EXPECT_EQ(info.exit_code, 1) << info.err;
    EXPECT_EQ(run.exit_code, 1) << run.err;
    EXPECT_EQ(run.err, info.err) << file;
    EXPECT_EQ(run.err.find("llama.cpp could not load"), std::string::npos) << run.err;
    EXPECT_EQ(run.out, "");
  }
  // Named from the models dir rather than by path: the same reason, after the name.
  const auto in_models = dir_ / "home" / "models" / "damaged.gguf";
  std::filesystem::create_directories(in_models.parent_path());
  std::filesystem::copy_file(cut, in_models);
  const auto info = rmm_cmd({"info", in_models.string()});
  const auto run = rmm_cmd({"run", "damaged", "Hi"});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  ASSERT_GT(info.err.size(), 6u);
  EXPECT_NE(run.err.find(info.err.substr(5, info.err.size() - 6)), std::string::npos)
      << "run: " << run.err << "info: " << info.err;
}

// Item 12: one rule for every command.
TEST_F(CliErrors, ExitCodesFollowOneRule) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  const auto cut = dir_ / "cut.gguf";
  std::ofstream(cut, std::ios::binary) << "GGUF\3";  // cut inside the header
  const std::string nobody = "http://127.0.0.1:" + std::to_string(unused_port());
  const std::vector<std::vector<std::string>> usage = {
      {"frobnicate"},
      {"run", model.string(), "Hi", "--temp", "abc"},
      {"run", model.string(), "Hi", "--no-such-flag"},
      {"run", model.string(), "Hi", "--system", "S"},
      {"run", model.string(), "Hi", "--chat-template", "{{ broken"},
      {"chat", model.string(), "--top-p", "2"},
      {"info"},
      {"info", model.string(), "--ctx-size", "x"},
      {"serve", "--port", "x"},
      {"serve", "--keep-alive", "soon", "--port", "0"},
      {"serve", "--host", "no.such.host.invalid", "--port", "0"},
      {"ps", "--url", "ftp://127.0.0.1:1"},
      {"pull"},
  };
  const std::vector<std::vector<std::string>> runtime = {
      {"run", (dir_ / "absent.gguf").string(), "Hi"},
      {"run", cut.string(), "Hi"},
      {"run", model.string(), "Hi", "--grammar-file", (dir_ / "absent.gbnf").string()},
      {"chat", (dir_ / "absent.gguf").string()},
      {"info", (dir_ / "absent.gguf").string()},
      {"info", cut.string()},
      {"ps", "--url", nobody},
  };
  for (const auto& args : usage) {
    const auto r = rmm_cmd(args);
    EXPECT_EQ(r.exit_code, 2) << joined(args) << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("rmm", 0), 0u) << joined(args) << "\n" << r.err;
  }
  for (const auto& args : runtime) {
    const auto r = rmm_cmd(args);
    EXPECT_EQ(r.exit_code, 1) << joined(args) << "\n" << r.err;
    EXPECT_EQ(r.err.find("Usage"), std::string::npos) << joined(args) << "\n" << r.err;
  }
}
