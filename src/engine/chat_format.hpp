#pragma once
// Turns chat messages into a prompt with the model's own Jinja template, or a
// named llama.cpp template, through llama.cpp common's chat support.
#include <memory>
#include <string>
#include <vector>

#include "engine/model.hpp"

namespace rmm::engine {

struct ChatMessage {
  std::string role;  // system, user, assistant, tool
  std::string content;
};

struct ChatPrompt {
  std::string text;                           // tokenize with parse_special = true
  std::vector<std::string> additional_stops;  // stop strings the template asks for
  std::string grammar;                        // from a JSON schema, when given
};

class ChatFormatter {
 public:
  // `template_name`: empty for the model's own template (llama.cpp falls back to
  // chatml when the model has none), one of builtin_names(), or Jinja source.
  // Throws rmm::Error(InvalidArgument) for an unknown name or a broken template.
  explicit ChatFormatter(const Model& model, const std::string& template_name = "");
  ~ChatFormatter();
  ChatFormatter(ChatFormatter&&) noexcept;
  ChatFormatter& operator=(ChatFormatter&&) noexcept;

  ChatPrompt format(const std::vector<ChatMessage>& messages, bool add_generation_prompt = true,
                    const std::string& json_schema = "") const;
  std::string template_source() const;

  // llama.cpp's named templates ("chatml", "llama3", "mistral-v7", ...).
  static std::vector<std::string> builtin_names();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rmm::engine
