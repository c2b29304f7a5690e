#include "engine/chat_format.hpp"

#include <chat.h>
#include <llama.h>

#include <algorithm>

#include "core/error.hpp"
#include "core/json_limits.hpp"
#include "engine/sampling.hpp"

namespace rmm::engine {

class ReplyParser {
 public:
  explicit ReplyParser(const common_chat_params& params) : params_(params) {
    if (!params.parser.empty()) params_.parser.load(params.parser);
  }
  ChatReply parse(const std::string& text) const {
    ChatReply out;
    try {
      const common_chat_msg msg = common_chat_parse(text, false, params_);
      out.content = msg.content;
      out.reasoning = msg.reasoning_content;
      for (const auto& tc : msg.tool_calls) out.tool_calls.push_back({tc.id, tc.name, tc.arguments});
    } catch (const std::exception& e) {
      throw Error(ErrorKind::InvalidArgument,
                  std::string("the answer does not follow the chat format: ") + e.what());
    }
    return out;
  }

 private:
  common_chat_parser_params params_;
};

ChatReply ChatPrompt::parse_reply(const std::string& generated) const {
  if (!parser) return {generated, "", {}};
  return parser->parse(generated);
}

struct ChatFormatter::Impl {
  common_chat_templates_ptr templates;
  bool use_jinja = true;
  bool supports_tools = false;
};

std::vector<std::string> ChatFormatter::builtin_names() {
  const int32_t n = llama_chat_builtin_templates(nullptr, 0);
  std::vector<const char*> names(static_cast<size_t>(std::max(n, 0)));
  llama_chat_builtin_templates(names.data(), names.size());
  return {names.begin(), names.end()};
}

ChatFormatter::ChatFormatter(const Model& model, const std::string& template_name)
    : impl_(std::make_unique<Impl>()), model_(&model) {
  fallback_ = template_name.empty() && model.chat_template().empty();
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
  // Parsed here first: llama.cpp common rethrows a parse error as a bare
  // std::exception and logs advice about a --no-jinja flag that rmm lacks.
  if (impl_->use_jinja && template_name != "chatml") {
    const std::string source = template_name.empty() ? model.chat_template() : template_name;
    if (const std::string why = source.empty() ? "" : template_error(source); !why.empty()) {
      if (template_name.empty())
        throw Error(ErrorKind::BadFile,
                    "the model's chat template is not a valid Jinja template (name another with "
                    "--chat-template): " +
                        why);
      throw Error(ErrorKind::InvalidArgument, "the chat template is not a valid Jinja template: " + why);
    }
  }
  try {
    impl_->templates = common_chat_templates_init(model.raw(), template_name);
  } catch (const std::exception& e) {
    throw Error(ErrorKind::InvalidArgument, std::string("chat template could not be parsed: ") + e.what());
  }
  if (impl_->use_jinja) {
    const auto caps = common_chat_templates_get_caps(impl_->templates.get());
    const auto it = caps.find("supports_tool_calls");
    impl_->supports_tools = it != caps.end() && it->second;
  }
}

std::string ChatFormatter::template_error(const std::string& source) {
  try {
    const common_chat_template parsed(source, "", "");
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}

bool ChatFormatter::supports_tools() const { return impl_->supports_tools; }

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
    ChatPrompt p;
    p.text = out.prompt;
    p.additional_stops = out.additional_stops;
    p.grammar = out.grammar;
    p.parser = std::make_shared<ReplyParser>(out);
    return p;
  } catch (const std::exception& e) {
    // Templates may raise_exception() on odd conversations (roles that do not alternate).
    throw ChatInputError("messages", std::string("chat template failed: ") + e.what());
  }
}

namespace {

// The template's grammar triggers as the llama.cpp sampler API wants them.
void add_triggers(const common_chat_params& out, ChatPrompt& p) {
  for (const auto& t : out.grammar_triggers) {
    switch (t.type) {
      case COMMON_GRAMMAR_TRIGGER_TYPE_TOKEN: p.trigger_tokens.push_back(t.token); break;
      case COMMON_GRAMMAR_TRIGGER_TYPE_WORD: p.trigger_patterns.push_back(regex_escape(t.value)); break;
      case COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN: p.trigger_patterns.push_back(t.value); break;
      case COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN_FULL: {
        std::string v = t.value.empty() ? "^$" : t.value;
        if (v.front() != '^') v.insert(v.begin(), '^');
        if (v.back() != '$') v.push_back('$');
        p.trigger_patterns.push_back(v);
        break;
      }
    }
  }
}

}  // namespace

