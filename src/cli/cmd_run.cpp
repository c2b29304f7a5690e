// rmm run MODEL [PROMPT]: one answer, streamed to stdout and nothing else.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <iterator>

#include "cli/commands.hpp"
#include "cli/generation_flags.hpp"
#include "cli/interrupt.hpp"
#include "cli/model_registry.hpp"
#include "cli/token_json.hpp"
#include "codec/generation_json.hpp"
#include "core/error.hpp"
#include "engine/backend.hpp"
#include "engine/batch_engine.hpp"
#include "engine/chat_format.hpp"

namespace rmm::cli {
namespace {

struct RunOptions {
  GenerationFlags gen;
  std::string prompt;
  bool prompt_given = false;
  bool json = false;
  int top_logprobs = -1;
};

void print_timings(const engine::GenerationResult& r) {
  const auto& t = r.timings;
  std::fprintf(
      stderr,
      "prompt: %d tokens (%d cached) in %.1f ms, %.1f tok/s | generation: %d tokens in %.1f ms, %.1f tok/s | "
      "stop: %s\n",
      t.prompt_tokens, t.cached_tokens, t.prompt_ms, t.prompt_tokens_per_second(), t.generated_tokens,
      t.generation_ms, t.generation_tokens_per_second(), engine::stop_reason_name(r.stop_reason));
}

// What this run measured, for the registry's per-backend speeds.
store::ModelSpeed measured_speed(const GenerationFlags& f, const engine::GenerationResult& r) {
  store::ModelSpeed s;
  s.backend = "CPU";
  if (f.load.gpu_layers != 0) {
    for (const auto& b : engine::compiled_backends())
      if (b != "CPU") {
        s.backend = b;
        break;
      }
  }
  s.prompt_tokens_per_second = r.timings.prompt_tokens_per_second();
  s.generation_tokens_per_second = r.timings.generation_tokens_per_second();
  return s;
}

// `echo TEXT | rmm run M` must equal `rmm run M TEXT`: the shell's final newline is not part of the prompt.
void strip_one_final_newline(std::string& s) {
  if (s.empty() || s.back() != '\n') return;
  s.pop_back();
  if (!s.empty() && s.back() == '\r') s.pop_back();
}

int run(RunOptions& o) {
  // No prompt on a terminal: talk, as `ollama run` does (before finalizing, which chat does itself).
  if (!o.prompt_given && isatty(STDIN_FILENO)) return chat_in_terminal(o.gen);
  finalize_generation_flags(o.gen);
  if (!o.prompt_given) {
    o.prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    strip_one_final_newline(o.prompt);
    // Empty input is a mistake (an empty file, a forgotten pipe), not a request to generate from nothing.
    if (o.prompt.empty())
      throw Error(ErrorKind::NotFound, "no prompt given: pass it as an argument or on stdin");
  }
  auto model = load_model(o.gen);

  // A model's chat template (or a named one) formats the prompt as a user message;
  // without one, or with --raw, the prompt is continued as plain text.
  const bool chat = !o.gen.raw && (!model->chat_template().empty() || !o.gen.chat_template.empty());
  engine::GenerateRequest req = o.gen.request;  // the flags' parameters
  if (chat) {
    engine::ChatFormatter fmt(*model, o.gen.chat_template);
    std::vector<engine::ChatMessage> msgs;
    if (!o.gen.system.empty()) msgs.push_back({"system", o.gen.system});
    msgs.push_back({"user", o.prompt});
    auto cp = fmt.format(msgs);
    req.prompt = model->tokenize_prompt(cp.text);
    req.stop.insert(req.stop.begin(), cp.additional_stops.begin(), cp.additional_stops.end());
  } else {
    if (!o.gen.system.empty() && o.gen.raw)
      throw Error(ErrorKind::InvalidArgument, "--system needs the chat template, which --raw turns off");
    if (!o.gen.system.empty())
      throw Error(ErrorKind::InvalidArgument,
                  o.gen.model +
                      " has no chat template, so a --system message has no place in the prompt: name one "
                      "with --chat-template chatml (or llama3, mistral-v7, ..., or Jinja source)");
    req.prompt = model->tokenize_prompt(o.prompt);
  }
  if (o.json) {
    req.logprobs = true;
    req.top_logprobs = o.top_logprobs < 0 ? 5 : o.top_logprobs;
  } else if (o.top_logprobs >= 0) {
    throw Error(ErrorKind::InvalidArgument, "--top-logprobs needs --json");
  }

  engine::ContextParams cp = o.gen.context;
  cp.n_seq = 1;
  engine::BatchEngine engine(model, cp);
  InterruptWatch watch([&engine](int presses) {
    if (presses >= 2) _exit(130);
    engine.cancel_all();
  });

  auto result = engine.generate(std::move(req), [&](const engine::TokenEvent& ev) {
    if (o.json) {
      std::cout << codec::token_event_json(ev).dump() << '\n' << std::flush;
    } else if (!ev.text.empty()) {
      std::fwrite(ev.text.data(), 1, ev.text.size(), stdout);
      std::fflush(stdout);
    }
  });
  if (o.json) {
    std::cout << done_json(result).dump() << '\n' << std::flush;
  } else if (isatty(STDOUT_FILENO)) {
    std::fputc('\n', stdout);
  }
  if (o.gen.verbose) print_timings(result);
  if (result.stop_reason != engine::StopReason::Error)
    record_model_use(o.gen.registry_id, measured_speed(o.gen, result));
  if (result.stop_reason == engine::StopReason::Error) throw Error(ErrorKind::Internal, result.error);
  return result.stop_reason == engine::StopReason::Cancelled ? 130 : 0;
}

}  // namespace

void add_run_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand("run", "Generate an answer to one prompt and stream it to stdout");
  add_generation_flags(cmd, o->gen);
  cmd->add_option("PROMPT", o->prompt, "The prompt (default: read stdin)")->each([o](const std::string&) {
    o->prompt_given = true;
  });
  cmd->add_flag("--json", o->json,
                "One JSON object per token (text, id, logprob, alternatives), then a summary");
  cmd->add_option("--top-logprobs", o->top_logprobs, "Alternatives per token with --json (0-20, default 5)")
      ->check(whole_number_in(0, 20));
  cmd->callback([o, &action] { action = [o] { return run(*o); }; });
}

}  // namespace rmm::cli
