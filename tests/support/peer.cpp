#include "support/peer.hpp"

#include <gtest/gtest.h>

#include "core/subprocess.hpp"
#include "support/test_env.hpp"

namespace rmm::test {

std::string llama_completion_text(const std::string& model, const std::string& prompt, int n_predict,
                                  const std::vector<std::string>& extra_args) {
  std::vector<std::string> args = {peer_tool("llama-completion").string(),
                                   "-m",
                                   model,
                                   "-p",
                                   prompt,
                                   "-n",
                                   std::to_string(n_predict),
                                   "--temp",
                                   "0",
                                   "-no-cnv",
                                   "--no-display-prompt",
                                   "--no-warmup"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  const std::string tail = "\n\n";
  for (int attempt = 0; attempt < 8; ++attempt) {
    const auto r = run_process(args);
    if (r.exit_code != 0) {
      ADD_FAILURE() << "llama-completion failed (" << r.exit_code << "): " << r.err;
      return "";
    }
    if (r.out.size() >= tail.size() && r.out.compare(r.out.size() - tail.size(), tail.size(), tail) == 0)
      return r.out.substr(0, r.out.size() - tail.size());
  }
  ADD_FAILURE() << "llama-completion never printed its complete output";
  return "";
}

}  // namespace rmm::test
