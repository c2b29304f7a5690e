#include "cli/generation_flags.hpp"

#include <unistd.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/model_registry.hpp"
#include "core/error.hpp"

namespace rmm::cli {
namespace {

std::string read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::InvalidArgument, std::string(what) + " file '" + path + "' cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

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

  const char* ctx = "Model and context";
  cmd->add_option("-c,--ctx-size", f.context.n_ctx, "Context size in tokens (0: the model's, at most 4096)")
      ->group(ctx)
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--gpu-layers,--n-gpu-layers", f.load.gpu_layers,
                  "Layers to offload to the GPU (-ngl; -1: all)")
      ->group(ctx)
      ->check(CLI::Range(-1, 100000));
  cmd->add_option("-t,--threads", f.context.n_threads, "CPU threads (0: all)")
      ->group(ctx)
      ->check(CLI::Range(0, 1024));
  cmd->add_option("-b,--batch-size", f.context.n_batch, "Logical batch size")
      ->group(ctx)
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--ubatch-size", f.context.n_ubatch, "Physical batch size (-ub)")
      ->group(ctx)
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--flash-attn", f.flash_attn, "Flash attention (-fa): on, off or auto")
      ->group(ctx)
      ->check(CLI::IsMember({"on", "off", "auto"}));
  cmd->add_flag("--no-mmap", f.no_mmap, "Read the model into memory instead of mapping it")->group(ctx);

  const char* smp = "Sampling";
  auto& s = f.sampling;
  cmd->add_option("--temp", s.temperature, "Temperature (0: greedy)")
      ->group(smp)
      ->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--top-k", s.top_k, "Top-k (0: off)")->group(smp)->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-p", s.top_p, "Top-p (1: off)")->group(smp)->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--min-p", s.min_p, "Min-p (0: off)")->group(smp)->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--typical", s.typical_p, "Typical-p (1: off)")->group(smp)->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--repeat-penalty", s.repeat_penalty, "Repeat penalty (1: off)")
      ->group(smp)
      ->check(CLI::Range(0.0, 10.0));
  cmd->add_option("--repeat-last-n", s.repeat_last_n, "Tokens the penalties look back over (-1: context)")
      ->group(smp)
      ->check(CLI::Range(-1, 1 << 20));
  cmd->add_option("--presence-penalty", s.presence_penalty, "Presence penalty")
      ->group(smp)
      ->check(CLI::Range(-2.0, 2.0));
  cmd->add_option("--frequency-penalty", s.frequency_penalty, "Frequency penalty")
      ->group(smp)
      ->check(CLI::Range(-2.0, 2.0));
  cmd->add_option("-s,--seed", s.seed, "Random seed (-1: random)")
      ->group(smp)
      ->check(CLI::Range(-1LL, 4294967295LL));
  cmd->add_option("-n,--max-tokens,--n-predict", f.max_tokens, "Tokens to generate (-1: until the end)")
      ->group(smp)
      ->check(CLI::Range(-1, 1 << 30));
  cmd->add_option("--stop,-r,--reverse-prompt", f.stop, "Stop when this text is generated (repeatable)")
      ->group(smp);
  cmd->add_option("-l,--logit-bias", f.logit_bias,
                  "Bias a token: TOKEN+BIAS, TOKEN-BIAS, TOKEN-inf (repeatable)")
      ->group(smp);
  cmd->add_option("--grammar", s.grammar, "GBNF grammar constraining the output")->group(smp);
  cmd->add_option("--grammar-file", f.grammar_file, "File with a GBNF grammar")->group(smp);
  cmd->add_option("-j,--json-schema", s.json_schema, "JSON Schema the output must match")->group(smp);
  cmd->add_option("--json-schema-file", f.json_schema_file, "File with a JSON Schema")->group(smp);
  cmd->add_flag("--ignore-eos", f.ignore_eos, "Keep generating past the end-of-generation token")->group(smp);

  const char* fmt = "Prompt format";
  cmd->add_option("--chat-template", f.chat_template,
                  "Named chat template (chatml, llama3, ...) or Jinja source")
      ->group(fmt);
  cmd->add_option("--system", f.system, "System message (chat templates only)")->group(fmt);
  cmd->add_flag("--raw", f.raw, "Continue the prompt as plain text, without the chat template")->group(fmt);
  cmd->add_flag("-v,--verbose", f.verbose, "Print loading progress and timings to stderr");
}

void finalize_generation_flags(GenerationFlags& f) {
  if (!f.grammar_file.empty()) f.sampling.grammar = read_file(f.grammar_file, "--grammar-file");
  if (!f.json_schema_file.empty())
    f.sampling.json_schema = read_file(f.json_schema_file, "--json-schema-file");
  if (!f.sampling.json_schema.empty()) engine::json_schema_to_gbnf(f.sampling.json_schema);  // fail early
  for (const auto& lb : f.logit_bias) {
    auto [token, bias] = parse_logit_bias(lb);
    // llama.cpp treats +inf as "always", which makes no sense as a bias; only -inf bans.
    if (std::isinf(bias) && bias > 0)
      throw Error(ErrorKind::InvalidArgument, "--logit-bias '" + lb + "': only -inf is allowed");
    f.sampling.logit_bias.emplace_back(token, bias);
  }
  f.context.flash_attn = f.flash_attn == "on" ? 1 : f.flash_attn == "off" ? 0 : -1;
  const ResolvedModel resolved = resolve_model_argument(f.model);
  f.load.path = resolved.path;
  f.registry_id = resolved.registry_id;
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

std::vector<std::string> normalize_llama_style_flags(int argc, char** argv) {
  static const std::pair<const char*, const char*> aliases[] = {{"-ngl", "--gpu-layers"},
                                                                {"-ub", "--ubatch-size"},
                                                                {"-fa", "--flash-attn"},
                                                                {"-np", "--parallel"},
                                                                {"-m", "--model"}};
  std::vector<std::string> out;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    for (const auto& [from, to] : aliases) {
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
