// `rmm forge OUT.gguf`: writes a random-weight llama model of a chosen shape.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/units.hpp"
#include "forge/forge.hpp"
#include "forge/spec.hpp"

namespace rmm::cli {
namespace {

struct ForgeArgs {
  std::string out;
  std::string preset = "tiny";
  std::string type;
  uint64_t seed = 0;
  uint32_t layers = 0, embd = 0, heads = 0, kv_heads = 0, ffn = 0, ctx = 0;
  float rope_base = 0.0f, rms_eps = 0.0f;
  bool tie = false;
  std::string vocab, name;
  unsigned threads = 0;
  bool quiet = false;
  bool force = false;
  // Which overrides were given (CLI11 2.1 has no std::optional options).
  CLI::Option *o_type, *o_layers, *o_embd, *o_heads, *o_kv_heads, *o_ffn, *o_ctx, *o_rope, *o_eps, *o_tie,
      *o_vocab, *o_name;
};

std::string flag_name(forge::Field field) {
  switch (field) {
    case forge::Field::Layers: return "--layers";
    case forge::Field::Embd: return "--embd";
    case forge::Field::Heads: return "--heads";
    case forge::Field::KvHeads: return "--kv-heads";
    case forge::Field::Ffn: return "--ffn";
    case forge::Field::Ctx: return "--ctx";
    case forge::Field::RopeBase: return "--rope-base";
    case forge::Field::RmsEps: return "--rms-eps";
    case forge::Field::Name: return "--name";
    case forge::Field::Vocab: return "--vocab";
  }
  return "?";
}

std::string human_count(uint64_t n) {
  char buf[32];
  if (n >= 1000000000ull) {
    std::snprintf(buf, sizeof buf, "%.2f B", static_cast<double>(n) / 1e9);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f M", static_cast<double>(n) / 1e6);
  }
  return buf;
}

// Progress on stderr: one rewritten line on a terminal, a line per 10% otherwise.
class ProgressPrinter {
 public:
  ProgressPrinter() : tty_(::isatty(STDERR_FILENO) == 1) {}

  void operator()(const forge::Progress& p) {
    const int percent = p.total_bytes ? static_cast<int>(100 * p.bytes_written / p.total_bytes) : 100;
    const auto now = std::chrono::steady_clock::now();
    if (tty_) {
      if (now - last_ < std::chrono::milliseconds(100) && p.bytes_written != p.total_bytes) return;
      std::fprintf(stderr, "\rforge: %3d%% %s / %s, tensor %zu/%zu %-28s", percent,
                   format_bytes(p.bytes_written).c_str(), format_bytes(p.total_bytes).c_str(),
                   p.tensor_index + 1, p.n_tensors, p.tensor_name->c_str());
      if (p.bytes_written == p.total_bytes) std::fputc('\n', stderr);
    } else {
      if (percent / 10 == last_decile_) return;
      last_decile_ = percent / 10;
      std::fprintf(stderr, "forge: %3d%% %s / %s, tensor %zu/%zu %s\n", percent,
                   format_bytes(p.bytes_written).c_str(), format_bytes(p.total_bytes).c_str(),
                   p.tensor_index + 1, p.n_tensors, p.tensor_name->c_str());
    }
    std::fflush(stderr);
    last_ = now;
  }

