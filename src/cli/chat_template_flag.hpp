#pragma once
// A --chat-template value ([serve] chat_template, RMM_CHAT_TEMPLATE): a named
// template, Jinja source or a file of Jinja source (read here). Jinja is
// parsed at once, so that a broken template fails with the parser's reason
// and position before any model loads. Shared by `rmm run`/`chat`/`serve`
// and rmm-desktop.
#include <string>

namespace rmm::cli {

// Throws rmm::Error (InvalidArgument; NotFound for a file that does not exist).
std::string chat_template_argument(const std::string& value);

}  // namespace rmm::cli
