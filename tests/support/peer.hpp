#pragma once
// llama.cpp's own tools as independent references.
#include <string>
#include <vector>

namespace rmm::test {

struct PeerText {
  std::string text;
  bool complete = false;  // the run's closing "\n\n" arrived
};

// Greedy text that llama-completion generates after `prompt` (raw mode, prompt
// not echoed). llama-completion logs its output through a background thread
// that is never flushed at exit (llama.cpp issue 22142), so on a busy machine
// its stdout can lose the tail; a complete run ends with its closing "\n\n".
// Incomplete runs are repeated a few times; the longest output is returned.
PeerText llama_completion_text(const std::string& model, const std::string& prompt, int n_predict,
                               const std::vector<std::string>& extra_args = {});

// Checks `ours` against the peer: equal when the peer's output is complete; when
// it lost its tail, what it did print must begin ours (and the test says so).
void expect_same_as_peer(const std::string& ours, const PeerText& peer, const std::string& what);

}  // namespace rmm::test
