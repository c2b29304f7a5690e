// rmm prompt: Prompt Architect templates from the command line (list, show,
// run, import, export), kept in the same store as `rmm serve` uses.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/database.hpp"
#include "cli/generation_flags.hpp"
#include "cli/interrupt.hpp"
#include "cli/model_registry.hpp"
#include "cli/token_json.hpp"
#include "codec/generation_json.hpp"
#include "core/error.hpp"
#include "engine/batch_engine.hpp"
#include "engine/chat_format.hpp"
#include "prompts/catalog.hpp"
#include "prompts/files.hpp"
#include "prompts/render.hpp"
#include "server/api_error.hpp"
#include "server/openai/request.hpp"

namespace rmm::cli {
namespace {

using json = nlohmann::json;

struct PromptFlags {
  std::string database;
  std::string name;
  std::optional<int> version;
  bool json_out = false;
  std::vector<std::string> vars;  // k=v
  std::string model;
  std::string file;  // import FILE, export --out FILE
  int threads = 0, ctx_size = 0;
  std::optional<double> temperature;
  std::optional<int> max_tokens;
  std::optional<int64_t> seed;
};

// Opens the store and adds missing starters, as `rmm serve` does.
std::unique_ptr<store::Store> open_prompts(const PromptFlags& f) {
  auto db = open_database(f.database.empty() ? store::default_store_location() : f.database);
  prompts::seed_starters(*db);
  return db;
}

int list(const PromptFlags& f) {
  auto db = open_prompts(f);
  const auto all = db->list_templates();
  if (f.json_out) {
    json out = json::array();
    for (const auto& v : all) out.push_back(prompts::to_json(prompts::from_stored(v)));
    std::cout << out.dump(2) << '\n';
    return 0;
  }
  for (const auto& v : all) {
    std::string tags;
    for (const auto& t : v.tags) tags += (tags.empty() ? "" : ",") + t;
    std::printf("%-24s v%-3d %-28s %s\n", v.id.c_str(), v.version, v.name.c_str(), tags.c_str());
  }
  return 0;
}

void print_template(const prompts::Template& t) {
  std::cout << t.name << " (" << t.id << ", version " << t.version << ")\n";
  if (!t.description.empty()) std::cout << t.description << "\n";
  std::cout << "\nBlocks:\n";
  for (size_t i = 0; i < t.blocks.size(); ++i) {
    const auto& b = t.blocks[i];
    std::cout << "  [" << i << "] " << prompts::block_type_name(b.type) << ": ";
    switch (b.type) {
      case prompts::BlockType::Examples: std::cout << b.pairs.size() << " example pair(s)\n"; break;
      case prompts::BlockType::Parameters: std::cout << b.params.dump() << "\n"; break;
      default: std::cout << b.text << "\n";
    }
  }
  if (t.variables.empty()) return;
  std::cout << "\nVariables:\n";
  for (const auto& v : t.variables) {
    std::cout << "  " << v.name << " (" << prompts::variable_type_name(v.type);
    if (!v.options.empty()) {
      std::string opts;
      for (const auto& o : v.options) opts += (opts.empty() ? "" : "|") + o;
      std::cout << ": " << opts;
    }
    if (v.min || v.max)
      std::cout << ": " << (v.min ? json(*v.min).dump() : "") << ".." << (v.max ? json(*v.max).dump() : "");
    std::cout << (v.required ? ", required" : "") << ")";
    if (!v.default_value.is_null()) std::cout << " default " << v.default_value.dump();
    if (!v.label.empty()) std::cout << "  " << v.label;
    std::cout << "\n";
  }
}

int show(const PromptFlags& f) {
  auto db = open_prompts(f);
  const auto t = prompts::find(*db, f.name, f.version);
  if (f.json_out) {
    std::cout << prompts::to_json(t).dump(2) << '\n';
  } else {
    print_template(t);
  }
  return 0;
}

// --var k=v for each, typed by the template's variables.
json values_from_flags(const prompts::Template& t, const std::vector<std::string>& vars) {
  json values = json::object();
  for (const auto& kv : vars) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error(ErrorKind::InvalidArgument, "--var '" + kv + "' must look like NAME=VALUE");
    const std::string name = kv.substr(0, eq);
    const auto* v = t.find_variable(name);
    if (!v) throw Error(ErrorKind::InvalidArgument, "template '" + t.id + "' has no variable '" + name + "'");
    values[name] = prompts::value_from_string(*v, kv.substr(eq + 1));
  }
  return values;
}

// Names resolve as in `rmm run`: a file, or a registry name (nested pulls and aliases included).
std::filesystem::path model_path(const std::string& name) { return resolve_model_argument(name).path; }

int run(const PromptFlags& f) {
  auto db = open_prompts(f);
  const auto t = prompts::find(*db, f.name, f.version);
  const auto rendered = prompts::render(t, values_from_flags(t, f.vars));
  // The same request body /api/prompts/run builds, so both generate alike.
  json body = prompts::chat_request(rendered);
  if (f.temperature) body["temperature"] = *f.temperature;
  if (f.max_tokens) body["max_tokens"] = *f.max_tokens;
  if (f.seed) body["seed"] = *f.seed;
  std::string model_name = f.model;
  if (model_name.empty() && body.contains("model")) model_name = body["model"].get<std::string>();
  if (model_name.empty())
    throw Error(ErrorKind::InvalidArgument, "name a model with --model (the template names none)");

  engine::LoadParams lp;
  lp.path = model_path(model_name);
  auto model = engine::Model::load(lp);
  server::openai::ParsedRequest p;
  std::string schema;
  try {
    p = server::openai::parse_common(body, model->n_vocab());
    schema = server::openai::parse_response_format(body);
  } catch (const server::ApiError& e) {
    throw Error(ErrorKind::InvalidArgument, e.what());
  }
  engine::ChatFormatter fmt(*model);
  engine::ChatOptions opts;
  opts.messages_json = rendered.messages.dump();
  const auto prompt = fmt.format_openai(opts);
  engine::GenerateRequest req = std::move(p.generate);
  req.prompt = model->tokenize_prompt(prompt.text);
  req.stop.insert(req.stop.end(), prompt.additional_stops.begin(), prompt.additional_stops.end());
  req.visible_special_tokens = prompt.visible_special_tokens;
  if (!schema.empty()) req.sampling.json_schema = schema;
  if (f.json_out) {
    req.logprobs = true;
    req.top_logprobs = 5;
  }

  engine::ContextParams cp;
  cp.n_seq = 1;
  cp.n_threads = f.threads;
  cp.n_ctx = f.ctx_size;
  engine::BatchEngine engine(model, cp);
  engine.validate(req);
  InterruptWatch watch([&engine](int presses) {
    if (presses >= 2) _exit(130);
    engine.cancel_all();
  });
  const auto result = engine.generate(std::move(req), [&](const engine::TokenEvent& ev) {
    if (f.json_out) {
      std::cout << codec::token_event_json(ev).dump() << '\n' << std::flush;
    } else if (!ev.text.empty()) {
      std::fwrite(ev.text.data(), 1, ev.text.size(), stdout);
      std::fflush(stdout);
    }
  });
  if (f.json_out) {
    std::cout << done_json(result).dump() << '\n' << std::flush;
  } else if (isatty(STDOUT_FILENO)) {
    std::fputc('\n', stdout);
  }
  if (result.stop_reason == engine::StopReason::Error) throw Error(ErrorKind::Internal, result.error);
  return result.stop_reason == engine::StopReason::Cancelled ? 130 : 0;
}

// A file without an id creates a template, so its name must be free (as
// POST /api/prompts/templates); one with an id adds a version, unless it says
// what the latest version already says.
int import(const PromptFlags& f) {
  auto t = prompts::import_file(f.file);
  auto db = open_prompts(f);
  if (t.id.empty()) {
    if (const auto named = prompts::find_by_name(*db, t.name)) {
      if (prompts::same_content(*named, t)) {
        std::cout << "unchanged " << named->id << " (version " << named->version << " is the same)\n";
        return 0;
      }
      // An existing thing in the way, like `rmm forge` without --force: a runtime error (exit 1).
      throw Error(ErrorKind::BadFile, "a template named '" + named->name + "' exists (id '" + named->id +
                                          "', version " + std::to_string(named->version) + "): to import " +
                                          f.file + " as its next version, add \"id\": \"" + named->id +
                                          "\" to the file; or give it another name");
    }
    t.id = prompts::free_id(*db, t.name);
  }
  const auto out = prompts::save_if_changed(*db, t);
  std::cout << (out.changed ? "imported " : "unchanged ") << out.saved.id << " (version " << out.saved.version
            << (out.changed ? ")\n" : " is the same)\n");
  return 0;
}

int export_(const PromptFlags& f) {
  auto db = open_prompts(f);
  const auto t = prompts::find(*db, f.name, f.version);
  const std::filesystem::path out =
      f.file.empty() ? prompts::default_export_path(t) : std::filesystem::path(f.file);
  prompts::export_file(t, out);
  std::cout << out.string() << '\n';
  return 0;
}

}  // namespace

