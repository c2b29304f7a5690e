#pragma once
// The tensors of a llama-architecture model, named and shaped the way
// llama.cpp's loader expects, with the storage type of each one.
#include <ggml.h>

#include <cstdint>
#include <string>
#include <vector>

#include "forge/spec.hpp"

namespace rmm::forge {

struct TensorPlan {
  std::string name;    // e.g. "blk.0.attn_q.weight"
  int64_t n_cols = 0;  // ne[0]: the row length, along which blocks are quantized
  int64_t n_rows = 1;  // ne[1]; 1 for the 1-D norm vectors
  bool is_matrix = false;
  ggml_type type = GGML_TYPE_F32;
  bool is_norm = false;  // filled with 1.0 instead of random values

  uint64_t n_elements() const { return static_cast<uint64_t>(n_cols) * static_cast<uint64_t>(n_rows); }
  size_t row_bytes() const { return ggml_row_size(type, n_cols); }
  uint64_t n_bytes() const { return static_cast<uint64_t>(row_bytes()) * static_cast<uint64_t>(n_rows); }
};

// In file order: token_embd, the blocks, output_norm, output (absent when tied).
std::vector<TensorPlan> plan_tensors(const Shape& shape, uint32_t n_vocab, WeightType type);

}  // namespace rmm::forge
