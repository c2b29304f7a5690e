// rmm chat MODEL: an interactive conversation formatted with the chat template.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/generation_flags.hpp"
#include "cli/interrupt.hpp"
#include "core/error.hpp"
#include "engine/batch_engine.hpp"
#include "engine/chat_format.hpp"

namespace rmm::cli {
namespace {

const char* kHelp =
    "Commands:\n"
    "  /reset          forget the conversation (keeps the system message)\n"
    "  /system TEXT    set the system message and start over\n"
    "  /save FILE      write the conversation as JSON\n"
    "  /help           this text\n"
    "Ctrl-C stops an answer; Ctrl-C at the prompt or Ctrl-D exits.\n";

void save(const std::string& path, const std::vector<engine::ChatMessage>& msgs) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& m : msgs) j.push_back({{"role", m.role}, {"content", m.content}});
  std::ofstream out(path);
  if (!out) throw Error(ErrorKind::InvalidArgument, "cannot write '" + path + "'");
  out << j.dump(2) << '\n';
}

int chat(GenerationFlags& f) {
  finalize_generation_flags(f);
  auto model = load_model(f);
  engine::ChatFormatter fmt(*model, f.chat_template);
  engine::ContextParams cp = f.context;
  cp.n_seq = 1;
  engine::BatchEngine engine(model, cp);
  bool generating = false;
  InterruptWatch watch([&](int) {
    if (generating) engine.cancel_all();
  });
  const bool tty = isatty(STDIN_FILENO);

  std::vector<engine::ChatMessage> msgs;
  if (!f.system.empty()) msgs.push_back({"system", f.system});
  if (tty) std::cerr << "rmm chat with " << model->description() << ". /help for commands.\n";

  for (;;) {
    if (tty) std::cout << "> " << std::flush;
    watch.reset();
    std::string line;
    if (!std::getline(std::cin, line)) break;  // Ctrl-D, end of input, or Ctrl-C at the prompt
    if (line.empty()) continue;
    if (line[0] == '/') {
      const auto space = line.find(' ');
      const std::string cmd = line.substr(0, space);
      const std::string arg = space == std::string::npos ? "" : line.substr(space + 1);
      if (cmd == "/help") {
        std::cout << kHelp;
      } else if (cmd == "/reset") {
        std::erase_if(msgs, [](const auto& m) { return m.role != "system"; });
        std::cout << "(conversation cleared)\n";
      } else if (cmd == "/system") {
        msgs.clear();
        if (!arg.empty()) msgs.push_back({"system", arg});
        std::cout << "(system message set, conversation cleared)\n";
      } else if (cmd == "/save") {
        if (arg.empty()) {
          std::cout << "usage: /save FILE\n";
        } else {
          save(arg, msgs);
          std::cout << "(saved " << msgs.size() << " messages to " << arg << ")\n";
        }
      } else {
        std::cout << "unknown command " << cmd << "; /help lists them\n";
      }
      continue;
    }
    msgs.push_back({"user", line});
    const auto prompt = fmt.format(msgs);
    engine::GenerateRequest req;
    req.prompt = model->tokenize_prompt(prompt.text);
    req.stop = prompt.additional_stops;
    req.stop.insert(req.stop.end(), f.stop.begin(), f.stop.end());
    req.sampling = f.sampling;
    req.max_tokens = f.max_tokens;
    req.ignore_eos = f.ignore_eos;
    generating = true;
    engine::GenerationResult r;
    try {
      r = engine.generate(std::move(req), [](const engine::TokenEvent& ev) {
        std::fwrite(ev.text.data(), 1, ev.text.size(), stdout);
        std::fflush(stdout);
      });
    } catch (const Error& e) {
      generating = false;
      msgs.pop_back();
      std::cout << "\n(error: " << e.what() << ")\n";
      continue;
    }
    generating = false;
    std::cout << '\n';
    if (r.stop_reason == engine::StopReason::Cancelled) std::cout << "(stopped)\n";
    if (r.stop_reason == engine::StopReason::Error) std::cout << "(error: " << r.error << ")\n";
    if (f.verbose) {
      std::fprintf(stderr, "(%d prompt tokens, %d cached; %d tokens at %.1f tok/s)\n",
                   r.timings.prompt_tokens, r.timings.cached_tokens, r.timings.generated_tokens,
                   r.timings.generation_tokens_per_second());
    }
    msgs.push_back({"assistant", r.text});
  }
  if (tty) std::cout << '\n';
  return 0;
}

}  // namespace

void add_chat_command(CLI::App& app, Action& action) {
  auto f = std::make_shared<GenerationFlags>();
  auto* cmd = app.add_subcommand("chat", "Talk with a model in the terminal (multi-turn, chat template)");
  add_generation_flags(cmd, *f);
  cmd->callback([f, &action] { action = [f] { return chat(*f); }; });
}

}  // namespace rmm::cli
