// `rmm run` as a user runs it: the real binary, real models, exit codes.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/subprocess.hpp"
#include "support/peer.hpp"
#include "support/test_env.hpp"

using namespace rmm;
using namespace rmm::test;

namespace {

// Generation runs single-threaded: ctest runs two tests at once on two cores.
ProcessResult rmm_cmd(std::vector<std::string> args, const std::string& input = "") {
  if (!args.empty() && (args[0] == "run" || args[0] == "chat") &&
      std::find(args.begin(), args.end(), "-t") == args.end()) {
    args.insert(args.end(), {"-t", "1"});
  }
  args.insert(args.begin(), rmm_binary().string());
  return run_process(args, input);
}

}  // namespace

TEST(CliRun, StdoutIsExactlyTheGeneratedTextAsLlamaCompletionPrintsIt) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  const std::string prompt = "Once upon a time";
  auto ours = rmm_cmd({"run", model.string(), prompt, "--temp", "0", "-n", "40", "-c", "512", "-t", "1"});
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  EXPECT_EQ(ours.err, "");  // quiet by default
  expect_same_as_peer(ours.out, llama_completion_text(model.string(), prompt, 40, {"-c", "512", "-t", "1"}),
                      prompt);
}

TEST(CliRun, PromptFromStdin) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  auto arg = rmm_cmd({"run", model.string(), "The dog", "--temp", "0", "-n", "16"});
  auto in = rmm_cmd({"run", model.string(), "--temp", "0", "-n", "16"}, "The dog");
  ASSERT_EQ(in.exit_code, 0) << in.err;
  EXPECT_EQ(arg.out, in.out);
  EXPECT_FALSE(in.out.empty());
}

// `echo TEXT | rmm run M` is `rmm run M TEXT`: one final newline (the shell's) is not part of the prompt.
TEST(CliRun, StdinLosesExactlyOneFinalNewline) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  const std::vector<std::string> flags = {"--temp", "0", "-n", "8"};
  auto with = [&](std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {"run", model.string()});
    args.insert(args.end(), flags.begin(), flags.end());
    auto r = rmm_cmd(args, input);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  };
  const std::string arg = with({"Once upon a time"});
  ASSERT_FALSE(arg.empty());
  EXPECT_EQ(with({}, "Once upon a time\n"), arg);
  EXPECT_EQ(with({}, "Once upon a time\r\n"), arg);
  // Only one: a blank line the user typed stays.
  EXPECT_EQ(with({}, "Once upon a time\n\n"), with({"Once upon a time\n"}));
}