 private:
  bool tty_;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point last_{};
};

forge::Spec make_spec(const ForgeArgs& a) {
  forge::Spec spec = forge::preset(a.preset);
  if (*a.o_type) spec.type = forge::parse_weight_type(a.type);
  spec.seed = a.seed;
  forge::Shape& s = spec.shape;
  if (*a.o_layers) s.n_layer = a.layers;
  if (*a.o_embd) s.n_embd = a.embd;
  if (*a.o_heads) s.n_head = a.heads;
  if (*a.o_kv_heads) {
    s.n_head_kv = a.kv_heads;
  } else if (*a.o_heads && s.n_head_kv > s.n_head) {
    s.n_head_kv = s.n_head;  // fewer heads than the preset's KV heads: plain multi-head attention
  }
  if (*a.o_ffn) s.n_ff = a.ffn;
  if (*a.o_ctx) s.n_ctx = a.ctx;
  if (*a.o_rope) s.rope_freq_base = a.rope_base;
  if (*a.o_eps) s.rms_eps = a.rms_eps;
  if (*a.o_tie) s.tie_embeddings = a.tie;
  if (*a.o_vocab) spec.vocab = a.vocab;
  if (*a.o_name) spec.name = a.name;
  forge::validate(spec, flag_name);
  return spec;
}

int run_forge(const ForgeArgs& args) {
  const forge::Spec spec = make_spec(args);
  // A mistyped OUT must not silently replace a model (forging a large one takes minutes).
  std::error_code ec;
  if (!args.force && std::filesystem::exists(args.out, ec))
    throw Error(ErrorKind::BadFile, args.out + " already exists; pass --force to overwrite it");
  forge::ForgeOptions options;
  options.threads = args.threads;
  ProgressPrinter printer;
  if (!args.quiet) options.progress = [&printer](const forge::Progress& p) { printer(p); };
  const auto start = std::chrono::steady_clock::now();
  const forge::ForgeResult r = forge::forge(spec, args.out, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const forge::Shape& s = spec.shape;
  char line[512];
  std::snprintf(line, sizeof line,
                "%s: %s, %s, %s params, %zu tensors, %u layers, embd %u, heads %u/%u, ffn %u, ctx %u, "
                "vocab %u tokens from %s, seed %llu (%.1f s)",
                args.out.c_str(), format_bytes(r.file_size).c_str(), forge::weight_type_name(spec.type),
                human_count(r.n_params).c_str(), r.n_tensors, s.n_layer, s.n_embd, s.n_head, s.n_head_kv,
                s.n_ff, s.n_ctx, r.n_vocab, r.vocab_file.filename().c_str(),
                static_cast<unsigned long long>(spec.seed), seconds);
  std::cout << line << "\n";
  return 0;
}

// The presets' shapes, for --help: the shape flags start from these.
std::string presets_footer() {
  std::string text = "Presets (shape flags override them):";
  for (const auto& name : forge::preset_names()) {
    const forge::Spec p = forge::preset(name);
    const forge::Shape& s = p.shape;
    char line[256];
    std::snprintf(line, sizeof line,
                  "\n  %-5s %u layers, embd %u, heads %u, kv-heads %u, ffn %u, ctx %u, rope-base %g, vocab "
                  "%s%s, type %s",
                  name.c_str(), s.n_layer, s.n_embd, s.n_head, s.n_head_kv, s.n_ff, s.n_ctx,
                  static_cast<double>(s.rope_freq_base), p.vocab.c_str(), s.tie_embeddings ? " (tied)" : "",
                  forge::weight_type_name(p.type));
    text += line;
  }
  return text;
}

}  // namespace

void add_forge_command(CLI::App& app, Action& action) {
  CLI::App* sub = app.add_subcommand(
      "forge",
      "Write a llama model with seeded random weights and a real tokenizer (for tests and benchmarks)");
  sub->footer(presets_footer());
  auto a = std::make_shared<ForgeArgs>();
  sub->add_option("OUT", a->out, "Output GGUF file")->required();
  sub->add_option("--preset", a->preset,
                  "Shape to start from: tiny (a few MB), 1b (Llama-3.2-1B), 8b (Llama-3-8B)")
      ->check(CLI::IsMember(forge::preset_names()))
      ->capture_default_str();
  a->o_type =
      sub->add_option("--type", a->type,
                      "Weight type: f32, f16, q8_0, q4_k (Q4_K_M mix); default q8_0 for tiny, q4_k otherwise")
          ->check(CLI::IsMember({"f32", "f16", "q8_0", "q4_k"}, CLI::ignore_case));
  sub->add_option("--seed", a->seed, "Random seed; the same seed, shape and type give the same bytes")
      ->capture_default_str();
  a->o_layers =
      sub->add_option("--layers", a->layers, "Number of blocks")->check(CLI::Range(1u, forge::kMaxLayers));
  a->o_embd = sub->add_option("--embd", a->embd, "Embedding size")->check(CLI::Range(1u, forge::kMaxEmbd));
  a->o_heads =
      sub->add_option("--heads", a->heads, "Attention heads")->check(CLI::Range(1u, forge::kMaxHeads));
  a->o_kv_heads = sub->add_option("--kv-heads", a->kv_heads, "Key/value heads (must divide --heads)")
                      ->check(CLI::Range(1u, forge::kMaxHeads));
  a->o_ffn = sub->add_option("--ffn", a->ffn, "Feed-forward size")->check(CLI::Range(1u, forge::kMaxFfn));
  a->o_ctx = sub->add_option("--ctx", a->ctx, "Context length the model claims")
                 ->check(CLI::Range(1u, forge::kMaxCtx));
  a->o_rope = sub->add_option("--rope-base", a->rope_base, "RoPE frequency base");
  a->o_eps = sub->add_option("--rms-eps", a->rms_eps, "RMS norm epsilon");
  a->o_tie = sub->add_flag("--tie-embeddings,!--no-tie-embeddings", a->tie,
                           "Reuse token_embd as the output head (no output.weight)");
  a->o_vocab =
      sub->add_option("--vocab", a->vocab,
                      "Tokenizer: a NAME of llama.cpp's models/ggml-vocab-NAME.gguf (llama-spm, llama-bpe, "
                      "qwen2, ...; folder from $RMM_VOCAB_DIR) or any GGUF file");
  a->o_name = sub->add_option("--name", a->name, "general.name to write");
  sub->add_option("--threads", a->threads, "Worker threads (default: all cores)")
      ->check(CLI::Range(1u, 1024u));
  sub->add_flag("--quiet,-q", a->quiet, "No progress on stderr");
  sub->add_flag("--force", a->force, "Overwrite OUT if it exists");
  sub->callback([&action, a] { action = [a] { return run_forge(*a); }; });
}

}  // namespace rmm::cli
