// rmm chat MODEL: an interactive conversation formatted with the chat template;
// rmm chats: the saved conversations, to continue one with --resume.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/database.hpp"
#include "cli/generation_flags.hpp"
#include "cli/interrupt.hpp"
#include "cli/model_registry.hpp"
#include "cli/text_table.hpp"
#include "codec/parameters_json.hpp"
#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/json_limits.hpp"
#include "engine/batch_engine.hpp"
#include "engine/chat_format.hpp"
#include "serving/chat_messages.hpp"

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

// The database chats are saved in: the same as `rmm serve`'s (RMM_DATABASE,
// [serve] database), so that the UIs list these chats.
std::string chat_database(const std::string& flag) {
  if (!flag.empty()) return flag;
  return Config::load(Config::default_path())
      .get_string("serve", "database", store::default_store_location());
}

constexpr size_t kShortId = 8;  // what `rmm chats` shows and --resume accepts at least

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Every stored conversation (newest first, without messages), page by page.
std::vector<store::Conversation> all_conversations(store::Store& db, size_t at_most = SIZE_MAX) {
  std::vector<store::Conversation> out;
  store::ConversationQuery q;
  q.limit = 200;
  for (;;) {
    auto page = db.list_conversations(q);
    for (auto& c : page.items) {
      if (out.size() >= at_most) return out;
      out.push_back(std::move(c));
    }
    if (page.items.empty() || q.offset + static_cast<int>(page.items.size()) >= page.total) return out;
    q.offset += static_cast<int>(page.items.size());
  }
}

// A conversation by its id or a unique prefix of it (with messages). Unknown:
// NotFound; a prefix several ids share: InvalidArgument listing them.
store::Conversation find_conversation(store::Store& db, const std::string& ref) {
  const std::string want = lower(ref);
  std::string id = want;
  if (want.size() < 32) {
    std::vector<store::Conversation> hits;
    for (auto& c : all_conversations(db))
      if (c.id.rfind(want, 0) == 0) hits.push_back(std::move(c));
    if (hits.size() > 1) {
      std::string list;
      for (const auto& c : hits) list += "\n  " + c.id + "  " + (c.title.empty() ? "(untitled)" : c.title);
      throw Error(ErrorKind::InvalidArgument,
                  "conversation id '" + ref + "' is ambiguous; give more of one of these:" + list);
    }
    if (hits.size() == 1) id = hits.front().id;
  }
  auto c = db.get_conversation(id);
  if (!c)
    throw Error(ErrorKind::NotFound,
                "no conversation '" + ref + "' in the database (`rmm chats` lists them)");
  return std::move(*c);
}

// What to load for a resumed conversation given no MODEL: the file it was
// held with when it is still there, else its model's name in the registry.
// Throws NotFound naming the model when neither is there.
std::string model_of(const store::Conversation& c) {
  std::string path;
  try {
    const auto p = parse_json_bounded<nlohmann::json>(c.params_json, "the conversation's parameters");
    if (p.is_object() && p.contains("model_path") && p["model_path"].is_string()) path = p["model_path"];
  } catch (const std::exception&) {
    // Parameters from another front end: only the model's name is left to go by.
  }
  std::error_code ec;
  const bool file_there = !path.empty() && std::filesystem::is_regular_file(path, ec);
  // Named after its file: that file is the model (the registry could hold another of that name).
  if (file_there && (c.model.empty() || c.model == std::filesystem::path(path).stem().string())) return path;
  std::string why = "the conversation names no model";
  if (!c.model.empty()) {
    try {
      resolve_model_argument(c.model);
      return c.model;
    } catch (const Error& e) {
      why = e.what();
    }
  }
  if (file_there) return path;
  const std::string id = c.id.substr(0, kShortId);
  throw Error(ErrorKind::NotFound, "conversation " + id + " was held with the model '" + c.model +
                                       "', which is not available (" + why +
                                       "); name one to continue with: rmm chat MODEL --resume " + id);
}

