#include "cli/generation_flags.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "cli/chat_template_flag.hpp"
#include "cli/flag_file.hpp"
#include "cli/model_registry.hpp"
#include "core/error.hpp"
#include "engine/chat_format.hpp"

namespace rmm::cli {
namespace {

std::pair<engine::Token, float> parse_logit_bias(const std::string& s) {
  const size_t sign = s.find_first_of("+-", 1);
  const auto bad = [&] {
    return Error(
        ErrorKind::InvalidArgument,
        "--logit-bias '" + s + "' must look like TOKEN+BIAS, TOKEN-BIAS or TOKEN-inf (e.g. 15043+1.5)");
  };
  if (sign == std::string::npos) throw bad();
  try {
    size_t used = 0;
    const long token = std::stol(s.substr(0, sign), &used);
    if (used != sign || token < 0 || token > INT32_MAX) throw bad();
    const std::string value = s.substr(sign + 1);
    float bias = 0.0f;
    if (value == "inf") {
      bias = INFINITY;
    } else {
      bias = std::stof(value, &used);
      if (used != value.size()) throw bad();
    }
    return {static_cast<engine::Token>(token), s[sign] == '-' ? -bias : bias};
  } catch (const std::logic_error&) {
    throw bad();
  }
}

}  // namespace

void add_generation_flags(CLI::App* cmd, GenerationFlags& f) {
  cmd->add_option("MODEL", f.model, "A .gguf file, or a model name, alias or file name from `rmm models`")
      ->required();

  // Defaults in the help come from the structs, so that they cannot drift.
  const auto dflt = [](auto v) { return "; default " + shown(static_cast<double>(v)) + ")"; };
  const char* ctx = "Model and context";
  cmd->add_option("-c,--ctx-size", f.context.n_ctx,
                  "Context size in tokens (0: the model's, at most 4096" + dflt(f.context.n_ctx))
      ->group(ctx)
      ->check(whole_number_in(0, 1 << 24));
  cmd->add_option("--gpu-layers,--n-gpu-layers", f.load.gpu_layers,
                  "Layers to offload to the GPU (-1: all" + dflt(f.load.gpu_layers))
      ->group(ctx)
      ->check(whole_number_in(-1, 100000));
  cmd->add_option("-t,--threads", f.context.n_threads, "CPU threads (0: all" + dflt(f.context.n_threads))
      ->group(ctx)
      ->check(whole_number_in(0, 1024));
  cmd->add_option("-b,--batch-size", f.context.n_batch,
                  "Logical batch size (tokens per decode call" + dflt(f.context.n_batch))
      ->group(ctx)
      ->check(whole_number_in(1, 1 << 20));
  cmd->add_option("--ubatch-size", f.context.n_ubatch,
                  "Physical batch size (tokens per compute graph" + dflt(f.context.n_ubatch))
      ->group(ctx)
      ->check(whole_number_in(1, 1 << 20));
  cmd->add_option("--flash-attn", f.flash_attn,
                  "Flash attention: on, off or auto (default " + f.flash_attn + ")")
      ->group(ctx)
      ->check(CLI::IsMember({"on", "off", "auto"}));
  cmd->add_flag("--no-mmap", f.no_mmap, "Read the model into memory instead of mapping it")->group(ctx);

  const char* smp = "Sampling";
  add_parameter_flags(cmd, f.request, smp);
  auto& s = f.request.sampling;
  cmd->add_option("-l,--logit-bias", f.logit_bias,
                  "Bias a token: TOKEN+BIAS, TOKEN-BIAS, TOKEN-inf (repeatable)")
      ->group(smp);
  cmd->add_option("--grammar", s.grammar, "GBNF grammar constraining the output")->group(smp);
  cmd->add_option("--grammar-file", f.grammar_file, "File with a GBNF grammar")->group(smp);
  cmd->add_option("-j,--json-schema", s.json_schema, "JSON Schema the output must match")->group(smp);
  cmd->add_option("--json-schema-file", f.json_schema_file, "File with a JSON Schema")->group(smp);

  const char* fmt = "Prompt format";
  cmd->add_option("--chat-template", f.chat_template,
                  "Named chat template (chatml, llama3, ...), Jinja source, or a file of Jinja source")
      ->group(fmt);
  cmd->add_option("--system", f.system, "System message (chat templates only)")->group(fmt);
  cmd->add_flag("--raw", f.raw, "Continue the prompt as plain text, without the chat template")->group(fmt);
  cmd->add_flag("-v,--verbose", f.verbose, "Print loading progress and timings to stderr");
}

void finalize_generation_flags(GenerationFlags& f) {
  f.chat_template = chat_template_argument(f.chat_template);
  check_parameter_flags(f.request);
  auto& s = f.request.sampling;
  if (!f.grammar_file.empty()) s.grammar = read_flag_file(f.grammar_file, "--grammar-file");
  if (!f.json_schema_file.empty()) s.json_schema = read_flag_file(f.json_schema_file, "--json-schema-file");
  if (!s.json_schema.empty()) engine::json_schema_to_gbnf(s.json_schema);  // fail early
  for (const auto& lb : f.logit_bias) {
    auto [token, bias] = parse_logit_bias(lb);
    // llama.cpp treats +inf as "always", which makes no sense as a bias; only -inf bans.
    if (std::isinf(bias) && bias > 0)
      throw Error(ErrorKind::InvalidArgument, "--logit-bias '" + lb + "': only -inf is allowed");
    s.logit_bias.emplace_back(token, bias);
  }
  f.context.flash_attn = f.flash_attn == "on" ? 1 : f.flash_attn == "off" ? 0 : -1;
  const ResolvedModel resolved = resolve_model_argument(f.model);
  f.load.path = resolved.path;
  f.registry_id = resolved.registry_id;
  f.model_name = resolved.name;
  f.load.mmap = !f.no_mmap;
}

std::shared_ptr<engine::Model> load_model(const GenerationFlags& f) {
  engine::LoadParams lp = f.load;
  // A progress line only makes sense on a terminal; logs and pipes get the result line.
  const bool tty = f.verbose && isatty(STDERR_FILENO);
  if (tty) {
    lp.progress = [last = -1](float p) mutable {
      const int pct = static_cast<int>(p * 100);
      if (pct != last) std::cerr << "\rloading " << pct << "%" << std::flush;
      last = pct;
      return true;
    };
  }
  auto model = engine::Model::load(lp);
  if (tty) std::cerr << "\r\033[K";
  if (f.verbose) std::cerr << "loaded " << f.model << " (" << model->description() << ")\n";
  return model;
}

namespace {

// llama.cpp's spelling and the long option it stands for; one table for parsing and help.
constexpr std::pair<const char*, const char*> kLlamaStyleFlags[] = {{"-ngl", "--gpu-layers"},
                                                                    {"-ub", "--ubatch-size"},
                                                                    {"-fa", "--flash-attn"},
                                                                    {"-np", "--parallel"},
                                                                    {"-m", "--model"}};

class LlamaStyleFormatter : public CLI::Formatter {
 public:
  std::string make_option_name(const CLI::Option* opt, bool is_positional) const override {
    std::string name = CLI::Formatter::make_option_name(opt, is_positional);
    if (is_positional) return name;
    for (const auto& [from, to] : kLlamaStyleFlags) {
      const std::string short_name = std::string(from).substr(1);
      if (opt->check_lname(std::string(to).substr(2)) && !opt->check_sname(short_name))
        name = std::string(from) + "," + name;
    }
    return name;
  }
};

}  // namespace

std::shared_ptr<CLI::Formatter> llama_style_help_formatter() {
  return std::make_shared<LlamaStyleFormatter>();
}

std::vector<std::string> normalize_llama_style_flags(int argc, char** argv) {
  std::vector<std::string> out;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    for (const auto& [from, to] : kLlamaStyleFlags) {
      const std::string f = from;
      if (a == f)
        a = to;
      else if (a.rfind(f + "=", 0) == 0)
        a = std::string(to) + a.substr(f.size());
    }
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace rmm::cli