TEST(CliRun, EmptyStdinIsARuntimeErrorNotAGeneration) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  auto r = rmm_cmd({"run", model.string(), "--temp", "0", "-n", "8"}, "");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("no prompt"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("Usage"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(CliRun, JsonEmitsOneObjectPerTokenThenASummary) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  auto plain = rmm_cmd({"run", model.string(), "", "--temp", "0", "-n", "12"});
  auto r = rmm_cmd({"run", model.string(), "", "--temp", "0", "-n", "12", "--json", "--top-logprobs", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line, text;
  int tokens = 0;
  nlohmann::json last;
  while (std::getline(lines, line)) {
    last = nlohmann::json::parse(line);
    if (last.contains("done")) break;
    EXPECT_EQ(last.at("index").get<int>(), tokens);
    EXPECT_EQ(last.at("alternatives").size(), 3u);
    EXPECT_LE(last.at("logprob").get<double>(), 0.0);
    text += last.at("text").get<std::string>();
    ++tokens;
  }
  EXPECT_EQ(tokens, 12);
  EXPECT_EQ(text, plain.out);
  EXPECT_EQ(last.at("stop_reason"), "length");
  EXPECT_EQ(last.at("timings").at("generated_tokens"), 12);
}

TEST(CliRun, StopAndVerboseTimings) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  auto r = rmm_cmd({"run", model.string(), "", "--temp", "0", "-n", "40", "--stop", "Lily", "-v"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, " Once upon a time, there was a little girl named ");
  EXPECT_NE(r.err.find("stop: stop"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("tok/s"), std::string::npos) << r.err;
}

TEST(CliRun, UsageErrorsExitTwoWithTheReasonAndUsage) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  const std::vector<std::vector<std::string>> cases = {
      {"run", model.string(), "hi", "--no-such-flag"},
      {"run", model.string(), "hi", "--temp", "-1"},
      {"run", model.string(), "hi", "--temp", "abc"},
      {"run", model.string(), "hi", "--top-p", "1.5"},
      {"run", model.string(), "hi", "-n", "-7"},
      {"run", model.string(), "hi", "--logit-bias", "12x"},
      {"run", model.string(), "hi", "--chat-template", "no-such-template"},
      {"frobnicate"},
  };
  for (const auto& c : cases) {
    auto r = rmm_cmd(c);
    std::string joined;
    for (const auto& a : c) joined += a + " ";
    EXPECT_EQ(r.exit_code, 2) << joined << "\n" << r.err;
    EXPECT_NE(r.err.find("rmm: "), std::string::npos) << joined << "\n" << r.err;
    EXPECT_EQ(r.out, "") << joined;
  }
  auto usage = rmm_cmd({"run", model.string(), "hi", "--bogus"});
  EXPECT_NE(usage.err.find("Usage: rmm run"), std::string::npos) << usage.err;
}

TEST(CliRun, NotAModelIsAOneLineErrorExitOne) {
  const auto dir = temp_dir("cli-bad");
  const auto bad = dir / "notes.gguf";
  std::ofstream(bad) << "just some text\n";
  auto r = rmm_cmd({"run", bad.string(), "hi"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(bad.string()), std::string::npos) << r.err;
}

TEST(CliRun, ChatTemplateFormatsThePromptAsAUserMessage) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  // With --chat-template the prompt is wrapped: the answer differs from raw continuation.
  auto chat = rmm_cmd({"run", model.string(), "Hi", "--temp", "0", "-n", "8", "--chat-template", "chatml"});
  auto raw = rmm_cmd({"run", model.string(), "Hi", "--temp", "0", "-n", "8", "--raw"});
  ASSERT_EQ(chat.exit_code, 0) << chat.err;
  ASSERT_EQ(raw.exit_code, 0) << raw.err;
  EXPECT_NE(chat.out, raw.out);
  // The same prompt text, formatted by hand in ChatML and run raw, gives the same answer.
  auto manual = rmm_cmd({"run", model.string(), "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
                         "--temp", "0", "-n", "8", "--raw"});
  EXPECT_EQ(chat.out, manual.out);
}

TEST(CliRun, CtrlCStopsTheAnswerAndExits130) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  // coreutils timeout sends SIGINT after 1 s, like a user's Ctrl-C.
  auto r = run_process({"/usr/bin/timeout", "--preserve-status", "-s", "INT", "1", rmm_binary().string(),
                        "run", model.string(), "", "--ignore-eos", "-n", "-1", "-c", "2048", "--temp", "0"},
                       "", 30);
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_FALSE(r.out.empty());
}

// Forged models (random weights, real tokenizers) through both programs: the
// greedy answers must be identical for every weight type.
TEST(CliRun, GreedyMatchesLlamaCompletionOnForgedModels) {
  const auto dir = temp_dir("forged-greedy");
  for (const std::string type : {"f32", "f16", "q8_0", "q4_k"}) {
    const auto model = dir / ("tiny-" + type + ".gguf");
    auto forged = rmm_cmd({"forge", model.string(), "--preset", "tiny", "--type", type, "--seed", "7", "-q"});
    ASSERT_EQ(forged.exit_code, 0) << forged.err;
    const std::string prompt = "The quick brown fox";
    auto ours = rmm_cmd({"run", model.string(), prompt, "--raw", "--temp", "0", "-n", "24", "-c", "512", "-t",
                         "1", "--ignore-eos"});
    ASSERT_EQ(ours.exit_code, 0) << type << ": " << ours.err;
    EXPECT_FALSE(ours.out.empty()) << type;
    expect_same_as_peer(
        ours.out, llama_completion_text(model.string(), prompt, 24, {"-c", "512", "-t", "1", "--ignore-eos"}),
        type);
  }
}
