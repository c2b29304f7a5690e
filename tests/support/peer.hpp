#pragma once
// llama.cpp's own tools as independent references.
#include <string>
#include <vector>

namespace rmm::test {

// Greedy text that llama-completion generates after `prompt` (raw mode, prompt
// not echoed). llama-completion logs its output through a background thread
// that is never flushed at exit (llama.cpp issue 22142), so under load its
// stdout can lose the tail; a complete run ends with its closing "\n\n", and
// incomplete runs are repeated. Fails the calling test when none completes.
std::string llama_completion_text(const std::string& model, const std::string& prompt, int n_predict,
                                  const std::vector<std::string>& extra_args = {});

}  // namespace rmm::test
