#include "gguf/memory_estimate.hpp"

#include <algorithm>
#include <string>

#include "core/error.hpp"
#include "gguf/alloc_sim.hpp"
#include "gguf/tensor_types.hpp"

namespace rmm::gguf {

namespace {

// llama.cpp's limits and constants (llama-cparams.h, llama-context.cpp, ggml-impl.h).
constexpr uint32_t kMaxSeq = 256;       // LLAMA_MAX_SEQ
constexpr uint32_t kCtxPad = 256;       // n_ctx and n_ctx_seq are padded to this
constexpr uint64_t kAlignment = 32;     // TENSOR_ALIGNMENT of CPU buffers
constexpr uint32_t kMaxCtx = 1u << 26;  // far beyond any model; keeps the arithmetic small
// Sizes derived from hostile headers saturate here so sums cannot overflow.
constexpr uint64_t kSaturate = 1ull << 48;

uint64_t mul(uint64_t a, uint64_t b) {
  uint64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r) || r > kSaturate) return kSaturate;
  return r;
}
uint64_t mul(uint64_t a, uint64_t b, uint64_t c) { return mul(mul(a, b), c); }
uint64_t mul(uint64_t a, uint64_t b, uint64_t c, uint64_t d) { return mul(mul(a, b, c), d); }
uint64_t pad(uint64_t n, uint64_t to) { return (n + to - 1) / to * to; }

[[noreturn]] void invalid(const std::string& problem) { throw Error(ErrorKind::InvalidArgument, problem); }

// Which part of the network a tensor belongs to: -1 the input layer (token
// embeddings, always on the CPU), 0..n_layer-1 a repeating block, n_layer the
// output layer (output head and final norm).
int tensor_layer(const std::string& name, uint32_t n_layer) {
  if (name.rfind("blk.", 0) == 0) {
    uint64_t il = 0;
    size_t i = 4;
    for (; i < name.size() && name[i] >= '0' && name[i] <= '9' && il <= n_layer; ++i)
      il = il * 10 + (name[i] - '0');
    if (i > 4 && i < name.size() && name[i] == '.') return static_cast<int>(std::min<uint64_t>(il, n_layer));
  }
  if (name.rfind("token_embd", 0) == 0 || name.rfind("token_types", 0) == 0 ||
      name.rfind("position_embd", 0) == 0) {
    return -1;
  }
  return static_cast<int>(n_layer);
}

// Shapes of one reserve pass of llama.cpp's worst-case graph.
struct GraphShape {
  uint64_t n_tokens = 0;   // tokens in the ubatch, all streams
  uint64_t n_outputs = 0;  // rows of logits computed
  uint64_t n_kv = 0;       // KV cells attended per stream
  bool flash_attn = true;
  bool with_layers = true;  // the repeating blocks run on this device
  bool with_output = true;  // the output head runs on this device
};

