// rmm: the command-line front end. One rule for exit codes (README, "Exit
// codes"): 2 when the command line is wrong (CLI11's parse errors, and
// rmm::Error InvalidArgument: a bad flag, argument or setting), 1 for what goes
// wrong while running (every other rmm::Error: a missing or damaged file, a
// failed load, the network), 130 when Ctrl-C stopped it.
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/generation_flags.hpp"
#include "core/error.hpp"
#include "core/log.hpp"

namespace rmm::cli {
bool log_level_explicit = false;
}

namespace {

constexpr int kRuntimeError = 1;
constexpr int kUsageError = 2;

int exit_code_of(const rmm::Error& e) {
  return e.kind() == rmm::ErrorKind::InvalidArgument ? kUsageError : kRuntimeError;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace rmm;
  CLI::App app{"RunMyModel: run open models locally", "rmm"};
  app.require_subcommand(1);
  app.formatter(cli::llama_style_help_formatter());  // before the subcommands, which copy it
  app.set_help_all_flag("--help-all", "Show help for every command");
  // CLI11 throws CallForVersion while parsing, so `rmm --version` needs no subcommand.
  app.set_version_flag("--version", std::string(), "Same as `rmm version`");
  std::string log_level = "warn";
  auto* log_opt = app.add_option("--log-level", log_level, "stderr log level: debug, info, warn, error, off")
                      ->check(CLI::IsMember({"debug", "info", "warn", "error", "off"}));

  cli::Action action;
  cli::add_run_command(app, action);
  cli::add_chat_command(app, action);
  cli::add_chats_command(app, action);
  cli::add_serve_command(app, action);
  cli::add_worker_command(app, action);
  cli::add_prompt_command(app, action);
  cli::add_pull_command(app, action);
  cli::add_search_command(app, action);
  cli::add_models_command(app, action);
  cli::add_rm_command(app, action);
  cli::add_alias_command(app, action);
  cli::add_ps_command(app, action);
  cli::add_keys_command(app, action);
  cli::add_audit_command(app, action);
  cli::add_info_command(app, action);
  cli::add_forge_command(app, action);
  cli::add_version_command(app, action);

  const auto args = cli::normalize_llama_style_flags(argc, argv);
  std::vector<char*> arg_ptrs;
  for (const auto& a : args) arg_ptrs.push_back(const_cast<char*>(a.c_str()));
  try {
    app.parse(static_cast<int>(arg_ptrs.size()), arg_ptrs.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion&) {
    try {
      return cli::print_version_text();
    } catch (const std::exception& e) {
      std::cerr << "rmm: " << e.what() << "\n";
      return kRuntimeError;
    }
  } catch (const CLI::ParseError& e) {
    std::cerr << "rmm: " << e.what() << "\n\n";
    // Show the usage of the subcommand that failed, if any was chosen.
    const CLI::App* shown = &app;
    for (const CLI::App* sub : app.get_subcommands()) shown = sub;
    std::string usage = shown->help();
    // CLI11 names a subcommand alone ("Usage: run"); users type "rmm run".
    if (shown != &app) {
      const std::string bare = "Usage: " + shown->get_name();
      if (auto at = usage.find(bare); at != std::string::npos)
        usage.replace(at, bare.size(), "Usage: rmm " + shown->get_name());
    }
    std::cerr << usage;
    return kUsageError;
  }

  try {
    cli::log_level_explicit = log_opt->count() > 0;
    log::set_level(log::parse_level(log_level));
    return action ? action() : kUsageError;
  } catch (const Error& e) {
    std::cerr << "rmm: " << e.what() << "\n";
    return exit_code_of(e);
  } catch (const std::exception& e) {
    std::cerr << "rmm: internal error: " << e.what() << "\n";
    return kRuntimeError;
  }
}
