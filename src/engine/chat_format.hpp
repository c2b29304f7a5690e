#pragma once
// Turns chat messages into a prompt with the model's own Jinja template, or a
// named llama.cpp template, through llama.cpp common's chat support.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "engine/model.hpp"

namespace rmm::engine {

// An rmm::Error (InvalidArgument) about one field of the chat input
// ("messages", "tools", "tool_choice"), so that a front end can name it.
class ChatInputError : public Error {
 public:
  ChatInputError(std::string field, const std::string& message)
      : Error(ErrorKind::InvalidArgument, field + ": " + message), field_(std::move(field)) {}
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

struct ChatMessage {
  std::string role;  // system, user, assistant, tool
  std::string content;
};

struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // JSON text
};

// A generated answer split by the template's own format: text, reasoning, tool calls.
struct ChatReply {
  std::string content;
  std::string reasoning;
  std::vector<ToolCall> tool_calls;
};

class ReplyParser;

struct ChatPrompt {
  std::string text;                           // tokenize with parse_special = true
  std::vector<std::string> additional_stops;  // stop strings the template asks for
  std::string grammar;                        // tool-call or output-format grammar, when any
  bool grammar_lazy = false;                  // the grammar starts only at a trigger
  std::vector<std::string> trigger_patterns;  // regexes that start a lazy grammar
  std::vector<Token> trigger_tokens;          // tokens that start a lazy grammar
  std::string grammar_prefill;                // text the template already wrote for the answer
  std::vector<Token> visible_special_tokens;  // special tokens the reply parser must see as text
  std::shared_ptr<const ReplyParser> parser;  // for parse_reply

  // Splits generated text into content and tool calls (llama.cpp common's parser for the
  // template's format). Throws rmm::Error(InvalidArgument) when the text does not parse.
  ChatReply parse_reply(const std::string& generated) const;
};

// OpenAI-style chat input, as JSON text (parsed by llama.cpp common).
struct ChatOptions {
  std::string messages_json;         // the "messages" array
  std::string tools_json;            // the "tools" array, or empty
  std::string tool_choice = "auto";  // auto, none, required, or a function name to force
  bool parallel_tool_calls = false;
  bool add_generation_prompt = true;
};

class ChatFormatter {
 public:
  // `template_name`: empty for the model's own template (llama.cpp falls back to
  // chatml when the model has none), one of builtin_names(), or Jinja source.
  // Throws rmm::Error(InvalidArgument) for an unknown name or a broken template
  // (BadFile when the broken one is the model's own).
  explicit ChatFormatter(const Model& model, const std::string& template_name = "");
  ~ChatFormatter();
  ChatFormatter(ChatFormatter&&) noexcept;
  ChatFormatter& operator=(ChatFormatter&&) noexcept;

  // Throws ChatInputError("messages") when the template fails on these messages.
  ChatPrompt format(const std::vector<ChatMessage>& messages, bool add_generation_prompt = true,
                    const std::string& json_schema = "") const;
  // Messages with tool calls and tool results, plus tool definitions. Throws
  // ChatInputError naming the field that is wrong, including tools offered to
  // a template that cannot show them to the model. The JSON texts are bounded
  // to kMaxJsonDepth here too: llama.cpp common's parsing and the tool schemas'
  // grammar recurse once per level.
  ChatPrompt format_openai(const ChatOptions& options) const;

  // Whether the template renders tool definitions and calls (the model's own
  // may not; chatml does not): without that, llama.cpp drops tools silently.
  bool supports_tools() const;
  // True when no template was named and the model has none, so chats use
  // ChatML, which the model may never have seen: front ends say so.
  bool falls_back_to_chatml() const { return fallback_; }

  // llama.cpp's named templates ("chatml", "llama3", "mistral-v7", ...).
  static std::vector<std::string> builtin_names();
  // Why llama.cpp's Jinja parser rejects `source` (its message, with the
  // place shown under a line of the source), or empty when it parses.
  static std::string template_error(const std::string& source);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  const Model* model_;
  bool fallback_ = false;
};

}  // namespace rmm::engine
