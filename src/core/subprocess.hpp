#pragma once
// Runs a program with arguments (no shell), feeding stdin and capturing
// stdout and stderr separately: for tests, benchmarks against peer tools,
// and (later) supervised worker processes.
#include <string>
#include <vector>

namespace rmm {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;
  std::string err;
};

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input = "",
                          int timeout_seconds = 120);

}  // namespace rmm
