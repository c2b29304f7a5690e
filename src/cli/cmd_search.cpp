// `rmm search QUERY`: GGUF repos on the Hugging Face Hub, most downloaded first.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.hpp"
#include "models/hub/hub_client.hpp"

namespace rmm::cli {
namespace {

struct SearchArgs {
  std::string query;
  int limit = 20;
  bool json = false;
};

std::string short_count(uint64_t n) {
  char buf[32];
  if (n >= 1000000)
    std::snprintf(buf, sizeof buf, "%.1fM", static_cast<double>(n) / 1e6);
  else if (n >= 10000)
    std::snprintf(buf, sizeof buf, "%.1fk", static_cast<double>(n) / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(n));
  return buf;
}

int run_search(const SearchArgs& a) {
  const auto hub = hub::HubConfig::from_env();
  const auto hits = hub::search_models(hub, a.query, a.limit);
  if (a.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& h : hits)
      out.push_back(
          {{"id", h.id}, {"downloads", h.downloads}, {"likes", h.likes}, {"last_modified", h.last_modified}});
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (hits.empty()) {
    std::cout << "no GGUF repos match '" << a.query << "'\n";
    return 0;
  }
  size_t width = 4;
  for (const auto& h : hits) width = std::max(width, h.id.size());
  std::printf("%-*s  %9s  %6s  %s\n", static_cast<int>(width), "REPO", "DOWNLOADS", "LIKES", "UPDATED");
  for (const auto& h : hits)
    std::printf("%-*s  %9s  %6s  %s\n", static_cast<int>(width), h.id.c_str(),
                short_count(h.downloads).c_str(), short_count(h.likes).c_str(),
                h.last_modified.substr(0, 10).c_str());
  return 0;
}

}  // namespace

void add_search_command(CLI::App& app, Action& action) {
  CLI::App* sub = app.add_subcommand("search", "Search the Hugging Face Hub for GGUF models");
  auto a = std::make_shared<SearchArgs>();
  sub->add_option("QUERY", a->query, "Words to look for in repo names")->required();
  sub->add_option("--limit", a->limit, "How many repos to show")->check(CLI::Range(1, 1000));
  sub->add_flag("--json", a->json, "Print a JSON array instead of a table");
  sub->footer("Endpoint: RMM_HF_ENDPOINT (default https://huggingface.co); token: HF_TOKEN.");
  sub->callback([&action, a] { action = [a] { return run_search(*a); }; });
}

}  // namespace rmm::cli
