#pragma once
// Tests spell it rmm::test::run_process; the implementation lives in the core.
#include "core/subprocess.hpp"

namespace rmm::test {
using rmm::ProcessResult;
using rmm::run_process;
}  // namespace rmm::test
