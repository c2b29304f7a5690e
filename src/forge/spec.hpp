#pragma once
// What a forged model looks like: a llama-architecture shape, the weight
// type, the vocabulary to borrow and the seed. Presets give realistic shapes;
// every field can be changed before validate() checks the whole.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace rmm::forge {

// The weight types `rmm forge --type` offers; each maps to one llama_ftype.
enum class WeightType { F32, F16, Q8_0, Q4_K };

struct Shape {
  uint32_t n_layer = 0;
  uint32_t n_embd = 0;
  uint32_t n_head = 0;
  uint32_t n_head_kv = 0;
  uint32_t n_ff = 0;
  uint32_t n_ctx = 0;  // the trained context length the file claims
  float rope_freq_base = 10000.0f;
  float rms_eps = 1e-5f;
  bool tie_embeddings = false;  // no output.weight: the output head reuses token_embd
};

struct Spec {
  std::string name;   // general.name
  std::string vocab;  // a vocab NAME (e.g. "llama-spm") or a GGUF file path
  Shape shape;
  WeightType type = WeightType::Q8_0;
  uint64_t seed = 0;
};

// The parameters validate() checks, so callers can word errors their own way.
enum class Field { Layers, Embd, Heads, KvHeads, Ffn, Ctx, RopeBase, RmsEps, Name, Vocab };
using FieldNamer = std::function<std::string(Field)>;
// "n_layer", "n_embd", ...: the names of the Shape members.
std::string default_field_name(Field field);

// Upper bounds: far above any real llama, low enough that a typo cannot ask for petabytes.
inline constexpr uint32_t kMaxLayers = 1024;
inline constexpr uint32_t kMaxEmbd = 65536;
inline constexpr uint32_t kMaxHeads = 1024;
inline constexpr uint32_t kMaxFfn = 262144;
inline constexpr uint32_t kMaxCtx = 1u << 24;

// Throws rmm::Error(InvalidArgument) naming the offending field through `namer`.
void validate(const Spec& spec, const FieldNamer& namer = default_field_name);

// "tiny", "1b", "8b". Throws rmm::Error(InvalidArgument) for any other name.
Spec preset(const std::string& name);
std::vector<std::string> preset_names();

// "f32", "f16", "q8_0", "q4_k" (case-insensitive). Throws rmm::Error(InvalidArgument).
WeightType parse_weight_type(const std::string& name);
const char* weight_type_name(WeightType type);
// The llama_ftype value written to general.file_type.
uint32_t llama_file_type(WeightType type);

}  // namespace rmm::forge
