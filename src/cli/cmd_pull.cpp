// `rmm pull OWNER/REPO[:QUANT] | URL`: downloads a model from the Hugging Face
// Hub (or any URL) into the models folder, resumable and verified, with a
// progress bar on stderr. Ctrl-C keeps the partial file for the next run.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.hpp"
#include "cli/interrupt.hpp"
#include "core/error.hpp"
#include "core/paths.hpp"
#include "core/units.hpp"
#include "models/download/disk_space.hpp"
#include "models/hub/names.hpp"
#include "models/hub/pull.hpp"

namespace rmm::cli {
namespace {

struct PullArgs {
  std::string spec, dir, models_dir, revision = "main";
  bool json = false, quiet = false;
};

std::string clock_text(double seconds) {
  if (seconds < 0) return "--:--";
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

// One rewritten line on a terminal; a plain line per 10% otherwise.
class ProgressBar {
 public:
  explicit ProgressBar(bool quiet) : quiet_(quiet), tty_(::isatty(STDERR_FILENO) == 1) {}

  void start(size_t index, size_t count, const hub::PulledFile& f) {
    name_ = f.path.filename().string();
    label_ = count > 1 ? "[" + std::to_string(index + 1) + "/" + std::to_string(count) + "] " : "";
    last_step_ = -1;
    if (!quiet_ && !tty_)
      std::fprintf(stderr, "%s%s (%s)\n", label_.c_str(), name_.c_str(), format_bytes(f.size).c_str());
  }

  void update(const download::Progress& p) {
    if (quiet_) return;
    const double frac = p.total ? static_cast<double>(p.done) / static_cast<double>(p.total) : 0;
    const std::string speed = format_bytes(static_cast<uint64_t>(p.bytes_per_second)) + "/s";
    if (tty_) {
      constexpr int kWidth = 24;
      const int fill = static_cast<int>(frac * kWidth);
      std::string bar = std::string(fill, '=') + (fill < kWidth ? ">" : "") +
                        std::string(kWidth - std::min(kWidth, fill + 1), ' ');
      std::fprintf(stderr, "\r\033[K%s%s [%s] %3d%% %s / %s  %s  ETA %s", label_.c_str(), name_.c_str(),
                   bar.c_str(), static_cast<int>(frac * 100), format_bytes(p.done).c_str(),
                   format_bytes(p.total).c_str(), speed.c_str(), clock_text(p.eta_seconds).c_str());
      std::fflush(stderr);
      dirty_ = true;
    } else {
      const int step = static_cast<int>(frac * 10);
      if (step == last_step_) return;
      last_step_ = step;
      std::fprintf(stderr, "  %3d%%  %s / %s  %s  ETA %s\n", step * 10, format_bytes(p.done).c_str(),
                   format_bytes(p.total).c_str(), speed.c_str(), clock_text(p.eta_seconds).c_str());
    }
  }

  void end_line() {
    if (dirty_) std::fprintf(stderr, "\n");
    dirty_ = false;
  }

 private:
  bool quiet_, tty_;
  bool dirty_ = false;
  int last_step_ = -1;
  std::string name_, label_;
};

int run_pull(const PullArgs& a) {
  // Usage errors (exit 2) first: a malformed OWNER/REPO[:QUANT] or revision.
  if (!hub::is_url(a.spec)) hub::parse_repo_ref(a.spec);
  hub::check_revision(a.revision);
  hub::PullRequest req;
  req.spec = a.spec;
  req.revision = a.revision;
  req.models_dir = a.models_dir.empty() ? paths::models_dir() : std::filesystem::path(a.models_dir);
  req.dir = a.dir;

  hub::PullOptions opt;
  opt.hub = hub::HubConfig::from_env();
  if (const char* ms = std::getenv("RMM_PULL_RETRY_BASE_MS"); ms && *ms) opt.retry_base_ms = std::atoi(ms);
  std::atomic<bool> stop{false};
  InterruptWatch watch([&](int) { stop = true; });
  opt.keep_going = [&] { return !stop.load(); };
  ProgressBar bar(a.quiet);
  size_t count = 0;
  opt.on_plan = [&](const hub::PullPlan& plan) {
    count = plan.files.size();
    if (a.quiet) return;
    const std::string amount = !plan.sizes_known          ? "size unknown"
                               : plan.bytes_to_fetch == 0 ? "already downloaded"
                                                          : format_bytes(plan.bytes_to_fetch) + " to fetch";
    std::fprintf(
        stderr, "pulling %s%s into %s (%s)\n", plan.repo.empty() ? a.spec.c_str() : plan.repo.c_str(),
        plan.quant.empty() ? "" : (" " + plan.quant).c_str(), plan.dir.string().c_str(), amount.c_str());
  };
  opt.on_file = [&](size_t i, const hub::PulledFile& f) { bar.start(i, count, f); };
  opt.on_progress = [&](size_t, const download::Progress& p) { bar.update(p); };

  hub::PullResult result;
  try {
    result = hub::pull(req, opt);
  } catch (const Error& e) {
    bar.end_line();
    if (e.kind() == ErrorKind::Cancelled) {
      std::fprintf(stderr,
                   "rmm: pull interrupted; the partial download is kept: run the same command to resume\n");
      return 130;
    }
    // What the Hub or the disk refused is a runtime failure (exit 1), not a usage error.
    std::fprintf(stderr, "rmm: %s\n", e.what());
    return 1;
  }
  bar.end_line();
  if (a.json) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : result.files)
      files.push_back({{"role", f.role},
                       {"path", f.path.string()},
                       {"size", f.size},
                       {"sha256", f.sha256},
                       {"sha256_verified", f.verified_sha256},
                       {"already_present", f.already_present}});
    std::cout << nlohmann::json{{"repo", result.repo},         {"quant", result.quant},
                                {"revision", result.revision}, {"commit", result.commit},
                                {"dir", result.dir.string()},  {"files", files}}
                     .dump(2)
              << "\n";
  } else {
    for (const auto& f : result.files)
      std::cout << f.role << " " << f.path.string() << (f.already_present ? " (already there)" : "")
                << (f.verified_sha256 ? "" : " (no published sha256: size checked only)") << "\n";
  }
  return 0;
}

}  // namespace

void add_pull_command(CLI::App& app, Action& action) {
  CLI::App* sub = app.add_subcommand("pull", "Download a GGUF model from the Hugging Face Hub or a URL");
  auto a = std::make_shared<PullArgs>();
  sub->add_option("MODEL", a->spec, "OWNER/REPO[:QUANT] (default quantization Q4_K_M), or a file URL")
      ->required();
  sub->add_option("--revision", a->revision, "Branch, tag or commit of the repo");
  sub->add_option("--dir", a->dir, "Put the files exactly here (default MODELS/OWNER/REPO)");
  sub->add_option("--models-dir", a->models_dir, "Models folder (default $RMM_HOME/models)");
  sub->add_flag("--json", a->json, "Print what was pulled as JSON on stdout");
  sub->add_flag("-q,--quiet", a->quiet, "No progress on stderr");
  sub->footer(
      "Endpoint: RMM_HF_ENDPOINT (default https://huggingface.co); gated and private repos: HF_TOKEN.");
  sub->callback([&action, a] { action = [a] { return run_pull(*a); }; });
}

}  // namespace rmm::cli
