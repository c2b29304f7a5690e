// Every parameter of the table (engine/parameters.hpp) reaches every front end
// and survives each trip: /v1 bodies, the WebSocket's params, template
// parameters blocks, CLI flags, the worker wire, the cache key and stored
// history. A front end that misses a new table entry fails here.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cache/cache_key.hpp"
#include "cli/parameter_flags.hpp"
#include "codec/parameters_json.hpp"
#include "engine/parameters.hpp"
#include "prompts/render.hpp"
#include "prompts/template.hpp"
#include "server/api_error.hpp"
#include "server/chat_recording.hpp"
#include "server/openai/request.hpp"
#include "server/ws/commands.hpp"
#include "worker/wire.hpp"

namespace rmm {
namespace {

using json = nlohmann::json;
using engine::GenerateRequest;
using engine::ParamKind;
using engine::ParamSpec;

constexpr int kVocab = 1000;

// A value for `p` that is neither rmm's default nor OpenAI's, inside its range.
json non_default(const ParamSpec& p) {
  switch (p.kind) {
    case ParamKind::Boolean: return true;
    case ParamKind::Strings: return json::array({"alpha", "beta"});
    case ParamKind::Integer: return static_cast<int64_t>(p.min + std::floor((p.max - p.min) * 0.3));
    case ParamKind::Number: break;
  }
  return p.min + (p.max - p.min) * 0.3;
}

// A value just outside the range (nullptr for kinds without one).
json out_of_range(const ParamSpec& p) {
  switch (p.kind) {
    case ParamKind::Integer: return static_cast<int64_t>(p.max) + 1;
    case ParamKind::Number: return p.max + 1;
    case ParamKind::Strings: return std::vector<std::string>(static_cast<size_t>(p.max) + 1, "x");
    case ParamKind::Boolean: return 1;  // wrong type
  }
  return nullptr;
}

// `r` with one parameter set to `v`, as the table sets it.
GenerateRequest with(const ParamSpec& p, const json& v, GenerateRequest r = {}) {
  if (p.kind == ParamKind::Strings) {
    visit_member(p, r, [&](auto& m) {
      if constexpr (std::is_same_v<std::decay_t<decltype(m)>, std::vector<std::string>>)
        m = v.get<std::vector<std::string>>();
    });
  } else {
    engine::set_scalar(p, r, v.is_boolean() ? (v.get<bool>() ? 1 : 0) : v.get<double>());
  }
  return r;
}

// Compares one parameter of two requests in its JSON form (floats exactly).
void expect_same(const ParamSpec& p, const GenerateRequest& got, const GenerateRequest& want,
                 const char* path) {
  if (p.kind == ParamKind::Number)
    EXPECT_EQ(static_cast<float>(engine::scalar_value(p, got)),
              static_cast<float>(engine::scalar_value(p, want)))
        << p.name << " via " << path;
  else
    EXPECT_EQ(codec::parameter_json(p, got), codec::parameter_json(p, want)) << p.name << " via " << path;
}

json v1_body(const std::string& name, const json& v) { return {{"model", "m"}, {"prompt", "x"}, {name, v}}; }

json ws_message(const std::string& name, const json& v) {
  return {{"type", "generate"}, {"id", "a"}, {"prompt", "x"}, {"params", {{name, v}}}};
}

json template_with(const std::string& name, const json& v) {
  return {{"id", "t"},
          {"name", "T"},
          {"blocks", {{{"type", "user"}, {"text", "Hello"}}, {{"type", "parameters"}, {name, v}}}}};
}

// The flags that set `v` for `p` on a command line.
std::vector<std::string> flag_args(const ParamSpec& p, const json& v) {
  const std::string flags = p.flags;
  std::string flag;
  for (size_t at = 0; at != std::string::npos;) {
    const size_t comma = flags.find(',', at);
    const std::string f = flags.substr(at, comma == std::string::npos ? comma : comma - at);
    if (f.rfind("--", 0) == 0 && flag.empty()) flag = f;
    at = comma == std::string::npos ? comma : comma + 1;
  }
  std::vector<std::string> args;
  if (p.kind == ParamKind::Boolean) return {flag};
  if (p.kind == ParamKind::Strings) {
    for (const auto& s : v) args.insert(args.end(), {flag, s.get<std::string>()});
    return args;
  }
  return {flag, p.kind == ParamKind::Integer ? std::to_string(v.get<int64_t>()) : v.dump()};
}

GenerateRequest parse_flags(const std::vector<std::string>& args) {
  GenerateRequest r;
  CLI::App app;
  cli::add_parameter_flags(&app, r, "Sampling");
  std::vector<const char*> argv{"rmm"};
  for (const auto& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
  cli::check_parameter_flags(r);
  return r;
}

GenerateRequest wire_trip(const GenerateRequest& r) {
  const std::string frame = worker::encode_submit(7, r);
  worker::FrameReader fr;
  fr.feed(frame.data(), frame.size());
  worker::MsgType type;
  std::string payload;
  EXPECT_TRUE(fr.next(type, payload));
  worker::Reader reader(payload);
  EXPECT_EQ(reader.u64(), 7u);
  GenerateRequest back = worker::decode_request(reader);
  reader.end();
  return back;
}

}  // namespace

TEST(Parameters, TableIsWellFormed) {
  ASSERT_FALSE(engine::parameters().empty());
  for (const auto& p : engine::parameters()) {
    EXPECT_EQ(engine::find_parameter(p.name), &p);
    EXPECT_NE(std::string(p.flags).find("--"), std::string::npos) << p.name << " has no long flag";
    EXPECT_LE(p.min, p.max) << p.name;
    // The defaults are allowed values.
    const GenerateRequest d = engine::engine_defaults(), o = engine::openai_defaults();
    if (p.kind == ParamKind::Number || p.kind == ParamKind::Integer) {
      EXPECT_EQ(engine::range_problem(p, engine::scalar_value(p, d)), "") << p.name;
      EXPECT_EQ(engine::range_problem(p, engine::scalar_value(p, o)), "") << p.name;
    }
  }
  EXPECT_EQ(engine::find_parameter("nope"), nullptr);
}

TEST(Parameters, EveryParameterReachesEveryFrontEnd) {
  for (const auto& p : engine::parameters()) {
    const json v = non_default(p);
    const GenerateRequest want = with(p, v);
    SCOPED_TRACE(std::string(p.name) + " = " + v.dump());
    // Not a default anywhere, or the trips below would prove nothing.
    EXPECT_NE(codec::parameter_json(p, want), codec::parameter_json(p, engine::engine_defaults()));
    EXPECT_NE(codec::parameter_json(p, want), codec::parameter_json(p, engine::openai_defaults()));
    EXPECT_NO_THROW(engine::check_sampling_parameters(want.sampling));

    // /v1
    const auto v1 = server::openai::parse_common(v1_body(p.name, v), kVocab);
    expect_same(p, v1.generate, want, "/v1");
    // The WebSocket
    const auto ws =
        std::get<server::ws::GenerateCommand>(server::ws::parse_command(ws_message(p.name, v).dump()));
    expect_same(p, ws.request, want, "the WebSocket");
    // A template's parameters block, then the /v1 body a run builds from it
    const auto t = prompts::parse_template(template_with(p.name, v));
    const json body = prompts::chat_request(prompts::render(t, json::object()));
    expect_same(p, server::openai::parse_common(body, kVocab).generate, want, "a template");
    // CLI flags
    expect_same(p, parse_flags(flag_args(p, v)), want, "CLI flags");
    // The worker wire
    expect_same(p, wire_trip(want), want, "the worker wire");
    // The cache key
    const cache::KeyContext ctx{"ab", 512};
    GenerateRequest base;
    base.prompt = {1, 2};
    GenerateRequest changed = with(p, v, base);
    EXPECT_NE(cache::cache_key(ctx, changed), cache::cache_key(ctx, base))
        << p.name << " is not in the cache key";
    // Stored history: /v1's recorded params and the CLI chat's (codec::parameters_json), read back
    const json recorded = json::parse(server::recorded_params(v1_body(p.name, v)));
    ASSERT_TRUE(recorded.contains(p.name)) << recorded.dump();
    GenerateRequest back = engine::openai_defaults();
    codec::read_parameters(recorded, back);
    expect_same(p, back, want, "/v1 history");
    GenerateRequest back_cli;
    codec::read_parameters(codec::parameters_json(want), back_cli);
    expect_same(p, back_cli, want, "CLI chat history");
  }
}

TEST(Parameters, EveryFrontEndRefusesWhatTheTableRefuses) {
  for (const auto& p : engine::parameters()) {
    const json bad = out_of_range(p);
    SCOPED_TRACE(std::string(p.name) + " = " + bad.dump());
    std::string message;
    try {
      GenerateRequest r;
      codec::read_parameter(p, bad, r, p.name);
      FAIL() << "accepted";
    } catch (const codec::ParameterError& e) {
      message = e.what();
      EXPECT_EQ(e.parameter(), p.name);
    }
    // /v1: a 400 naming the field, in the table's words
    try {
      server::openai::parse_common(v1_body(p.name, bad), kVocab);
      ADD_FAILURE() << "/v1 accepted it";
    } catch (const server::ApiError& e) {
      EXPECT_EQ(e.param, p.name);
      EXPECT_EQ(std::string(e.what()), message);
    }
    // The WebSocket: the same words, with its params. prefix
    try {
      server::ws::parse_command(ws_message(p.name, bad).dump());
      ADD_FAILURE() << "the WebSocket accepted it";
    } catch (const server::ws::ProtocolError& e) {
      EXPECT_EQ(std::string(e.what()), "'params." + message.substr(1));
    }
    // Templates: the block's field
    try {
      prompts::parse_template(template_with(p.name, bad));
      ADD_FAILURE() << "a template accepted it";
    } catch (const prompts::TemplateError& e) {
      EXPECT_EQ(e.field(), "blocks[1]." + std::string(p.name));
    }
    // CLI flags (a boolean flag takes no value: nothing to refuse)
    if (p.kind == ParamKind::Boolean) continue;
    EXPECT_ANY_THROW(parse_flags(flag_args(p, bad)));
    // The engine, for its own members
    if (p.kind != ParamKind::Strings && p.member.index() <= 2) {
      GenerateRequest r;
      engine::set_scalar(p, r, bad.get<double>());
      EXPECT_THROW(engine::check_sampling_parameters(r.sampling), Error);
    }
  }
}

TEST(Parameters, FrontEndsKeepTheirDefaults) {
  // /v1: OpenAI's temperature 1, top_p 1, no top-k or min-p; the WebSocket: rmm run's.
  const auto v1 = server::openai::parse_common({{"prompt", "x"}}, kVocab).generate.sampling;
  EXPECT_EQ(v1.temperature, 1.0f);
  EXPECT_EQ(v1.top_p, 1.0f);
  EXPECT_EQ(v1.top_k, 0);
  EXPECT_EQ(v1.min_p, 0.0f);
  const auto ws = std::get<server::ws::GenerateCommand>(
      server::ws::parse_command(R"({"type":"generate","id":"a","prompt":"x"})"));
  EXPECT_EQ(ws.request.sampling.temperature, engine::SamplingParams{}.temperature);
  EXPECT_EQ(ws.request.sampling.top_k, engine::SamplingParams{}.top_k);
  // null is the default too.
  const auto n = server::openai::parse_common({{"prompt", "x"}, {"temperature", nullptr}}, kVocab);
  EXPECT_EQ(n.generate.sampling.temperature, 1.0f);
}

// The disagreements of the copies before the table, each settled one way.
TEST(Parameters, SettledDisagreements) {
  auto v1 = [](json patch) {
    json body = {{"prompt", "x"}};
    body.update(patch);
    return server::openai::parse_common(body, kVocab).generate;
  };
  // temperature: 0..100 everywhere (was 0..2 in /v1 and templates)
  EXPECT_EQ(v1({{"temperature", 5}}).sampling.temperature, 5.0f);
  EXPECT_NO_THROW(prompts::parse_template(template_with("temperature", 5)));
  // top_p 0 (the top token only) is allowed everywhere (the WebSocket and the engine refused it)
  EXPECT_EQ(v1({{"top_p", 0}}).sampling.top_p, 0.0f);
  EXPECT_NO_THROW(server::ws::parse_command(ws_message("top_p", 0).dump()));
  EXPECT_NO_THROW(engine::check_sampling_parameters(v1({{"top_p", 0}}).sampling));
  // stop: at most 4 strings everywhere (the WebSocket took 16, the CLI any number)
  EXPECT_THROW(server::ws::parse_command(ws_message("stop", {"a", "b", "c", "d", "e"}).dump()),
               server::ws::ProtocolError);
  EXPECT_THROW(parse_flags({"--stop", "a", "--stop", "b", "--stop", "c", "--stop", "d", "--stop", "e"}),
               Error);
  // max_tokens: -1 (no limit) to 2^30 everywhere (/v1 refused -1, templates 0 and -1)
  EXPECT_EQ(v1({{"max_tokens", -1}}).max_tokens, -1);
  EXPECT_NO_THROW(prompts::parse_template(template_with("max_tokens", 0)));
  // seed: -1..4294967295 everywhere (/v1 wrapped larger seeds, templates took any int64)
  EXPECT_THROW(v1({{"seed", 4294967296LL}}), server::ApiError);
  EXPECT_THROW(prompts::parse_template(template_with("seed", 4294967296LL)), prompts::TemplateError);
  // top_k up to 2147483647 everywhere (/v1 stopped at 2^20)
  EXPECT_EQ(v1({{"top_k", 2000000}}).sampling.top_k, 2000000);
  // every table parameter is in every front end: typical_p and repeat_last_n in /v1, the WebSocket and
  // templates, ignore_eos on the WebSocket and in templates
  EXPECT_EQ(v1({{"typical_p", 0.5}}).sampling.typical_p, 0.5f);
  EXPECT_TRUE(
      std::get<server::ws::GenerateCommand>(server::ws::parse_command(ws_message("ignore_eos", true).dump()))
          .request.ignore_eos);
  // whole numbers written as floats are integers everywhere (templates refused 12.0)
  EXPECT_NO_THROW(prompts::parse_template(template_with("max_tokens", 12.0)));
  // repeat_penalty: 0.01..10 everywhere (the CLI took 0, which the engine then refused)
  EXPECT_ANY_THROW(parse_flags({"--repeat-penalty", "0"}));
}

}  // namespace rmm

namespace rmm {

// continue_from (the answer so far as token ids) reads the same on /v1 and the
// WebSocket, crosses the worker wire and is part of the cache key.
TEST(Parameters, ContinueFromReachesEveryFrontEnd) {
  const json cf = {{"tokens", {5, 0, kVocab - 1}}};
  const std::vector<engine::Token> want{5, 0, kVocab - 1};
  EXPECT_EQ(server::openai::parse_common(v1_body("continue_from", cf), kVocab).generate.continue_from, want);
  json ws = ws_message("temperature", 0);
  ws["continue_from"] = cf;
  const auto cmd = std::get<server::ws::GenerateCommand>(server::ws::parse_command(ws.dump()));
  EXPECT_EQ(cmd.request.continue_from, want);
  GenerateRequest r;
  r.continue_from = want;
  EXPECT_EQ(wire_trip(r).continue_from, want);
  cache::KeyContext kc;
  EXPECT_NE(cache::cache_key(kc, r), cache::cache_key(kc, GenerateRequest{}));

  // Refusals name the index (and, where the model is known, the vocabulary).
  for (const auto& [bad, words] : std::vector<std::pair<json, std::vector<std::string>>>{
           {{{"tokens", {1, kVocab}}}, {"continue_from.tokens[1]", std::to_string(kVocab) + " tokens"}},
           {{{"tokens", {1, -3}}}, {"continue_from.tokens[1]"}},
           {{{"tokens", {"a"}}}, {"continue_from.tokens[0]", "whole number"}},
           {{{"tokens", 5}}, {"continue_from.tokens"}},
           {json::array({1, 2}), {"continue_from"}},
           {{{"tokens", {1}}, {"text", "x"}}, {"unknown field 'text'"}}}) {
    SCOPED_TRACE(bad.dump());
    try {
      server::openai::parse_common(v1_body("continue_from", bad), kVocab);
      ADD_FAILURE() << "/v1 accepted it";
    } catch (const server::ApiError& e) {
      for (const auto& w : words) EXPECT_NE(std::string(e.what()).find(w), std::string::npos) << e.what();
      EXPECT_EQ(e.param.rfind("continue_from", 0), 0u) << e.param;
    }
    ws["continue_from"] = bad;
    const bool vocab_only = bad.is_object() && bad.contains("tokens") && bad["tokens"].is_array() &&
                            bad["tokens"].size() == 2 && bad["tokens"][1] == kVocab;
    if (vocab_only) {
      EXPECT_NO_THROW(server::ws::parse_command(ws.dump())) << "the engine checks the vocabulary";
      continue;
    }
    EXPECT_THROW(server::ws::parse_command(ws.dump()), server::ws::ProtocolError);
  }
}

}  // namespace rmm
