#include "engine/chat_format.hpp"

#include <chat.h>
#include <llama.h>

#include <algorithm>

#include "core/error.hpp"

namespace rmm::engine {

struct ChatFormatter::Impl {
  common_chat_templates_ptr templates;
  bool use_jinja = true;
};

std::vector<std::string> ChatFormatter::builtin_names() {
  const int32_t n = llama_chat_builtin_templates(nullptr, 0);
  std::vector<const char*> names(static_cast<size_t>(std::max(n, 0)));
  llama_chat_builtin_templates(names.data(), names.size());
  return {names.begin(), names.end()};
}

ChatFormatter::ChatFormatter(const Model& model, const std::string& template_name)
    : impl_(std::make_unique<Impl>()) {
  const auto names = builtin_names();
  const bool named = std::find(names.begin(), names.end(), template_name) != names.end();
  // chatml has a Jinja source in llama.cpp common; the other names exist only as
  // llama.cpp's built-in (non-Jinja) formatters.
  impl_->use_jinja = template_name.empty() || template_name == "chatml" || !named;
  if (!template_name.empty() && !named && template_name.find("{%") == std::string::npos &&
      template_name.find("{{") == std::string::npos) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    throw Error(ErrorKind::InvalidArgument,
                "unknown chat template '" + template_name + "' (known: " + list + ")");
  }
  try {
    impl_->templates = common_chat_templates_init(model.raw(), template_name);
  } catch (const std::exception& e) {
    throw Error(ErrorKind::InvalidArgument, std::string("chat template could not be parsed: ") + e.what());
  }
}

ChatFormatter::~ChatFormatter() = default;
ChatFormatter::ChatFormatter(ChatFormatter&&) noexcept = default;
ChatFormatter& ChatFormatter::operator=(ChatFormatter&&) noexcept = default;

ChatPrompt ChatFormatter::format(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                                 const std::string& json_schema) const {
  common_chat_templates_inputs in;
  for (const auto& m : messages) {
    if (m.role != "system" && m.role != "user" && m.role != "assistant" && m.role != "tool")
      throw Error(ErrorKind::InvalidArgument,
                  "message role '" + m.role + "' is not system, user, assistant or tool");
    common_chat_msg msg;
    msg.role = m.role;
    msg.content = m.content;
    in.messages.push_back(std::move(msg));
  }
  in.add_generation_prompt = add_generation_prompt;
  in.use_jinja = impl_->use_jinja;
  in.json_schema = json_schema;
  try {
    common_chat_params out = common_chat_templates_apply(impl_->templates.get(), in);
    return ChatPrompt{std::move(out.prompt), std::move(out.additional_stops), std::move(out.grammar)};
  } catch (const std::exception& e) {
    throw Error(ErrorKind::InvalidArgument, std::string("chat template failed: ") + e.what());
  }
}

std::string ChatFormatter::template_source() const {
  return common_chat_templates_source(impl_->templates.get());
}

}  // namespace rmm::engine
