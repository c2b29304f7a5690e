// rmm worker: one model served for `rmm serve` over an inherited socket.
// Not for people: the server starts it (see src/worker).
#include "cli/commands.hpp"
#include "worker/worker_process.hpp"

namespace rmm::cli {

void add_worker_command(CLI::App& app, Action& action) {
  auto fd = std::make_shared<int>(-1);
  auto* cmd =
      app.add_subcommand("worker", "Serve one model for rmm serve over an inherited socket (internal)");
  cmd->group("");  // hidden from --help
  cmd->add_option("--fd", *fd, "The connected socket's descriptor")
      ->required()
      ->check(CLI::Range(3, 1 << 20));
  cmd->callback([fd, &action] { action = [fd] { return worker::run_worker(*fd); }; });
}

}  // namespace rmm::cli
