// `rmm models`, `rmm rm NAME`, `rmm alias NAME ALIAS`: the model registry
// from the command line. Every command rescans the models dirs first
// (a stat per file; only new or changed files are read).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/model_registry.hpp"
#include "cli/text_table.hpp"
#include "core/error.hpp"
#include "core/units.hpp"
#include "models/model_files.hpp"
#include "models/short_name.hpp"

namespace rmm::cli {
namespace {

using nlohmann::json;

struct ModelsOptions {
  bool json = false;
  bool rescan = false;
  bool hash = false;
  bool paths = false;
  std::string database;
  // `rmm models tag NAME TAG [--remove]`
  std::string tag_name, tag;
  bool tag_remove = false;
  std::string folder;  // `rmm models add-folder DIR`, `remove-folder DIR`
};

std::string format_count(uint64_t n) {
  if (n == 0) return "-";
  char buf[32];
  const double v = static_cast<double>(n);
  if (n >= 1'000'000'000) {
    std::snprintf(buf, sizeof buf, "%.1fB", v / 1e9);
  } else if (n >= 1'000'000) {
    std::snprintf(buf, sizeof buf, "%.1fM", v / 1e6);
  } else if (n >= 1000) {
    std::snprintf(buf, sizeof buf, "%.1fK", v / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(n));
  }
  return buf;
}

std::string context_text(uint64_t n) { return n ? std::to_string(n) : "-"; }

json model_json(const store::ModelRecord& m, const std::vector<models::Registry::Speed>& speeds) {
  json meta = json::parse(m.metadata_json, nullptr, false);
  if (!meta.is_object()) meta = json::object();
  json j = {{"name", m.short_name},
            {"path", m.path},
            {"size", m.size},
            {"kind", m.kind},
            {"sha256", m.sha256.empty() ? json(nullptr) : json(m.sha256)},
            {"aliases", m.aliases},
            {"tags", m.tags},
            {"split_group", m.split_group.empty() ? json(nullptr) : json(m.split_group)},
            {"first_seen", m.first_seen},
            {"first_used", m.first_used ? json(m.first_used) : json(nullptr)},
            {"last_used", m.last_used ? json(m.last_used) : json(nullptr)},
            {"use_count", m.use_count}};
  for (const char* key : {"architecture", "name", "parameters", "quantization", "context_length", "layers",
                          "chat_template", "format", "error", "parts"}) {
    if (meta.contains(key)) j[std::string(key) == "name" ? "model_name" : key] = meta[key];
  }
  json sj = json::object();
  for (const auto& s : speeds) {
    sj[s.backend] = {{"prompt_tokens_per_second", s.prompt_tokens_per_second},
                     {"generation_tokens_per_second", s.generation_tokens_per_second},
                     {"runs", s.runs},
                     {"measured_at", s.measured_at}};
  }
  j["speeds"] = std::move(sj);
  return j;
}

void print_table(const std::vector<store::ModelRecord>& models, const std::filesystem::path& models_dir,
                 bool paths) {
  if (models.empty()) {
    // A first run: the folder exists from now on, so that files can be dropped into it.
    std::error_code ec;
    std::filesystem::create_directories(models_dir, ec);
    std::cout << "no models in " << models_dir.string()
              << "\nput .gguf files there, or fetch one: rmm pull OWNER/REPO (rmm search finds them)\n";
    return;
  }
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "KIND", "SIZE", "QUANT", "PARAMS", "CONTEXT", "USES", "ALIASES"}};
  if (paths) rows.front().push_back("PATH");
  for (const auto& m : models) {
    json meta = json::parse(m.metadata_json, nullptr, false);
    if (!meta.is_object()) meta = json::object();
    std::string aliases;
    for (const auto& a : m.aliases) aliases += (aliases.empty() ? "" : ",") + a;
    rows.push_back({m.short_name, m.kind, format_bytes(m.size), meta.value("quantization", std::string("-")),
                    format_count(meta.value("parameters", uint64_t{0})),
                    context_text(meta.value("context_length", uint64_t{0})), std::to_string(m.use_count),
                    aliases.empty() ? "-" : aliases});
    if (paths) rows.back().push_back(m.path);
    if (rows.back()[3].empty()) rows.back()[3] = "-";
  }
  write_table(std::cout, rows);
  for (const auto& m : models) {
    if (m.kind == "needs-conversion" || m.kind == "invalid") {
      json meta = json::parse(m.metadata_json, nullptr, false);
      std::string why = meta.is_object() ? meta.value("error", std::string()) : std::string();
      std::cout << "note: " << m.short_name << " (" << m.path << "): " << (why.empty() ? m.kind : why)
                << "\n";
    }
  }
}

