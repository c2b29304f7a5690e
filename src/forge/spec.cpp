#include "forge/spec.hpp"

#include <llama.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/error.hpp"

namespace rmm::forge {
namespace {

[[noreturn]] void bad(const std::string& message) { throw Error(ErrorKind::InvalidArgument, message); }

void check_range(uint32_t value, uint32_t max, Field field, const FieldNamer& namer) {
  if (value == 0 || value > max) {
    bad(namer(field) + " must be between 1 and " + std::to_string(max) + ", got " + std::to_string(value));
  }
}

}  // namespace

std::string default_field_name(Field field) {
  switch (field) {
    case Field::Layers: return "n_layer";
    case Field::Embd: return "n_embd";
    case Field::Heads: return "n_head";
    case Field::KvHeads: return "n_head_kv";
    case Field::Ffn: return "n_ff";
    case Field::Ctx: return "n_ctx";
    case Field::RopeBase: return "rope_freq_base";
    case Field::RmsEps: return "rms_eps";
    case Field::Name: return "name";
    case Field::Vocab: return "vocab";
  }
  return "?";
}

void validate(const Spec& spec, const FieldNamer& namer) {
  const Shape& s = spec.shape;
  check_range(s.n_layer, kMaxLayers, Field::Layers, namer);
  check_range(s.n_embd, kMaxEmbd, Field::Embd, namer);
  check_range(s.n_head, kMaxHeads, Field::Heads, namer);
  check_range(s.n_head_kv, kMaxHeads, Field::KvHeads, namer);
  check_range(s.n_ff, kMaxFfn, Field::Ffn, namer);
  check_range(s.n_ctx, kMaxCtx, Field::Ctx, namer);
  const auto n = [](uint32_t v) { return std::to_string(v); };
  if (s.n_embd % s.n_head != 0) {
    bad(namer(Field::Heads) + " (" + n(s.n_head) + ") must divide " + namer(Field::Embd) + " (" +
        n(s.n_embd) + ")");
  }
  // RoPE rotates pairs of dimensions, so each head needs an even size.
  if ((s.n_embd / s.n_head) % 2 != 0) {
    bad(namer(Field::Embd) + " / " + namer(Field::Heads) + " (head size " + n(s.n_embd / s.n_head) +
        ") must be even for RoPE");
  }
  if (s.n_head_kv > s.n_head || s.n_head % s.n_head_kv != 0) {
    bad(namer(Field::KvHeads) + " (" + n(s.n_head_kv) + ") must divide " + namer(Field::Heads) + " (" +
        n(s.n_head) + ")");
  }
  if (!std::isfinite(s.rope_freq_base) || s.rope_freq_base <= 0.0f) {
    bad(namer(Field::RopeBase) + " must be a positive number");
  }
  if (!std::isfinite(s.rms_eps) || s.rms_eps <= 0.0f || s.rms_eps >= 1.0f) {
    bad(namer(Field::RmsEps) + " must be between 0 and 1 (exclusive)");
  }
  if (spec.name.empty() || spec.name.size() > 256) bad(namer(Field::Name) + " must be 1 to 256 bytes long");
  if (spec.vocab.empty()) bad(namer(Field::Vocab) + " must not be empty");
}

Spec preset(const std::string& name) {
  Spec spec;
  spec.seed = 0;
  if (name == "tiny") {
    // A few MB: for tests. The 32000-token Llama 2 vocabulary dominates the size.
    spec.name = "rmm-forge-tiny";
    spec.vocab = "llama-spm";
    spec.shape = {2, 64, 4, 2, 256, 2048, 10000.0f, 1e-5f, false};
    spec.type = WeightType::Q8_0;
  } else if (name == "1b") {
    // Llama-3.2-1B's shape (tied embeddings), with a context that keeps the default KV cache small.
    spec.name = "rmm-forge-1b";
    spec.vocab = "llama-bpe";
    spec.shape = {16, 2048, 32, 8, 8192, 8192, 500000.0f, 1e-5f, true};
    spec.type = WeightType::Q4_K;
  } else if (name == "8b") {
    // Llama-3-8B's shape.
    spec.name = "rmm-forge-8b";
    spec.vocab = "llama-bpe";
    spec.shape = {32, 4096, 32, 8, 14336, 8192, 500000.0f, 1e-5f, false};
    spec.type = WeightType::Q4_K;
  } else {
    bad("unknown preset '" + name + "' (tiny, 1b, 8b)");
  }
  return spec;
}

std::vector<std::string> preset_names() { return {"tiny", "1b", "8b"}; }

WeightType parse_weight_type(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "f32") return WeightType::F32;
  if (lower == "f16") return WeightType::F16;
  if (lower == "q8_0") return WeightType::Q8_0;
  if (lower == "q4_k" || lower == "q4_k_m") return WeightType::Q4_K;
  bad("unknown weight type '" + name + "' (f32, f16, q8_0, q4_k)");
}

const char* weight_type_name(WeightType type) {
  switch (type) {
    case WeightType::F32: return "f32";
    case WeightType::F16: return "f16";
    case WeightType::Q8_0: return "q8_0";
    case WeightType::Q4_K: return "q4_k";
  }
  return "?";
}

uint32_t llama_file_type(WeightType type) {
  switch (type) {
    case WeightType::F32: return LLAMA_FTYPE_ALL_F32;
    case WeightType::F16: return LLAMA_FTYPE_MOSTLY_F16;
    case WeightType::Q8_0: return LLAMA_FTYPE_MOSTLY_Q8_0;
    case WeightType::Q4_K: return LLAMA_FTYPE_MOSTLY_Q4_K_M;
  }
  return LLAMA_FTYPE_ALL_F32;
}

}  // namespace rmm::forge
