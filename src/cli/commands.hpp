#pragma once
// Each `rmm` subcommand lives in its own cmd_*.cpp and registers itself here.
// A command's callback returns the process exit code; errors it cannot
// handle are thrown as rmm::Error and reported by main().
#include <CLI/CLI.hpp>
#include <functional>

namespace rmm::cli {

using Action = std::function<int()>;

// Each adder creates its subcommand on `app` and stores the action to run
// when that subcommand was chosen into `action`.
void add_info_command(CLI::App& app, Action& action);
void add_forge_command(CLI::App& app, Action& action);
void add_version_command(CLI::App& app, Action& action);
void add_run_command(CLI::App& app, Action& action);
void add_chat_command(CLI::App& app, Action& action);
void add_chats_command(CLI::App& app, Action& action);
void add_serve_command(CLI::App& app, Action& action);
void add_worker_command(CLI::App& app, Action& action);
void add_prompt_command(CLI::App& app, Action& action);
void add_pull_command(CLI::App& app, Action& action);
void add_search_command(CLI::App& app, Action& action);
void add_models_command(CLI::App& app, Action& action);
void add_rm_command(CLI::App& app, Action& action);
void add_alias_command(CLI::App& app, Action& action);
void add_ps_command(CLI::App& app, Action& action);
void add_keys_command(CLI::App& app, Action& action);
void add_audit_command(CLI::App& app, Action& action);

// `rmm version`'s text, for `rmm --version` too.
int print_version_text();

struct GenerationFlags;
// `rmm chat`'s loop with these flags and its defaults otherwise (`rmm run` with no prompt on a terminal).
int chat_in_terminal(const GenerationFlags& gen);

// Whether --log-level was given (commands with chattier defaults respect it).
extern bool log_level_explicit;

}  // namespace rmm::cli