void add_prompt_command(CLI::App& app, Action& action) {
  auto f = std::make_shared<PromptFlags>();
  auto* cmd = app.add_subcommand("prompt", "Prompt templates: list, show, run, import, export");
  cmd->require_subcommand(1);
  cmd->add_option("--database", f->database,
                  "Where templates live: a SQLite file or a postgres:// URL (default $RMM_HOME/rmm.db)");
  auto set = [&action, f](int (*fn)(const PromptFlags&)) {
    return [&action, f, fn] { action = [f, fn] { return fn(*f); }; };
  };
  auto version = [f](CLI::App* c) {
    c->add_option_function<int>(
         "--version", [f](const int& v) { f->version = v; }, "A stored version (default: the latest)")
        ->check(CLI::PositiveNumber);
  };

  auto* l = cmd->add_subcommand("list", "The templates (latest versions)");
  l->add_flag("--json", f->json_out, "As JSON");
  l->callback(set(list));

  auto* s = cmd->add_subcommand("show", "One template's blocks and variables");
  s->add_option("NAME", f->name, "Template id or name")->required();
  version(s);
  s->add_flag("--json", f->json_out, "The template's JSON");
  s->callback(set(show));

  auto* r = cmd->add_subcommand("run", "Render a template with values and generate the answer");
  r->add_option("NAME", f->name, "Template id or name")->required();
  version(r);
  r->add_option("--var", f->vars, "A value NAME=VALUE (repeatable)");
  r->add_option("-m,--model", f->model, "A .gguf path or a name in the models dir (default: the template's)");
  r->add_flag("--json", f->json_out, "One JSON object per token, then a summary (as rmm run --json)");
  r->add_option("-t,--threads", f->threads, "CPU threads (0: all)")->check(CLI::Range(0, 1024));
  r->add_option("-c,--ctx-size", f->ctx_size, "Context size (0: the model's, at most 4096)")
      ->check(CLI::NonNegativeNumber);
  r->add_option_function<double>(
       "--temp", [f](const double& v) { f->temperature = v; }, "Temperature (overrides the template's)")
      ->check(parameter_check(*engine::find_parameter("temperature")));
  r->add_option_function<int>(
       "-n,--max-tokens", [f](const int& v) { f->max_tokens = v; }, "Tokens to generate at most")
      ->check(parameter_check(*engine::find_parameter("max_tokens")));
  r->add_option_function<int64_t>(
       "-s,--seed", [f](const int64_t& v) { f->seed = v; }, "Sampling seed")
      ->check(parameter_check(*engine::find_parameter("seed")));
  r->callback(set(run));

  auto* i = cmd->add_subcommand(
      "import", "Add a template from a JSON file (a new version if its id exists and it differs)");
  i->add_option("FILE", f->file, "The template's JSON file")->required();
  i->callback(set(import));

  auto* e = cmd->add_subcommand("export", "Write a template as JSON (default $RMM_HOME/prompts/<id>.json)");
  e->add_option("NAME", f->name, "Template id or name")->required();
  version(e);
  e->add_option("--out", f->file, "The file to write");
  e->callback(set(export_));
}

}  // namespace rmm::cli
