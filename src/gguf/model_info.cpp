#include "gguf/model_info.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>

#include "core/error.hpp"
#include "gguf/tensor_types.hpp"

namespace rmm::gguf {

namespace {

[[noreturn]] void fail(const GgufFile& file, const std::string& problem) {
  throw Error(ErrorKind::BadFile, file.name + ": " + problem);
}

std::string type_of(const Value& v) {
  if (v.is_array()) return std::string("array of ") + value_type_name(v.elem_type);
  return value_type_name(v.type);
}

// Reads metadata with the type checks llama.cpp applies: a key of the wrong
// type is an error, not a silent zero.
class MetaReader {
 public:
  MetaReader(const GgufFile& file, std::string arch) : file_(file), arch_(std::move(arch)) {}

  std::string arch_key(const char* suffix) const { return arch_ + "." + suffix; }

  std::string string(const std::string& key) const {
    const Value* v = file_.find(key);
    if (!v) return {};
    if (v->type != ValueType::String) fail(file_, key + " has type " + type_of(*v) + ", expected string");
    return v->s;
  }

  std::optional<uint32_t> u32(const std::string& key) const {
    const Value* v = file_.find(key);
    if (!v) return std::nullopt;
    return to_u32(key, *v);
  }

  // A scalar or an array with one value per layer (llama.cpp's
  // get_key_or_arr). Missing keys give nullopt.
  std::optional<std::vector<uint32_t>> per_layer(const std::string& key, uint32_t n_layer) const {
    const Value* v = file_.find(key);
    if (!v) return std::nullopt;
    if (!v->is_array()) return std::vector<uint32_t>(n_layer, to_u32(key, *v));
    if (v->count != n_layer) {
      fail(file_, key + " has " + std::to_string(v->count) + " values but the model has " +
                      std::to_string(n_layer) + " layers");
    }
    std::vector<uint32_t> out;
    out.reserve(n_layer);
    for (const Value& e : v->head) out.push_back(to_u32(key, e));
    if (out.size() != n_layer) fail(file_, key + " has more values than this reader keeps");
    return out;
  }

  int32_t token_id(const std::string& key) const {
    const Value* v = file_.find(key);
    if (!v) return -1;
    const auto n = v->as_int();
    if (!n && !(v->is_integer())) fail(file_, key + " has type " + type_of(*v) + ", expected an integer");
    // -1 stored as uint32 (4294967295) and other out-of-range ids mean "none",
    // as they do for llama.cpp, which reads these keys into an int32.
    if (!n || *n < 0 || *n > std::numeric_limits<int32_t>::max()) return -1;
    return static_cast<int32_t>(*n);
  }

  // The scalar, or the largest element of a per-layer array.
  std::optional<uint32_t> largest(const std::string& key) const {
    const Value* v = file_.find(key);
    if (!v) return std::nullopt;
    if (!v->is_array()) return to_u32(key, *v);
    uint32_t best = 0;
    for (const Value& e : v->head) best = std::max(best, to_u32(key, e));
    return best;
  }

  uint64_t array_count(const std::string& key) const {
    const Value* v = file_.find(key);
    if (!v) return 0;
    if (!v->is_array()) fail(file_, key + " has type " + type_of(*v) + ", expected an array");
    return v->count;
  }

 private:
  uint32_t to_u32(const std::string& key, const Value& v) const {
    if (!v.is_integer()) fail(file_, key + " has type " + type_of(v) + ", expected an integer");
    const auto n = v.as_int();
    if (!n || *n < 0 || *n > std::numeric_limits<uint32_t>::max()) {
      fail(file_, key + " has the out-of-range value " +
                      (v.type == ValueType::UInt64 ? std::to_string(v.u) : std::to_string(v.i)));
    }
    return static_cast<uint32_t>(*n);
  }

