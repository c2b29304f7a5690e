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
  Internal,         // llama.cpp or the OS failed in a way we did not expect
};

const char* error_kind_name(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace rmm
