// rmm chat MODEL: an interactive conversation formatted with the chat template.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/database.hpp"
#include "cli/generation_flags.hpp"
#include "cli/interrupt.hpp"
#include "cli/model_registry.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "engine/batch_engine.hpp"
#include "engine/chat_format.hpp"
#include "server/chat_recording.hpp"

namespace rmm::cli {
namespace {

struct ChatFlags {
  GenerationFlags gen;
  std::string resume;    // a stored conversation to continue
  std::string database;  // where conversations are saved ("" = the default location)
  bool no_save = false;
};

const char* kHelp =
    "Commands:\n"
    "  /reset          forget the conversation (keeps the system message); a new one is saved\n"
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

// Saves each turn to the store: the conversation is created with its first
// answer (so that a chat left without a word leaves nothing behind), then
// every user message and answer is appended.
class History {
 public:
  History(std::unique_ptr<store::Store> db, std::string model, std::string params_json)
      : db_(std::move(db)), model_(std::move(model)), params_json_(std::move(params_json)) {}

  // Continues a stored conversation; returns its messages. Throws NotFound.
  std::vector<engine::ChatMessage> resume(const std::string& id) {
    const auto c = db_->get_conversation(id);
    if (!c) throw Error(ErrorKind::NotFound, "no conversation '" + id + "' in the database");
    id_ = id;
    exists_ = true;
    std::vector<engine::ChatMessage> msgs;
    for (const auto& m : c->messages) msgs.push_back({m.role, m.content});
    return msgs;
  }

  // The next turn starts a new conversation.
  void start_new() {
    id_ = server::new_conversation_id();
    exists_ = false;
  }

  const std::string& id() const { return id_; }
  bool saved() const { return exists_; }
  bool enabled() const { return save_; }
  void set_enabled(bool save) { save_ = save; }

  // `msgs` ends with the user message of this turn: a new conversation gets
  // all of them (the system message too), a stored one just that message.
  void save_turn(const std::vector<engine::ChatMessage>& msgs, const engine::GenerationResult& r) {
    if (!save_) return;
    try {
      if (!exists_) {
        store::Conversation c;
        c.id = id_;
        c.model = model_;
        c.params_json = params_json_;
        for (const auto& m : msgs) {
          if (m.role == "user") {
            c.title = server::title_from(m.content);
            break;
          }
        }
        db_->create_conversation(c);
        exists_ = true;
        for (const auto& m : msgs) db_->append_message(id_, plain(m));
      } else {
        db_->append_message(id_, plain(msgs.back()));
      }
      db_->append_message(id_, server::answer_message(model_, r.text, r.timings));
    } catch (const std::exception& e) {
      std::cout << "(could not save the conversation: " << e.what() << ")\n";
    }
  }

 private:
  static store::ChatMessage plain(const engine::ChatMessage& m) {
    store::ChatMessage s;
    s.role = m.role;
    s.content = m.content;
    s.timings_json = "{}";
    return s;
  }

  std::unique_ptr<store::Store> db_;
  std::string model_, params_json_;
  std::string id_;
  bool exists_ = false;
  bool save_ = true;
};

std::string params_json(const GenerationFlags& f) {
  const auto& s = f.sampling;
  nlohmann::json p = {{"temperature", s.temperature},
                      {"top_k", s.top_k},
                      {"top_p", s.top_p},
                      {"min_p", s.min_p},
                      {"repeat_penalty", s.repeat_penalty},
                      {"seed", s.seed},
                      {"max_tokens", f.max_tokens}};
  if (!f.stop.empty()) p["stop"] = f.stop;
  return p.dump();
}

// One line per stored message, so that a resumed chat shows where it was.
void print_resumed(const std::vector<engine::ChatMessage>& msgs) {
  for (const auto& m : msgs) std::cout << "[" << m.role << "] " << server::title_from(m.content) << "\n";
}

int chat(ChatFlags& cf) {
  GenerationFlags& f = cf.gen;
  finalize_generation_flags(f);
  // The store first: a wrong --resume id or database fails before the model loads.
  std::unique_ptr<History> history;
  std::vector<engine::ChatMessage> resumed;
  if (!cf.no_save || !cf.resume.empty()) {
    // The same database as `rmm serve` (RMM_DATABASE, [serve] database), so that the UIs list these chats.
    const std::string location = cf.database.empty()
                                     ? Config::load(Config::default_path())
                                           .get_string("serve", "database", store::default_store_location())
                                     : cf.database;
    history = std::make_unique<History>(open_database(location),
                                        std::filesystem::path(f.load.path).stem().string(), params_json(f));
    history->set_enabled(!cf.no_save);
    if (!cf.resume.empty()) {
      resumed = history->resume(cf.resume);
    } else {
      history->start_new();
    }
  }
  auto model = load_model(f);
  record_model_use(f.registry_id, std::nullopt);
  engine::ChatFormatter fmt(*model, f.chat_template);
  engine::ContextParams cp = f.context;
  cp.n_seq = 1;
  engine::BatchEngine engine(model, cp);
  bool generating = false;
  InterruptWatch watch([&](int) {
    if (generating) engine.cancel_all();
  });
  const bool tty = isatty(STDIN_FILENO);

  std::vector<engine::ChatMessage> msgs = resumed;
  if (resumed.empty() && !f.system.empty()) msgs.push_back({"system", f.system});
  if (tty) std::cerr << "rmm chat with " << model->description() << ". /help for commands.\n";
  if (!resumed.empty()) {
    std::cout << "(resuming conversation " << cf.resume << ", " << resumed.size() << " messages)\n";
    print_resumed(resumed);
  }
  if (history && history->enabled()) std::cerr << "rmm chat: conversation " << history->id() << "\n";
  // A new conversation after /reset or /system; the next turn creates it.
  auto start_over = [&] {
    if (!history || !history->enabled()) return;
    history->start_new();
    std::cerr << "rmm chat: conversation " << history->id() << "\n";
  };

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
        start_over();
      } else if (cmd == "/system") {
        msgs.clear();
        if (!arg.empty()) msgs.push_back({"system", arg});
        std::cout << "(system message set, conversation cleared)\n";
        start_over();
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
    if (r.stop_reason != engine::StopReason::Error && history) history->save_turn(msgs, r);
    msgs.push_back({"assistant", r.text});
  }
  if (tty) std::cout << '\n';
  if (history && history->enabled() && history->saved()) {
    std::cerr << "rmm chat: saved conversation " << history->id() << " (continue it with --resume "
              << history->id() << ")\n";
  }
  return 0;
}

}  // namespace

int chat_in_terminal(const GenerationFlags& gen) {
  ChatFlags cf;
  cf.gen = gen;
  return chat(cf);
}

void add_chat_command(CLI::App& app, Action& action) {
  auto f = std::make_shared<ChatFlags>();
  auto* cmd = app.add_subcommand("chat", "Talk with a model in the terminal (multi-turn, chat template)");
  add_generation_flags(cmd, f->gen);
  auto* resume = cmd->add_option("--resume", f->resume,
                                 "Continue a saved conversation (its id, printed by earlier chats)");
  if (auto* system = cmd->get_option_no_throw("--system")) resume->excludes(system);
  cmd->add_option("--database", f->database,
                  "Where conversations are saved: a SQLite file or a postgres:// URL (default: RMM_DATABASE, "
                  "[serve] database in config.toml, else $RMM_HOME/rmm.db)");
  cmd->add_flag("--no-save", f->no_save, "Do not save this conversation");
  cmd->callback([f, &action] { action = [f] { return chat(*f); }; });
}

}  // namespace rmm::cli