ChatPrompt ChatFormatter::format_openai(const ChatOptions& options) const {
  common_chat_templates_inputs in;
  // Each text is bounded before llama.cpp common parses it (its users recurse
  // per level); the server's bodies are bounded already, other callers may not be.
  try {
    check_json_depth(options.messages_json, "the list");
    in.messages = common_chat_msgs_parse_oaicompat(common_json::parse(options.messages_json));
  } catch (const std::exception& e) {
    throw ChatInputError("messages", e.what());
  }
  if (!options.tools_json.empty()) {
    try {
      check_json_depth(options.tools_json, "the list");
      in.tools = common_chat_tools_parse_oaicompat(common_json::parse(options.tools_json));
      // Each tool's parameters become a grammar through the same converter as response_format.
      for (const auto& t : in.tools)
        check_json_schema_size(t.parameters, "the parameters of '" + t.name + "'");
    } catch (const std::exception& e) {
      throw ChatInputError("tools", e.what());
    }
  }
  if (!in.tools.empty() && options.tool_choice != "none" && !impl_->supports_tools)
    throw ChatInputError(
        "tools",
        "this model's chat template cannot show tools to the model or read its calls; serve it with a "
        "tool-capable --chat-template");
  if (options.tool_choice == "none" || options.tool_choice == "auto" || options.tool_choice == "required") {
    in.tool_choice = common_chat_tool_choice_parse_oaicompat(options.tool_choice);
  } else {
    // A named function: offer only that tool, and require a call.
    std::erase_if(in.tools, [&](const common_chat_tool& t) { return t.name != options.tool_choice; });
    if (in.tools.empty())
      throw ChatInputError("tool_choice", "'" + options.tool_choice + "' is not a function in tools");
    in.tool_choice = COMMON_CHAT_TOOL_CHOICE_REQUIRED;
  }
  in.parallel_tool_calls = options.parallel_tool_calls;
  in.add_generation_prompt = options.add_generation_prompt;
  in.use_jinja = impl_->use_jinja;
  common_chat_params out;
  try {
    out = common_chat_templates_apply(impl_->templates.get(), in);
  } catch (const std::exception& e) {
    // The template's rendering or the tool schemas' grammar: when the same
    // messages render without the tools, the tools are at fault. (Only on this
    // error path, so the second rendering costs nothing otherwise.)
    std::string field = "messages";
    if (!in.tools.empty()) {
      auto bare = in;
      bare.tools.clear();
      bare.tool_choice = COMMON_CHAT_TOOL_CHOICE_NONE;
      try {
        (void)common_chat_templates_apply(impl_->templates.get(), bare);
        field = "tools";
      } catch (const std::exception&) {
      }
    }
    throw ChatInputError(field, std::string("chat template failed: ") + e.what());
  }
  ChatPrompt p;
  p.text = out.prompt;
  p.additional_stops = out.additional_stops;
  p.grammar = out.grammar;
  p.grammar_lazy = out.grammar_lazy;
  add_triggers(out, p);
  if (!p.grammar.empty() && !p.grammar_lazy) p.grammar_prefill = out.generation_prompt;
  for (const auto& t : out.preserved_tokens) {
    const auto ids = model_->tokenize(t, false, true);
    if (ids.size() == 1) p.visible_special_tokens.push_back(ids[0]);
  }
  try {
    // Loads the answer parser llama.cpp built for this template and these tools.
    p.parser = std::make_shared<ReplyParser>(out);
  } catch (const std::exception& e) {
    throw ChatInputError(in.tools.empty() ? "messages" : "tools",
                         std::string("the chat format's answer parser failed: ") + e.what());
  }
  return p;
}

}  // namespace rmm::engine