// The compute buffer of a llama-style decoder graph (llama.cpp's
// src/models/llama.cpp with build_attn/build_ffn from llama-graph.cpp),
// replayed op by op through ggml's allocation rules. The big tensors are the
// attention scores (non-flash: n_kv x tokens x heads floats), the KQ mask,
// the FFN activations and the logits (vocab x outputs floats); which one
// dominates depends on the model and the settings, so the whole graph is
// replayed rather than summing a guess.
uint64_t compute_buffer(const ModelInfo& m, const GraphShape& g) {
  AllocSim sim(kAlignment);
  const uint64_t T = g.n_tokens;
  const uint64_t E = m.embedding_length;
  const uint64_t Dk = m.head_dim_k;
  const uint64_t Dv = m.head_dim_v;
  constexpr uint64_t f32 = 4;
  AllocSim::Id x = AllocSim::kExternal;

  if (g.with_layers) {
    uint64_t max_v_gqa = 0;
    for (uint32_t il = 0; il < m.n_layer; ++il)
      max_v_gqa = std::max<uint64_t>(max_v_gqa, mul(m.n_head_kv_per_layer[il], Dv));
    const auto tokens = sim.input(mul(T, 4));
    // The alternative input of ready-made embeddings is always in the graph
    // (to keep its shape constant) and, never consumed, lives throughout.
    sim.input(mul(E, T, f32));
    const auto pos = sim.input(mul(T, 4));
    const auto k_idxs = sim.input(mul(T, 8));
    // Without flash attention V is stored transposed, scattered element by element.
    const auto v_idxs = sim.input(g.flash_attn ? mul(T, 8) : mul(T, max_v_gqa, 8));
    // The mask is f16 for flash attention, f32 for soft_max.
    const auto mask = sim.input(mul(g.n_kv, T, g.flash_attn ? 2 : 4));
    const auto out_ids = sim.input(mul(g.n_outputs, 4));

    x = sim.op(mul(E, T, f32), {tokens});  // get_rows of the token embeddings
    for (uint32_t il = 0; il < m.n_layer; ++il) {
      const uint64_t H = m.n_head_per_layer[il];
      const uint64_t Hkv = m.n_head_kv_per_layer[il];
      const uint64_t F = m.ffn_length_per_layer[il];
      const bool last = il + 1 == m.n_layer;
      auto inp_sa = x;
      auto cur = sim.op(mul(E, T, f32), {x}, true);  // rms_norm
      cur = sim.op(mul(E, T, f32), {cur}, true);     // * attn_norm
      // Q, then V, then K are expanded into the graph, then both cache stores.
      const auto q = sim.op(mul(H, Dk, T, f32), {cur});
      const auto q_rope = sim.op(mul(H, Dk, T, f32), {sim.view(q), pos}, true);
      const auto v = sim.op(mul(Hkv, Dv, T, f32), {cur});
      const auto k = sim.op(mul(Hkv, Dk, T, f32), {cur});
      const auto k_rope = sim.op(mul(Hkv, Dk, T, f32), {sim.view(k), pos}, true);
      sim.store({k_rope, k_idxs});
      sim.store({sim.view(v), v_idxs});
      AllocSim::Id attn;
      if (g.flash_attn) {
        attn = sim.view(sim.op(mul(Dv, H, T, f32), {sim.view(q_rope), mask}));
      } else {
        const auto kq = sim.op(mul(g.n_kv, T, H, f32), {sim.view(q_rope)});
        const auto probs = sim.op(mul(g.n_kv, T, H, f32), {kq, mask}, true);  // soft_max
        const auto kqv = sim.op(mul(Dv, T, H, f32), {probs});
        attn = sim.op(mul(Dv, H, T, f32), {sim.view(kqv)});  // cont of the permuted heads
      }
      cur = sim.op(mul(E, T, f32), {attn});  // wo
      uint64_t rows = T;
      if (last) {
        // Only the rows whose logits are wanted continue past the last attention.
        rows = g.n_outputs;
        cur = sim.op(mul(E, rows, f32), {cur, out_ids});
        inp_sa = sim.op(mul(E, rows, f32), {inp_sa, out_ids});
      }
      const auto ffn_inp = sim.op(mul(E, rows, f32), {cur, inp_sa}, true);
      cur = sim.op(mul(E, rows, f32), {ffn_inp}, true);  // rms_norm
      cur = sim.op(mul(E, rows, f32), {cur}, true);      // * ffn_norm
      if (m.n_expert > 0 && m.n_expert_used > 0) {
        // Routed experts: router logits and probabilities, the chosen experts,
        // then up/gate/down for each chosen expert of each token.
        const uint64_t U = m.n_expert_used;
        const auto logits = sim.op(mul(m.n_expert, rows, f32), {cur});
        const auto probs = sim.op(mul(m.n_expert, rows, f32), {logits}, true);
        const auto ids = sim.op(mul(U, rows, 4), {probs});
        const auto weights = sim.op(mul(U, rows, f32), {sim.view(probs), ids});
        const auto gate = sim.op(mul(F, U, rows, f32), {cur, ids});
        const auto up = sim.op(mul(F, U, rows, f32), {cur, ids});
        const auto act = sim.op(mul(F, U, rows, f32), {gate, up});
        const auto down = sim.op(mul(E, U, rows, f32), {act, ids});
        const auto weighted = sim.op(mul(E, U, rows, f32), {down, weights}, true);
        cur = sim.op(mul(E, rows, f32), {sim.view(weighted)});
      } else {
        const auto gate = sim.op(mul(F, rows, f32), {cur});
        const auto up = sim.op(mul(F, rows, f32), {cur});
        const auto act = sim.op(mul(F, rows, f32), {gate, up});  // swiglu: not in place
        cur = sim.op(mul(E, rows, f32), {act});                  // ffn_down
      }
      x = sim.op(mul(E, rows, f32), {cur, ffn_inp}, true);  // residual add
    }
  }
  if (g.with_output) {
    if (x == AllocSim::kExternal)
      x = sim.input(mul(E, g.n_outputs, f32));               // rows arriving from the other device
    auto cur = sim.op(mul(E, g.n_outputs, f32), {x}, true);  // rms_norm
    cur = sim.op(mul(E, g.n_outputs, f32), {cur}, true);     // * output_norm
    sim.op(mul(m.vocab_size, g.n_outputs, f32), {cur});      // logits
  }
  return sim.buffer_size();
}

}  // namespace

