#include "cli/flag_file.hpp"

#include <fstream>
#include <sstream>

#include "core/error.hpp"

namespace rmm::cli {

std::string read_flag_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::NotFound, std::string(what) + " '" + path + "' cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace rmm::cli
