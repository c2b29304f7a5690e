#pragma once
// The message of the rmm::Error that `f` throws ("" when it throws none), for
// tests that check what an error says.
#include <functional>
#include <string>

#include "core/error.hpp"

namespace rmm::test {

inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace rmm::test
