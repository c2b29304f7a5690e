#include "serving/chat_export.hpp"

#include <ctime>
#include <sstream>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/json_limits.hpp"

namespace rmm::serving {
namespace {

using json = nlohmann::ordered_json;

// Stored JSON text back to a value; text that does not parse is shown as a string.
// The rows came from bounded requests, but a database is shared with other
// writers (and versions): text nested too deep to copy or dump safely stays text.
json parsed_or_text(const std::string& text, json fallback) {
  if (text.empty()) return fallback;
  json j;
  try {
    j = parse_json_bounded<json>(text, "stored JSON", false);
  } catch (const Error&) {
    return json(text);
  }
  return j.is_discarded() ? json(text) : j;
}

std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return s;
}

std::string role_heading(const std::string& role) {
  if (role == "system") return "System";
  if (role == "user") return "User";
  if (role == "assistant") return "Assistant";
  if (role == "tool") return "Tool";
  return role;
}

// A message whose content opens a ``` or ~~~ fence without closing it would
// swallow every heading after it: close it.
std::string closing_fence(const std::string& content) {
  std::istringstream in(content);
  std::string line, open;
  while (std::getline(in, line)) {
    const auto start = line.find_first_not_of(" ");
    if (start == std::string::npos || start > 3) continue;
    const std::string_view rest = std::string_view(line).substr(start);
    for (const char* fence : {"```", "~~~"}) {
      if (rest.rfind(fence, 0) != 0) continue;
      if (open.empty()) {
        open = fence;
      } else if (open == fence) {
        open.clear();
      }
    }
  }
  return open;
}

// A message id, or null for 0 (no parent, no current leaf).
json id_or_null(int64_t id) { return id == 0 ? json(nullptr) : json(id); }

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

json conversation_summary_json(const store::Conversation& c) {
  return {{"id", c.id},
          {"title", c.title},
          {"model", c.model},
          {"created_at", c.created_at},
          {"updated_at", c.updated_at},
          {"message_count", c.message_count},
          {"current_leaf", id_or_null(c.current_leaf)}};
}

json message_json(const store::ChatMessage& m) {
  return {{"id", m.id},
          {"parent_id", id_or_null(m.parent_id)},
          {"role", m.role},
          {"content", m.content},
          {"model", m.model},
          {"prompt_tokens", m.prompt_tokens},
          {"completion_tokens", m.completion_tokens},
          {"timings", parsed_or_text(m.timings_json, json::object())},
          {"logprobs", parsed_or_text(m.logprobs_json, nullptr)},
          {"fork", m.fork_of ? json{{"of", m.fork_of}, {"at", m.fork_at}} : json(nullptr)},
          {"created_at", m.created_at}};
}

json conversation_json(const store::Conversation& c) {
  json j = conversation_summary_json(c);
  j["params"] = parsed_or_text(c.params_json, json::object());
  json msgs = json::array();
  for (const auto& m : c.messages) msgs.push_back(message_json(m));
  j["message_count"] = std::max<int>(c.message_count, static_cast<int>(c.messages.size()));
  j["messages"] = std::move(msgs);
  return j;
}

std::string conversation_markdown(const store::Conversation& c) {
  std::string md =
      "# " + (c.title.empty() ? std::string("Untitled conversation") : one_line(c.title)) + "\n\n";
  if (!c.model.empty()) md += "- Model: " + one_line(c.model) + "\n";
  md += "- Created: " + format_time(c.created_at, "%Y-%m-%d %H:%M UTC", true) + "\n";
  md += "- Updated: " + format_time(c.updated_at, "%Y-%m-%d %H:%M UTC", true) + "\n";
  md += "- Conversation: " + c.id + "\n";
  for (const auto& m : store::current_path(c)) {
    md += "\n## " + role_heading(m.role) + "\n\n";
    md += m.content;
    if (!m.content.empty() && m.content.back() != '\n') md += '\n';
    if (const std::string fence = closing_fence(m.content); !fence.empty()) md += fence + "\n";
    if (m.role == "assistant" && (m.completion_tokens > 0 || !m.model.empty())) {
      std::string note;
      if (!m.model.empty()) note += one_line(m.model);
      if (m.completion_tokens > 0 || m.prompt_tokens > 0) {
        if (!note.empty()) note += " · ";
        note += std::to_string(m.prompt_tokens) + " prompt tokens, " + std::to_string(m.completion_tokens) +
                " completion tokens";
      }
      const json t = parsed_or_text(m.timings_json, json::object());
      if (t.is_object() && t.contains("generation_tokens_per_second") &&
          t["generation_tokens_per_second"].is_number()) {
        const double tps = t["generation_tokens_per_second"].get<double>();
        if (tps > 0) note += " · " + number(tps) + " tok/s";
      }
      md += "\n*" + note + "*\n";
    }
  }
  return md;
}

std::string export_file_name(const store::Conversation& c, const std::string& extension) {
  std::string safe;
  for (char ch : c.id) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                    ch == '-' || ch == '_';
    safe += ok ? ch : '_';
  }
  return "chat-" + safe + "." + extension;
}

}  // namespace rmm::serving
