#pragma once
// What a person (or the memory estimate) wants to know about a model, derived
// from a parsed GGUF file's metadata and tensor infos. Keys that are absent
// give 0 / empty values; keys with the wrong type or impossible values are
// errors (rmm::Error BadFile naming the key).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gguf/reader.hpp"

namespace rmm::gguf {

struct ModelInfo {
  std::string path;
  uint32_t gguf_version = 0;
  uint64_t file_size = 0;

  std::string architecture;  // general.architecture, e.g. "llama"
  std::string name;          // general.name
  std::string license;       // general.license

  uint64_t n_params = 0;                 // sum of the elements of all tensors in this file
  std::string file_type;                 // quantization, e.g. "Q4_K_M", "F16"
  std::optional<uint32_t> file_type_id;  // general.file_type when present
  bool file_type_guessed = false;        // true: named after the tensor type holding the most bytes

  uint32_t context_length = 0;    // {arch}.context_length (training context)
  uint32_t embedding_length = 0;  // {arch}.embedding_length
  uint32_t n_layer = 0;           // {arch}.block_count
  // Head counts and FFN length may be per-layer arrays; the scalars are the
  // largest value, the vectors hold one value per layer (empty when n_layer is 0).
  uint32_t n_head = 0;
  uint32_t n_head_kv = 0;
  uint32_t ffn_length = 0;
  std::vector<uint32_t> n_head_per_layer;
  std::vector<uint32_t> n_head_kv_per_layer;
  std::vector<uint32_t> ffn_length_per_layer;
  bool heads_vary_per_layer = false;
  uint32_t head_dim_k = 0;     // {arch}.attention.key_length, else embedding_length / n_head
  uint32_t head_dim_v = 0;     // {arch}.attention.value_length, else the same as head_dim_k
  uint32_t n_expert = 0;       // {arch}.expert_count (MoE), 0 for dense models
  uint32_t n_expert_used = 0;  // {arch}.expert_used_count

  uint32_t vocab_size = 0;      // tokenizer.ggml.tokens count, else {arch}.vocab_size
  std::string tokenizer_model;  // tokenizer.ggml.model, e.g. "llama", "gpt2"
  std::string tokenizer_pre;    // tokenizer.ggml.pre
  // Special token ids; -1 when absent or stored as -1 (4294967295 as uint32).
  int32_t bos_token_id = -1;
  int32_t eos_token_id = -1;
  int32_t pad_token_id = -1;
  bool has_chat_template = false;

  bool has_output_tensor = false;  // output.weight present
  bool tied_embeddings = false;    // no output.weight: the output head reuses token_embd.weight

  uint64_t n_tensors = 0;
  uint64_t tensor_bytes = 0;  // sum of tensor data sizes in this file

  // Split files (gguf-split): 1-based part number and part count; 0 when not split.
  uint32_t split_no = 0;
  uint32_t split_count = 0;
  uint32_t split_tensors_count = 0;  // tensors across all parts
};

// Largest block_count accepted (llama.cpp itself allows 512 layers).
inline constexpr uint32_t kMaxLayers = 1024;

ModelInfo derive_model_info(const GgufFile& file);

// The name llama.cpp's general.file_type values stand for ("Q4_K_M", "F16",
// "F32" for 0); nullopt for values that are not known.
std::optional<std::string> file_type_name(uint32_t file_type);

}  // namespace rmm::gguf
