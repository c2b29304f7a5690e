#include "forge/tensor_plan.hpp"

namespace rmm::forge {
namespace {

enum class Role { TokenEmbd, Output, Norm, AttnV, FfnDown, OtherMatrix };

// llama.cpp's Q4_K_M gives a few layers' attn_v and ffn_down more bits.
bool use_more_bits(int64_t layer, int64_t n_layer) {
  return layer < n_layer / 8 || layer >= 7 * n_layer / 8 || (layer - n_layer / 8) % 3 == 2;
}

// A row length the block type cannot hold falls back the way llama-quantize does.
ggml_type fit_row(ggml_type type, int64_t n_cols) {
  if (n_cols % ggml_blck_size(type) == 0) return type;
  switch (type) {
    case GGML_TYPE_Q4_K: type = GGML_TYPE_Q5_0; break;
    case GGML_TYPE_Q6_K: type = GGML_TYPE_Q8_0; break;
    default: break;
  }
  return n_cols % ggml_blck_size(type) == 0 ? type : GGML_TYPE_F16;
}

ggml_type pick_type(WeightType wt, Role role, int64_t layer, int64_t n_layer, int64_t n_cols) {
  if (role == Role::Norm || wt == WeightType::F32) return GGML_TYPE_F32;
  switch (wt) {
    case WeightType::F16: return GGML_TYPE_F16;
    case WeightType::Q8_0: return fit_row(GGML_TYPE_Q8_0, n_cols);
    case WeightType::Q4_K:
      // Q4_K_M: the output head in Q6_K (Q8_0 when the row does not fit 256-blocks).
      if (role == Role::Output)
        return n_cols % ggml_blck_size(GGML_TYPE_Q6_K) == 0 ? GGML_TYPE_Q6_K : GGML_TYPE_Q8_0;
      if ((role == Role::AttnV || role == Role::FfnDown) && use_more_bits(layer, n_layer)) {
        return fit_row(GGML_TYPE_Q6_K, n_cols);
      }
      return fit_row(GGML_TYPE_Q4_K, n_cols);
    case WeightType::F32: break;
  }
  return GGML_TYPE_F32;
}

}  // namespace

std::vector<TensorPlan> plan_tensors(const Shape& s, uint32_t n_vocab, WeightType wt) {
  const int64_t n_layer = s.n_layer, n_embd = s.n_embd, n_ff = s.n_ff;
  const int64_t head_dim = n_embd / s.n_head;
  const int64_t n_embd_kv = head_dim * s.n_head_kv;
  std::vector<TensorPlan> plan;
  plan.reserve(3 + 9 * s.n_layer);

  auto add = [&](std::string name, Role role, int64_t layer, int64_t cols, int64_t rows) {
    TensorPlan t;
    t.name = std::move(name);
    t.n_cols = cols;
    t.n_rows = rows;
    t.is_matrix = role != Role::Norm;
    t.is_norm = role == Role::Norm;
    t.type = pick_type(wt, role, layer, n_layer, cols);
    plan.push_back(std::move(t));
  };

  // Tied embeddings serve as the output head too, so they get the output's type.
  add("token_embd.weight", s.tie_embeddings ? Role::Output : Role::TokenEmbd, 0, n_embd, n_vocab);
  for (int64_t i = 0; i < n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    add(p + "attn_norm.weight", Role::Norm, i, n_embd, 1);
    add(p + "attn_q.weight", Role::OtherMatrix, i, n_embd, n_embd);
    add(p + "attn_k.weight", Role::OtherMatrix, i, n_embd, n_embd_kv);
    add(p + "attn_v.weight", Role::AttnV, i, n_embd, n_embd_kv);
    add(p + "attn_output.weight", Role::OtherMatrix, i, n_embd, n_embd);
    add(p + "ffn_norm.weight", Role::Norm, i, n_embd, 1);
    add(p + "ffn_gate.weight", Role::OtherMatrix, i, n_embd, n_ff);
    add(p + "ffn_up.weight", Role::OtherMatrix, i, n_embd, n_ff);
    add(p + "ffn_down.weight", Role::FfnDown, i, n_ff, n_embd);
  }
  add("output_norm.weight", Role::Norm, 0, n_embd, 1);
  if (!s.tie_embeddings) add("output.weight", Role::Output, 0, n_embd, n_vocab);
  return plan;
}

}  // namespace rmm::forge