int models_command(const ModelsOptions& o) {
  LocalRegistry r = open_local_registry(o.database, o.hash);
  r.registry->scan(o.rescan);
  if (o.hash) r.registry->wait_for_hashes();
  const auto models = r.registry->list();
  if (o.json) {
    json out = json::array();
    for (const auto& m : models) out.push_back(model_json(m, r.registry->speeds(m.id)));
    std::cout << out.dump(2) << "\n";
  } else {
    print_table(models, r.models_dir, o.paths);
  }
  return 0;
}

int tag_command(const ModelsOptions& o) {
  LocalRegistry r = open_local_registry(o.database);
  r.registry->scan();
  if (o.tag_remove) {
    if (!r.registry->remove_tag(o.tag_name, o.tag))
      throw Error(ErrorKind::NotFound, "model '" + o.tag_name + "' has no tag '" + o.tag + "'");
    std::cout << "removed tag " << o.tag << " from " << o.tag_name << "\n";
  } else {
    const auto m = r.registry->add_tag(o.tag_name, o.tag);
    std::cout << m.short_name << " tagged " << o.tag << "\n";
  }
  return 0;
}

// `rmm models folders`: every folder scanned, where it comes from, and its models.
int folders_command(const ModelsOptions& o) {
  LocalRegistry r = open_local_registry(o.database);
  r.registry->scan();
  const auto all = r.registry->list();
  std::vector<std::vector<std::string>> rows;
  for (const auto& f : r.registry->folders()) {
    const auto n = std::count_if(all.begin(), all.end(), [&](const store::ModelRecord& m) {
      return models::is_inside(m.path, f.path);
    });
    std::error_code ec;
    rows.push_back({f.path.string(), f.source,
                    std::filesystem::is_directory(f.path, ec) ? std::to_string(n) : "(missing)"});
  }
  rows.insert(rows.begin(), {"FOLDER", "SOURCE", "MODELS"});
  write_table(std::cout, rows);
  return 0;
}

int add_folder_command(const ModelsOptions& o) {
  LocalRegistry r = open_local_registry(o.database);
  std::error_code ec;
  // Relative paths are the user's own here: made absolute against the working dir.
  const auto dir = std::filesystem::absolute(o.folder, ec);
  auto [folder, found] = r.registry->add_folder(ec ? o.folder : dir.string());
  std::cout << "added " << folder.path.string() << " (" << found.size()
            << (found.size() == 1 ? " model" : " models") << ")\n";
  for (const auto& m : found) std::cout << "  " << m.short_name << "  " << m.path << "\n";
  return 0;
}

int remove_folder_command(const ModelsOptions& o) {
  LocalRegistry r = open_local_registry(o.database);
  std::error_code ec;
  const auto dir = std::filesystem::absolute(o.folder, ec);
  const auto forgotten = r.registry->remove_folder(ec ? o.folder : dir.string());
  std::cout << "removed " << o.folder << "; forgot " << forgotten.size()
            << (forgotten.size() == 1 ? " model" : " models") << " (the files stay)\n";
  return 0;
}

struct RmOptions {
  std::string name;
  bool yes = false;
  std::string database;
};

int rm_command(const RmOptions& o) {
  LocalRegistry r = open_local_registry(o.database);
  r.registry->scan();
  std::optional<store::ModelRecord> m;
  std::error_code ec;
  // A path is accepted only when it is a registered model file: rm never deletes arbitrary files.
  if (std::filesystem::is_regular_file(o.name, ec) && models::looks_like_path(o.name)) {
    m = r.registry->find_by_path(o.name);
    if (!m)
      throw Error(ErrorKind::InvalidArgument, o.name + " is not a model in the registry (see `rmm models`)");
  } else {
    m = r.registry->resolve(o.name);
  }
  const auto parts = models::Registry::parts_of(*m);
  if (!o.yes) {
    if (!isatty(STDIN_FILENO))
      throw Error(ErrorKind::InvalidArgument, "rmm rm deletes " + std::to_string(parts.size()) +
                                                  " file(s) of " + m->short_name +
                                                  "; pass --yes to confirm (stdin is not a terminal)");
    std::cerr << "delete " << m->short_name << " (" << format_bytes(m->size) << "):\n";
    for (const auto& p : parts) std::cerr << "  " << p.string() << "\n";
    std::cerr << "[y/N] " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "y" && answer != "Y" && answer != "yes") {
      std::cerr << "kept\n";
      return 1;
    }
  }
  for (const auto& p : r.registry->remove(*m)) std::cout << "deleted " << p.string() << "\n";
  return 0;
}