// Saves each turn to the store: the conversation is created with its first
// answer (so that a chat left without a word leaves nothing behind), then
// every user message and answer is appended.
class History {
 public:
  explicit History(std::unique_ptr<store::Store> db) : db_(std::move(db)) {}

  store::Store& db() { return *db_; }

  // Who answers, as stored with the conversation and each answer.
  void set_model(std::string model, std::string params_json) {
    model_ = std::move(model);
    params_json_ = std::move(params_json);
  }

  // Continues stored conversation `c`; returns the messages of the branch in
  // view (its root to its current leaf), which new turns extend.
  std::vector<engine::ChatMessage> resume(const store::Conversation& c) {
    id_ = c.id;
    exists_ = true;
    std::vector<engine::ChatMessage> msgs;
    for (const auto& m : store::current_path(c)) msgs.push_back({m.role, m.content});
    return msgs;
  }

  // The next turn starts a new conversation.
  void start_new() {
    id_ = serving::new_conversation_id();
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
            c.title = serving::title_from(m.content);
            break;
          }
        }
        for (const auto& m : msgs) c.messages.push_back(serving::stored_message(m));
        c.messages.push_back(serving::answer_message(model_, r.text, r.timings));
        db_->create_conversation(c);
        exists_ = true;
      } else {
        // After the current leaf: the branch this chat resumed.
        db_->append_messages(
            id_, {serving::stored_message(msgs.back()), serving::answer_message(model_, r.text, r.timings)});
      }
    } catch (const std::exception& e) {
      std::cout << "(could not save the conversation: " << e.what() << ")\n";
    }
  }

 private:
  std::unique_ptr<store::Store> db_;
  std::string model_, params_json_;
  std::string id_;
  bool exists_ = false;
  bool save_ = true;
};

std::string params_json(const GenerationFlags& f) {
  // Every table parameter, as stored history keeps them (codec/parameters_json.hpp).
  nlohmann::json p = codec::parameters_json(f.request);
  // So that `--resume ID` without a MODEL finds a model given as a path (the registry knows only its own).
  std::error_code ec;
  const auto abs = std::filesystem::absolute(f.load.path, ec);
  if (!ec) p["model_path"] = abs.lexically_normal().string();
  return p.dump();
}

// One line per stored message, so that a resumed chat shows where it was.
void print_resumed(const std::vector<engine::ChatMessage>& msgs) {
  for (const auto& m : msgs) std::cout << "[" << m.role << "] " << serving::title_from(m.content) << "\n";
}

