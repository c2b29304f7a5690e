#pragma once
// The contents of a file a flag names (--grammar-file, --chat-template FILE).
#include <string>

namespace rmm::cli {

// One that cannot be read is a runtime error (rmm::Error NotFound, exit 1), not a usage error.
std::string read_flag_file(const std::string& path, const char* what);

}  // namespace rmm::cli
