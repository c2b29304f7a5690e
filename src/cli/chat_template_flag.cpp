#include "cli/chat_template_flag.hpp"

#include <algorithm>
#include <filesystem>

#include "cli/flag_file.hpp"
#include "core/error.hpp"
#include "engine/chat_format.hpp"
#include "models/short_name.hpp"

namespace rmm::cli {

std::string chat_template_argument(const std::string& value) {
  if (value.empty()) return value;
  const auto names = engine::ChatFormatter::builtin_names();
  if (std::find(names.begin(), names.end(), value) != names.end()) return value;
  const auto has_jinja = [](const std::string& s) {
    return s.find("{%") != std::string::npos || s.find("{{") != std::string::npos;
  };
  if (has_jinja(value)) {
    const std::string why = engine::ChatFormatter::template_error(value);
    if (!why.empty())
      throw Error(ErrorKind::InvalidArgument, "--chat-template is not a valid Jinja template: " + why);
    return value;
  }
  std::error_code ec;
  if (std::filesystem::is_regular_file(value, ec)) {
    std::string source = read_flag_file(value, "--chat-template file");
    const std::string what = "--chat-template file '" + value + "'";
    if (!has_jinja(source))
      throw Error(ErrorKind::InvalidArgument, what + " holds no Jinja template (no {% ... %} or {{ ... }})");
    const std::string why = engine::ChatFormatter::template_error(source);
    if (!why.empty())
      throw Error(ErrorKind::InvalidArgument, what + " is not a valid Jinja template: " + why);
    return source;
  }
  if (models::looks_like_path(value) || value.ends_with(".jinja"))
    throw Error(ErrorKind::NotFound, "--chat-template file '" + value + "' does not exist");
  return value;  // an unknown name: ChatFormatter lists the known ones
}

}  // namespace rmm::cli