MemoryEstimate estimate_memory(const GgufFile& file, const ModelInfo& info, const MemoryParams& params) {
  if (params.n_seq == 0 || params.n_seq > kMaxSeq) {
    invalid("the number of parallel sequences must be 1 to " + std::to_string(kMaxSeq));
  }
  if (params.n_batch == 0 && params.n_ubatch == 0) invalid("the batch size must be positive");
  if (params.n_ctx > kMaxCtx) invalid("context size " + std::to_string(params.n_ctx) + " is too large");
  const auto kv_traits = tensor_type_traits(params.kv_type);
  if (!kv_traits) invalid("unknown KV cache type id " + std::to_string(params.kv_type));
  if (info.n_layer == 0 || info.embedding_length == 0 || info.vocab_size == 0) {
    throw Error(ErrorKind::BadFile, file.name +
                                        ": the model lacks the layer count, embedding length or vocabulary "
                                        "that a memory estimate needs");
  }

  MemoryEstimate est;
  est.flash_attn = params.flash_attn;

  // Context sizes, as llama_context's constructor derives them.
  uint64_t n_ctx = params.n_ctx != 0 ? params.n_ctx : info.context_length;
  if (n_ctx == 0) invalid(file.name + " has no context length; give one");
  n_ctx = std::min<uint64_t>(n_ctx, kMaxCtx);
  const uint64_t n_batch = std::min<uint64_t>(n_ctx, params.n_batch == 0 ? params.n_ubatch : params.n_batch);
  const uint64_t n_ubatch = std::min<uint64_t>(n_batch, params.n_ubatch == 0 ? n_batch : params.n_ubatch);
  n_ctx = pad(n_ctx, kCtxPad);
  uint64_t n_ctx_seq = n_ctx;
  if (!params.kv_unified) {
    n_ctx_seq = pad(n_ctx / params.n_seq, kCtxPad);
    if (n_ctx_seq == 0)
      invalid("a context of " + std::to_string(n_ctx) + " is too small for " + std::to_string(params.n_seq) +
              " sequences");
    n_ctx = n_ctx_seq * params.n_seq;
  }
  est.n_ctx = static_cast<uint32_t>(n_ctx);
  est.n_ctx_seq = static_cast<uint32_t>(n_ctx_seq);
  est.n_batch = static_cast<uint32_t>(n_batch);
  est.n_ubatch = static_cast<uint32_t>(n_ubatch);

  // Layer placement (llama_model::load_tensors): the last n_gpu_layers of the
  // n_layer + 1 layers go to the GPU, and the output layer is the very last,
  // so it is the first one offloaded. The input layer never is.
  const uint64_t n_layer_all = info.n_layer;
  const uint64_t ngl =
      params.n_gpu_layers < 0 ? n_layer_all + 1 : std::min<uint64_t>(params.n_gpu_layers, n_layer_all + 1);
  const uint64_t i_gpu_start = n_layer_all + 1 - ngl;
  est.gpu_layers = static_cast<uint32_t>(ngl);
  auto on_gpu = [&](int il) { return il >= 0 && static_cast<uint64_t>(il) >= i_gpu_start; };
  const bool output_on_gpu = on_gpu(static_cast<int>(n_layer_all));

  // Weights: each tensor padded to the buffer alignment, on its layer's device.
  for (const auto& t : file.tensors) {
    const int il = tensor_layer(t.name, info.n_layer);
    (on_gpu(il) ? est.gpu : est.cpu).weights += pad(std::min(t.n_bytes, kSaturate), kAlignment);
  }
  // A tied output head is a second copy of token_embd made on the output
  // layer's device; on the CPU the mapped copy is shared.
  if (info.tied_embeddings && output_on_gpu) {
    if (const TensorInfo* emb = file.find_tensor("token_embd.weight"))
      est.gpu.weights += pad(emb->n_bytes, kAlignment);
  }

  // KV cache (llama_kv_cache): per attention layer a K and a V tensor of
  // [n_embd_gqa, n_ctx_seq, n_stream], i.e. n_ctx cells in all, on the
  // layer's device.
  for (uint32_t il = 0; il < info.n_layer; ++il) {
    const uint64_t hkv = info.n_head_kv_per_layer[il];
    const uint64_t k_row = mul(hkv, info.head_dim_k);
    const uint64_t v_row = mul(hkv, info.head_dim_v);
    const uint64_t bytes = mul((k_row + v_row) / kv_traits->block_size, kv_traits->type_size, n_ctx);
    (on_gpu(static_cast<int>(il)) ? est.gpu : est.cpu).kv_cache += bytes;
  }

  // Logits buffer (llama_context::output_reserve): one row per sequence up
  // front; it grows only when a batch asks for more logits.
  est.cpu.output = pad(mul(info.vocab_size, params.n_seq, 4), kAlignment);

  // Compute buffers (llama_context::sched_reserve): the worst-case prompt
  // graph (min(n_ctx, n_ubatch) tokens, rounded up to a multiple of the
  // sequences, all of them producing logits) and the one-token-per-sequence
  // generation graph are reserved; the buffer keeps the larger size.
  const uint64_t n_stream = params.kv_unified ? 1 : params.n_seq;
  auto graph_bytes = [&](bool layers, bool output) {
    uint64_t worst = 0;
    for (const uint64_t tokens : {std::min(n_ctx, n_ubatch), uint64_t{params.n_seq}}) {
      GraphShape g;
      g.n_tokens = pad(tokens, params.n_seq);
      g.n_outputs = std::min(tokens, n_batch);
      g.n_kv = n_ctx / n_stream;
      g.flash_attn = params.flash_attn;
      g.with_layers = layers;
      g.with_output = output;
      worst = std::max(worst, compute_buffer(info, g));
    }
    return worst;
  };
  const bool layers_on_gpu = ngl > 1;  // the first offloaded layer is the output layer
  const bool layers_on_cpu = i_gpu_start > 0;
  if (ngl == 0) {
    est.cpu.compute = graph_bytes(true, true);
  } else {
    // With offloading each device holds the part of the graph it runs (each
    // part replayed whole, since the peak repeats in every block); the CPU at
    // least looks up the token embeddings. This split is an approximation:
    // the scheduler's copies of tensors between devices are not replayed,
    // and it has been checked against llama.cpp on the CPU only.
    est.gpu.compute = graph_bytes(layers_on_gpu, output_on_gpu);
    est.cpu.compute = layers_on_cpu
                          ? graph_bytes(true, false)
                          : pad(mul(std::min(n_ctx, n_ubatch), info.embedding_length + 1, 4), kAlignment);
  }
  return est;
}

}  // namespace rmm::gguf