struct AliasOptions {
  std::vector<std::string> args;
  bool remove = false;
  std::string database;
};

int alias_command(const AliasOptions& o) {
  LocalRegistry r = open_local_registry(o.database);
  r.registry->scan();
  if (o.remove) {
    if (o.args.size() != 1) throw Error(ErrorKind::InvalidArgument, "rmm alias --remove takes one ALIAS");
    if (!r.registry->remove_alias(o.args[0]))
      throw Error(ErrorKind::NotFound, "no alias '" + o.args[0] + "'");
    std::cout << "removed alias " << o.args[0] << "\n";
    return 0;
  }
  if (o.args.size() != 2) throw Error(ErrorKind::InvalidArgument, "rmm alias takes NAME and ALIAS");
  const auto m = r.registry->set_alias(o.args[0], o.args[1]);
  std::cout << o.args[1] << " -> " << m.short_name << "\n";
  return 0;
}

void add_database_option(CLI::App* cmd, std::string& database) {
  cmd->add_option("--database", database,
                  "Database holding the registry (default: rmm serve's, $RMM_HOME/rmm.db)");
}

}  // namespace

void add_models_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<ModelsOptions>();
  auto* cmd = app.add_subcommand("models", "List the models in the models dirs (rescans them first)");
  cmd->add_flag("--json", o->json, "JSON array with metadata, sha256, aliases, tags, uses and speeds");
  cmd->add_flag("--rescan", o->rescan, "Re-read every file's metadata, not only new and changed ones");
  cmd->add_flag("--hash", o->hash, "Compute missing sha256 values now and wait for them");
  cmd->add_flag("--paths", o->paths, "Show each model's file in the table");
  add_database_option(cmd, o->database);
  cmd->require_subcommand(0, 1);
  cmd->callback([o, cmd, &action] {
    if (cmd->get_subcommands().empty()) action = [o] { return models_command(*o); };
  });

  auto* tag = cmd->add_subcommand("tag", "Tag a model (or --remove the tag)");
  tag->add_option("NAME", o->tag_name, "Model name")->required();
  tag->add_option("TAG", o->tag, "Tag")->required();
  tag->add_flag("--remove", o->tag_remove, "Remove the tag instead");
  tag->callback([o, &action] { action = [o] { return tag_command(*o); }; });

  auto* folders = cmd->add_subcommand("folders", "List the models folders (main, configured, added)");
  add_database_option(folders, o->database);
  folders->callback([o, &action] { action = [o] { return folders_command(*o); }; });
  auto* add =
      cmd->add_subcommand("add-folder", "Scan a folder of model files as it is laid out, from now on");
  add->add_option("DIR", o->folder, "The folder")->required();
  add_database_option(add, o->database);
  add->callback([o, &action] { action = [o] { return add_folder_command(*o); }; });
  auto* remove = cmd->add_subcommand("remove-folder", "Stop scanning an added folder (its files stay)");
  remove->add_option("DIR", o->folder, "The folder, as `rmm models folders` lists it")->required();
  add_database_option(remove, o->database);
  remove->callback([o, &action] { action = [o] { return remove_folder_command(*o); }; });
}

void add_rm_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<RmOptions>();
  auto* cmd = app.add_subcommand("rm", "Delete a model's file(s) and forget it");
  cmd->add_option("NAME", o->name, "Model name, alias or file name")->required();
  cmd->add_flag("-y,--yes", o->yes, "Do not ask for confirmation");
  add_database_option(cmd, o->database);
  cmd->callback([o, &action] { action = [o] { return rm_command(*o); }; });
}

void add_alias_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<AliasOptions>();
  auto* cmd = app.add_subcommand("alias", "Give a model another name: rmm alias NAME ALIAS (--remove ALIAS)");
  cmd->add_option("NAME ALIAS", o->args, "The model's name, then the alias")->required()->expected(1, 2);
  cmd->add_flag("--remove", o->remove, "Remove the alias given alone");
  add_database_option(cmd, o->database);
  cmd->callback([o, &action] { action = [o] { return alias_command(*o); }; });
}

}  // namespace rmm::cli
