#include "support/peer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "core/subprocess.hpp"
#include "support/test_env.hpp"

namespace rmm::test {

PeerText llama_completion_text(const std::string& model, const std::string& prompt, int n_predict,
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
  PeerText best;
  for (int attempt = 0; attempt < 10; ++attempt) {
    const auto r = run_process(args);
    if (r.exit_code != 0) {
      ADD_FAILURE() << "llama-completion failed (" << r.exit_code << "): " << r.err;
      return {};
    }
    if (r.out.size() >= tail.size() && r.out.compare(r.out.size() - tail.size(), tail.size(), tail) == 0)
      return {r.out.substr(0, r.out.size() - tail.size()), true};
    if (r.out.size() > best.text.size()) best.text = r.out;
    std::this_thread::sleep_for(std::chrono::milliseconds(50 * (attempt + 1)));
  }
  return best;
}

void expect_same_as_peer(const std::string& ours, const PeerText& peer, const std::string& what) {
  if (peer.complete) {
    EXPECT_EQ(ours, peer.text) << what;
    return;
  }
  // Only a tail can be missing, never a middle: the printed part must begin ours.
  std::cerr << "note: llama-completion lost the end of its output (busy machine); comparing the "
            << peer.text.size() << " bytes it printed: " << what << "\n";
  EXPECT_FALSE(peer.text.empty()) << "llama-completion printed nothing in 10 runs: " << what;
  EXPECT_EQ(ours.substr(0, peer.text.size()), peer.text) << what;
}

}  // namespace rmm::test