int chat(ChatFlags& cf) {
  GenerationFlags& f = cf.gen;
  // The store first: a wrong --resume id or database fails before the model loads.
  std::unique_ptr<History> history;
  std::vector<engine::ChatMessage> resumed;
  if (!cf.no_save || !cf.resume.empty()) {
    history = std::make_unique<History>(open_database(chat_database(cf.database)));
    history->set_enabled(!cf.no_save);
    if (!cf.resume.empty()) {
      const store::Conversation c = find_conversation(history->db(), cf.resume);
      if (f.model.empty()) f.model = model_of(c);
      resumed = history->resume(c);
    } else {
      history->start_new();
    }
  }
  finalize_generation_flags(f);
  if (history) history->set_model(f.model_name, params_json(f));
  auto model = load_model(f);
  record_model_use(f.registry_id, std::nullopt);
  engine::ChatFormatter fmt(*model, f.chat_template);
  if (fmt.falls_back_to_chatml())  // the model may never have seen ChatML: say so, once
    std::cerr << "note: " << f.model_name
              << " has no chat template, so this chat uses ChatML (--chat-template names another)\n";
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
  if (tty) std::cerr << "rmm chat with " << f.model_name << ". /help for commands.\n";
  if (!resumed.empty()) {
    std::cout << "(resuming conversation " << history->id() << ", " << resumed.size() << " messages)\n";
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
          try {  // a file that cannot be written ends the command, not the chat
            save(arg, msgs);
            std::cout << "(saved " << msgs.size() << " messages to " << arg << ")\n";
          } catch (const Error& e) {
            std::cout << "(error: " << e.what() << ")\n";
          }
        }
      } else {
        std::cout << "unknown command " << cmd << "; /help lists them\n";
      }
      continue;
    }
    msgs.push_back({"user", line});
    const auto prompt = fmt.format(msgs);
    engine::GenerateRequest req = f.request;
    req.prompt = model->tokenize_prompt(prompt.text);
    req.stop = prompt.additional_stops;
    req.stop.insert(req.stop.end(), f.request.stop.begin(), f.request.stop.end());
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
  // A resumed conversation knows its model; the callback asks for one otherwise.
  cmd->get_option("MODEL")->required(false);
  auto* resume = cmd->add_option(
      "--resume", f->resume,
      "Continue a saved conversation: its id or a unique prefix (`rmm chats` lists them); MODEL defaults "
      "to the conversation's");
  if (auto* system = cmd->get_option_no_throw("--system")) resume->excludes(system);
  cmd->add_option("--database", f->database,
                  "Where conversations are saved: a SQLite file or a postgres:// URL (default: RMM_DATABASE, "
                  "[serve] database in config.toml, else $RMM_HOME/rmm.db)");
  cmd->add_flag("--no-save", f->no_save, "Do not save this conversation");
  cmd->callback([f, &action] {
    if (f->gen.model.empty() && f->resume.empty()) throw CLI::RequiredError("MODEL (or --resume ID)");
    action = [f] { return chat(*f); };
  });
}

namespace {

struct ChatsFlags {
  std::string database;
  int limit = 50;
  bool json = false;
};

int chats(const ChatsFlags& f) {
  const std::string location = chat_database(f.database);
  std::vector<store::Conversation> list;
  size_t total = 0;
  // Listing creates no database: a SQLite file that is not there holds no chats.
  std::error_code ec;
  const bool url = location.find("://") != std::string::npos;
  if (url || std::filesystem::exists(location, ec)) {
    const auto db = open_database(location);
    list = all_conversations(*db);
    total = list.size();
    if (list.size() > static_cast<size_t>(f.limit)) list.resize(static_cast<size_t>(f.limit));
  }
  if (f.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& c : list)
      out.push_back({{"id", c.id},
                     {"title", c.title},
                     {"model", c.model},
                     {"created_at", c.created_at},
                     {"updated_at", c.updated_at},
                     {"message_count", c.message_count}});
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (list.empty()) {
    std::cout << "no saved conversations (rmm chat MODEL saves one)\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows{{"ID", "TITLE", "MODEL", "UPDATED"}};
  for (const auto& c : list)
    rows.push_back({c.id.substr(0, kShortId), c.title.empty() ? "(untitled)" : c.title,
                    c.model.empty() ? "-" : c.model, format_time(c.updated_at, "%Y-%m-%d %H:%M")});
  write_table(std::cout, rows);
  if (total > list.size())
    std::cout << "(" << total - list.size() << " older ones not shown: --limit " << total << ")\n";
  return 0;
}

}  // namespace

void add_chats_command(CLI::App& app, Action& action) {
  auto f = std::make_shared<ChatsFlags>();
  auto* cmd = app.add_subcommand(
      "chats", "List saved conversations, newest first (continue one: rmm chat --resume ID)");
  cmd->add_option("--limit", f->limit, "How many to show")->check(CLI::Range(1, 1000000));
  cmd->add_flag("--json", f->json, "Print a JSON array (full ids, times in unix ms)");
  cmd->add_option("--database", f->database,
                  "Where conversations are saved: a SQLite file or a postgres:// URL (default: RMM_DATABASE, "
                  "[serve] database in config.toml, else $RMM_HOME/rmm.db)");
  cmd->callback([f, &action] { action = [f] { return chats(*f); }; });
}

}  // namespace rmm::cli