  const GgufFile& file_;
  std::string arch_;
};

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

// The tensor type that holds the most bytes, e.g. "F32" for stories260K.
std::string dominant_tensor_type(const GgufFile& file) {
  std::map<uint32_t, uint64_t> bytes_by_type;
  for (const auto& t : file.tensors) bytes_by_type[t.type] += t.n_bytes;
  uint32_t best = 0;
  uint64_t best_bytes = 0;
  bool any = false;
  for (const auto& [type, bytes] : bytes_by_type) {
    if (!any || bytes > best_bytes) {
      best = type;
      best_bytes = bytes;
      any = true;
    }
  }
  if (!any) return {};
  const auto traits = tensor_type_traits(best);
  return traits ? upper(traits->name) : std::string();
}

}  // namespace

std::optional<std::string> file_type_name(uint32_t file_type) {
  // llama.h's llama_ftype values; gaps are types removed from GGUF files.
  switch (file_type) {
    case 0: return "F32";
    case 1: return "F16";
    case 2: return "Q4_0";
    case 3: return "Q4_1";
    case 7: return "Q8_0";
    case 8: return "Q5_0";
    case 9: return "Q5_1";
    case 10: return "Q2_K";
    case 11: return "Q3_K_S";
    case 12: return "Q3_K_M";
    case 13: return "Q3_K_L";
    case 14: return "Q4_K_S";
    case 15: return "Q4_K_M";
    case 16: return "Q5_K_S";
    case 17: return "Q5_K_M";
    case 18: return "Q6_K";
    case 19: return "IQ2_XXS";
    case 20: return "IQ2_XS";
    case 21: return "Q2_K_S";
    case 22: return "IQ3_XS";
    case 23: return "IQ3_XXS";
    case 24: return "IQ1_S";
    case 25: return "IQ4_NL";
    case 26: return "IQ3_S";
    case 27: return "IQ3_M";
    case 28: return "IQ2_S";
    case 29: return "IQ2_M";
    case 30: return "IQ4_XS";
    case 31: return "IQ1_M";
    case 32: return "BF16";
    case 36: return "TQ1_0";
    case 37: return "TQ2_0";
    case 38: return "MXFP4_MOE";
    case 39: return "NVFP4";
    case 40: return "Q1_0";
    case 41: return "Q2_0";
    default: return std::nullopt;
  }
}

ModelInfo derive_model_info(const GgufFile& file) {
  ModelInfo info;
  info.path = file.name;
  info.gguf_version = file.version;
  info.file_size = file.file_size;

  const MetaReader general(file, "");
  info.architecture = general.string("general.architecture");
  const MetaReader m(file, info.architecture);
  info.name = m.string("general.name");
  info.license = m.string("general.license");

  for (const auto& t : file.tensors) {
    info.n_params +=
        t.n_elements;  // cannot overflow in practice: bounded by the file size times the block ratio
    info.tensor_bytes += t.n_bytes;
  }
  info.n_tensors = file.tensors.size();

  if (const auto ft = m.u32("general.file_type")) {
    // llama.cpp marks types it guessed itself with this bit.
    constexpr uint32_t kGuessedBit = 1024;
    info.file_type_id = *ft;
    const auto name = file_type_name(*ft & ~kGuessedBit);
    info.file_type = name ? *name : "unknown (" + std::to_string(*ft) + ")";
    info.file_type_guessed = (*ft & kGuessedBit) != 0;
  } else {
    info.file_type = dominant_tensor_type(file);
    info.file_type_guessed = !info.file_type.empty();
  }

  if (!info.architecture.empty()) {
    info.context_length = m.u32(m.arch_key("context_length")).value_or(0);
    info.embedding_length = m.u32(m.arch_key("embedding_length")).value_or(0);
    info.n_layer = m.u32(m.arch_key("block_count")).value_or(0);
    if (info.n_layer > kMaxLayers) {
      fail(file, m.arch_key("block_count") + " is " + std::to_string(info.n_layer) + ", more than the " +
                     std::to_string(kMaxLayers) + " layers supported");
    }
    const uint32_t L = info.n_layer;
    info.n_head_per_layer =
        m.per_layer(m.arch_key("attention.head_count"), L).value_or(std::vector<uint32_t>(L, 0));
    // A missing head_count_kv means no grouped-query attention: one KV head per head.
    info.n_head_kv_per_layer =
        m.per_layer(m.arch_key("attention.head_count_kv"), L).value_or(info.n_head_per_layer);
    info.ffn_length_per_layer =
        m.per_layer(m.arch_key("feed_forward_length"), L).value_or(std::vector<uint32_t>(L, 0));
    auto varies = [](const std::vector<uint32_t>& v) {
      return std::any_of(v.begin(), v.end(), [&](uint32_t x) { return x != v.front(); });
    };
    info.n_head = m.largest(m.arch_key("attention.head_count")).value_or(0);
    info.n_head_kv = m.largest(m.arch_key("attention.head_count_kv")).value_or(info.n_head);
    info.ffn_length = m.largest(m.arch_key("feed_forward_length")).value_or(0);
    info.heads_vary_per_layer = varies(info.n_head_per_layer) || varies(info.n_head_kv_per_layer);

    const auto key_length = m.u32(m.arch_key("attention.key_length"));
    const auto value_length = m.u32(m.arch_key("attention.value_length"));
    const uint32_t derived = info.n_head > 0 ? info.embedding_length / info.n_head : 0;
    info.head_dim_k = key_length.value_or(derived);
    info.head_dim_v = value_length.value_or(info.head_dim_k);
    info.n_expert = m.u32(m.arch_key("expert_count")).value_or(0);
    info.n_expert_used = m.u32(m.arch_key("expert_used_count")).value_or(0);
  }

  const uint64_t n_tokens = m.array_count("tokenizer.ggml.tokens");
  const auto arch_vocab = info.architecture.empty() ? std::nullopt : m.u32(m.arch_key("vocab_size"));
  if (n_tokens > std::numeric_limits<uint32_t>::max())
    fail(file, "tokenizer.ggml.tokens has too many tokens");
  info.vocab_size = n_tokens > 0 ? static_cast<uint32_t>(n_tokens) : arch_vocab.value_or(0);
  info.tokenizer_model = m.string("tokenizer.ggml.model");
  info.tokenizer_pre = m.string("tokenizer.ggml.pre");
  info.bos_token_id = m.token_id("tokenizer.ggml.bos_token_id");
  info.eos_token_id = m.token_id("tokenizer.ggml.eos_token_id");
  info.pad_token_id = m.token_id("tokenizer.ggml.padding_token_id");
  if (const Value* t = file.find("tokenizer.chat_template")) {
    if (t->type != ValueType::String)
      fail(file, "tokenizer.chat_template has type " + type_of(*t) + ", expected string");
    info.has_chat_template = t->string_length > 0;
  }

  info.has_output_tensor = file.find_tensor("output.weight") != nullptr;
  info.tied_embeddings = !info.has_output_tensor && file.find_tensor("token_embd.weight") != nullptr;

  if (const auto count = m.u32("split.count"); count && *count > 0) {
    const uint32_t no = m.u32("split.no").value_or(0);  // stored 0-based
    if (no >= *count) {
      fail(file, "split.no is " + std::to_string(no) + " but split.count is only " + std::to_string(*count));
    }
    info.split_count = *count;
    info.split_no = no + 1;
    info.split_tensors_count = m.u32("split.tensors.count").value_or(0);
  }
  return info;
}

}  // namespace rmm::gguf
