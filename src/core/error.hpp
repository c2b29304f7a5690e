#pragma once
// One exception type for the whole core: front ends map `kind` to exit codes
// or HTTP statuses, and show `what()` to the user as is.
#include <stdexcept>
#include <string>

namespace rmm {

enum class ErrorKind {
  InvalidArgument,  // a value from the caller is wrong
  NotFound,         // a file or name does not exist
  BadFile,          // a file exists but is not what it claims to be
  OutOfMemory,      // a load or context would not fit
  Cancelled,        // the caller asked to stop
  Unavailable,      // what serves the request went away (a worker process died); retry later
  Forbidden,        // the caller may not do this (a path outside the models folders, a model its key lacks)
  Internal,         // llama.cpp or the OS failed in a way we did not expect
};

const char* error_kind_name(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message, int retry_after_s = 0)
      : std::runtime_error(message), kind_(kind), retry_after_s_(retry_after_s) {}
  ErrorKind kind() const { return kind_; }
  // Unavailable: seconds after which trying again may work (0: not said).
  int retry_after_s() const { return retry_after_s_; }

 private:
  ErrorKind kind_;
  int retry_after_s_ = 0;
};

}  // namespace rmm
