// `rmm info FILE`: what a GGUF file holds, read from its header alone, and
// how much memory llama.cpp would need to run it with given settings.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/model_registry.hpp"
#include "core/error.hpp"
#include "core/units.hpp"
#include "gguf/memory_estimate.hpp"
#include "gguf/model_info.hpp"
#include "gguf/reader.hpp"
#include "gguf/tensor_types.hpp"
#include "models/short_name.hpp"

namespace rmm::cli {
namespace {

using nlohmann::json;

struct InfoOptions {
  std::string file;
  bool json = false;
  bool tensors = false;
  bool metadata = false;
  // Memory estimate settings; unset ones take llama.cpp's defaults.
  std::optional<uint32_t> ctx_size;
  uint32_t parallel = 1;
  int32_t gpu_layers = 0;
  uint32_t batch_size = 2048;
  uint32_t ubatch_size = 512;
  std::string flash_attn = "on";
  bool kv_unified = false;
  bool estimate_requested = false;
};

constexpr size_t kHeadShown = 8;  // array elements shown in metadata

std::string format_params(uint64_t n) {
  char buf[32];
  const double v = static_cast<double>(n);
  if (n < 1000) {
    std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(n));
  } else if (n < 1000000) {
    std::snprintf(buf, sizeof buf, "%.1fK", v / 1e3);
  } else if (n < 1000000000) {
    std::snprintf(buf, sizeof buf, "%.1fM", v / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.2fB", v / 1e9);
  }
  return buf;
}

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }
std::string or_dash(uint64_t n) { return n == 0 ? "-" : std::to_string(n); }
std::string token_text(int32_t id) { return id < 0 ? "-" : std::to_string(id); }

json value_json(const gguf::Value& v) {
  using gguf::ValueType;
  switch (v.type) {
    case ValueType::UInt8:
    case ValueType::UInt16:
    case ValueType::UInt32:
    case ValueType::UInt64: return v.u;
    case ValueType::Int8:
    case ValueType::Int16:
    case ValueType::Int32:
    case ValueType::Int64: return v.i;
    case ValueType::Float32:
    case ValueType::Float64: return v.f;
    case ValueType::Bool: return v.b;
    case ValueType::String: return v.s;
    case ValueType::Array: {
      json head = json::array();
      for (size_t i = 0; i < v.head.size() && i < kHeadShown; ++i) head.push_back(value_json(v.head[i]));
      return json{{"type", gguf::value_type_name(v.elem_type)}, {"count", v.count}, {"head", head}};
    }
  }
  return nullptr;
}

// One line for text output: scalars as they are, long strings cut, arrays abbreviated.
std::string value_text(const gguf::Value& v) {
  using gguf::ValueType;
  if (v.type == ValueType::String) {
    std::string s = v.s.substr(0, 60);
    for (char& c : s) {
      if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    }
    return "\"" + s + (v.string_length > 60 ? "...\" (" + std::to_string(v.string_length) + " bytes)" : "\"");
  }
  if (v.type == ValueType::Array) {
    std::string out =
        std::string("[") + gguf::value_type_name(v.elem_type) + " x " + std::to_string(v.count) + "]";
    if (!v.head.empty()) {
      out += " ";
      for (size_t i = 0; i < v.head.size() && i < 4; ++i) out += (i ? ", " : "") + value_text(v.head[i]);
      if (v.count > 4) out += ", ...";
    }
    return out;
  }
  return value_json(v).dump();
}

std::string tensor_type_name(uint32_t type) {
  const auto traits = gguf::tensor_type_traits(type);
  return traits ? traits->name : std::to_string(type);
}

std::string shape_text(const gguf::TensorInfo& t) {
  std::string s = "[";
  for (uint32_t d = 0; d < t.n_dims; ++d) s += (d ? ", " : "") + std::to_string(t.ne[d]);
  return s + "]";
}

gguf::MemoryParams memory_params(const InfoOptions& o) {
  gguf::MemoryParams p;
  p.n_ctx = o.ctx_size.value_or(0);
  p.n_seq = o.parallel;
  p.n_gpu_layers = o.gpu_layers;
  p.n_batch = o.batch_size;
  p.n_ubatch = o.ubatch_size;
  p.flash_attn = o.flash_attn == "on";
  p.kv_unified = o.kv_unified;
  return p;
}

// The estimate is shown whenever the model allows one; when the user asked
// for it with explicit settings, failing to make one is an error.
std::optional<gguf::MemoryEstimate> try_estimate(const gguf::GgufFile& file, const gguf::ModelInfo& info,
                                                 const InfoOptions& o) {
  try {
    return gguf::estimate_memory(file, info, memory_params(o));
  } catch (const Error&) {
    if (o.estimate_requested) throw;
    return std::nullopt;
  }
}

json device_json(const gguf::DeviceMemory& d) {
  return json{{"weights", d.weights},
              {"kv_cache", d.kv_cache},
              {"compute", d.compute},
              {"output", d.output},
              {"total", d.total()}};
}

json estimate_json(const gguf::MemoryEstimate& e) {
  return json{{"n_ctx", e.n_ctx},          {"n_ctx_seq", e.n_ctx_seq},   {"n_batch", e.n_batch},
              {"n_ubatch", e.n_ubatch},    {"gpu_layers", e.gpu_layers}, {"flash_attn", e.flash_attn},
              {"cpu", device_json(e.cpu)}, {"gpu", device_json(e.gpu)},  {"total", e.total()}};
}

int print_json(const gguf::GgufFile& file, const gguf::ModelInfo& m,
               const std::optional<gguf::MemoryEstimate>& est, const InfoOptions& o) {
  json j;
  j["path"] = m.path;
  j["file_size"] = m.file_size;
  j["gguf_version"] = m.gguf_version;
  j["architecture"] = m.architecture;
  j["name"] = m.name;
  j["license"] = m.license;
  j["n_params"] = m.n_params;
  j["file_type"] = m.file_type;
  j["file_type_id"] = m.file_type_id ? json(*m.file_type_id) : json(nullptr);
  j["file_type_guessed"] = m.file_type_guessed;
  j["context_length"] = m.context_length;
  j["embedding_length"] = m.embedding_length;
  j["n_layer"] = m.n_layer;
  j["n_head"] = m.n_head;
  j["n_head_kv"] = m.n_head_kv;
  j["n_head_per_layer"] = m.n_head_per_layer;
  j["n_head_kv_per_layer"] = m.n_head_kv_per_layer;
  j["heads_vary_per_layer"] = m.heads_vary_per_layer;
  j["head_dim_k"] = m.head_dim_k;
  j["head_dim_v"] = m.head_dim_v;
  j["ffn_length"] = m.ffn_length;
  j["ffn_length_per_layer"] = m.ffn_length_per_layer;
  j["n_expert"] = m.n_expert;
  j["n_expert_used"] = m.n_expert_used;
  j["vocab_size"] = m.vocab_size;
  j["tokenizer_model"] = m.tokenizer_model;
  j["tokenizer_pre"] = m.tokenizer_pre;
  j["bos_token_id"] = m.bos_token_id;
  j["eos_token_id"] = m.eos_token_id;
  j["pad_token_id"] = m.pad_token_id;
  j["has_chat_template"] = m.has_chat_template;
  j["has_output_tensor"] = m.has_output_tensor;
  j["tied_embeddings"] = m.tied_embeddings;
  j["n_tensors"] = m.n_tensors;
  j["tensor_bytes"] = m.tensor_bytes;
  j["split"] =
      m.split_count == 0
          ? json(nullptr)
          : json{{"no", m.split_no}, {"count", m.split_count}, {"tensors_count", m.split_tensors_count}};
  json meta = json::object();
  for (const auto& kv : file.metadata) meta[kv.key] = value_json(kv.value);
  j["metadata"] = std::move(meta);
  j["memory"] = est ? estimate_json(*est) : json(nullptr);
  if (o.tensors) {
    json list = json::array();
    for (const auto& t : file.tensors) {
      list.push_back(json{{"name", t.name},
                          {"type", tensor_type_name(t.type)},
                          {"shape", std::vector<uint64_t>(t.ne.begin(), t.ne.begin() + t.n_dims)},
                          {"n_elements", t.n_elements},
                          {"n_bytes", t.n_bytes},
                          {"offset", file.data_offset + t.offset}});
    }
    j["tensors"] = std::move(list);
  }
  // Metadata strings come from the file and need not be valid UTF-8.
  std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  return 0;
}

void print_estimate_text(std::ostream& out, const gguf::MemoryEstimate& e, const InfoOptions& o) {
  out << "\nmemory estimate (ctx " << e.n_ctx << ", " << o.parallel
      << (o.parallel == 1 ? " sequence" : " sequences") << ", ubatch " << e.n_ubatch << ", flash attention "
      << (e.flash_attn ? "on" : "off") << ", " << e.gpu_layers << " GPU layers):\n";
  auto line = [&](const char* device, const gguf::DeviceMemory& d) {
    out << "  " << device << "  weights " << format_bytes(d.weights) << ", KV cache "
        << format_bytes(d.kv_cache) << ", compute " << format_bytes(d.compute) << ", output "
        << format_bytes(d.output) << " = " << format_bytes(d.total()) << "\n";
  };
  line("cpu:", e.cpu);
  if (e.gpu_layers > 0) line("gpu:", e.gpu);
  out << "  total: " << format_bytes(e.total()) << "\n";
}

int print_text(const gguf::GgufFile& file, const gguf::ModelInfo& m,
               const std::optional<gguf::MemoryEstimate>& est, const InfoOptions& o) {
  std::vector<std::pair<std::string, std::string>> rows;
  auto row = [&](std::string key, std::string value) { rows.emplace_back(std::move(key), std::move(value)); };
  row("file", m.path);
  row("size", format_bytes(m.file_size) + " (" + std::to_string(m.file_size) + " bytes)");
  row("gguf version", std::to_string(m.gguf_version));
  row("architecture", or_dash(m.architecture));
  row("name", or_dash(m.name));
  row("license", or_dash(m.license));
  row("parameters", format_params(m.n_params) + " (" + std::to_string(m.n_params) + ")");
  row("file type", or_dash(m.file_type) + (m.file_type_guessed ? " (guessed from the tensor types)" : ""));
  row("context length", or_dash(m.context_length));
  row("embedding length", or_dash(m.embedding_length));
  row("layers", or_dash(m.n_layer));
  auto heads = [](uint32_t max, const std::vector<uint32_t>& per_layer) {
    std::string s = or_dash(max);
    bool varies = false;
    for (const uint32_t h : per_layer) varies = varies || h != per_layer.front();
    if (varies) s += " (largest; varies per layer)";
    return s;
  };
  row("heads", heads(m.n_head, m.n_head_per_layer));
  row("kv heads", heads(m.n_head_kv, m.n_head_kv_per_layer));
  row("head dim", m.head_dim_k == m.head_dim_v
                      ? or_dash(m.head_dim_k)
                      : std::to_string(m.head_dim_k) + " (k), " + std::to_string(m.head_dim_v) + " (v)");
  row("ffn length", or_dash(m.ffn_length));
  if (m.n_expert > 0)
    row("experts", std::to_string(m.n_expert_used) + " of " + std::to_string(m.n_expert) + " used");
  row("vocab size", or_dash(m.vocab_size));
  row("tokenizer",
      or_dash(m.tokenizer_model) + (m.tokenizer_pre.empty() ? "" : " (pre: " + m.tokenizer_pre + ")"));
  row("bos / eos", token_text(m.bos_token_id) + " / " + token_text(m.eos_token_id));
  row("chat template",
      m.has_chat_template ? "yes" : "none: chats use ChatML (--chat-template names another)");
  row("output head", m.has_output_tensor ? "separate (output.weight)"
                                         : (m.tied_embeddings ? "tied to token_embd.weight" : "-"));
  row("tensors", std::to_string(m.n_tensors) + " (" + format_bytes(m.tensor_bytes) + ")");
  if (m.split_count > 0) {
    row("split", "part " + std::to_string(m.split_no) + " of " + std::to_string(m.split_count) + " (" +
                     std::to_string(m.split_tensors_count) + " tensors in all)");
  }

  size_t width = 0;
  for (const auto& r : rows) width = std::max(width, r.first.size());
  std::ostringstream out;
  for (const auto& [key, value] : rows)
    out << key << ":" << std::string(width + 2 - key.size(), ' ') << value << "\n";

  if (est) print_estimate_text(out, *est, o);

  if (o.metadata) {
    out << "\nmetadata (" << file.metadata.size() << " keys):\n";
    for (const auto& kv : file.metadata) {
      out << "  " << kv.key << " = " << value_text(kv.value) << "\n";
    }
  }
  if (o.tensors) {
    out << "\ntensors (" << file.tensors.size() << "):\n";
    size_t name_width = 0, type_width = 0, shape_width = 0;
    for (const auto& t : file.tensors) {
      name_width = std::max(name_width, t.name.size());
      type_width = std::max(type_width, tensor_type_name(t.type).size());
      shape_width = std::max(shape_width, shape_text(t).size());
    }
    auto padded = [](const std::string& s, size_t w) { return s + std::string(w - s.size() + 2, ' '); };
    for (const auto& t : file.tensors) {
      out << "  " << padded(t.name, name_width) << padded(tensor_type_name(t.type), type_width)
          << padded(shape_text(t), shape_width) << format_bytes(t.n_bytes) << "\n";
    }
  }
  std::cout << out.str();
  return 0;
}

int run_info(const InfoOptions& o) {
  // A path as it is (the reader says precisely what is wrong with it), or a
  // registry name resolved as `rmm run` resolves it.
  std::error_code ec;
  const bool by_name = !models::looks_like_path(o.file) && !std::filesystem::exists(o.file, ec);
  const gguf::GgufFile file = gguf::read_file(by_name ? resolve_model_argument(o.file).path : o.file);
  const gguf::ModelInfo info = gguf::derive_model_info(file);
  const auto est = try_estimate(file, info, o);
  return o.json ? print_json(file, info, est, o) : print_text(file, info, est, o);
}

}  // namespace

void add_info_command(CLI::App& app, Action& action) {
  CLI::App* sub = app.add_subcommand("info", "Show what a GGUF model file holds and the memory it needs");
  auto o = std::make_shared<InfoOptions>();
  sub->add_option("MODEL", o->file, "GGUF model file, or a model name (as rmm run takes)")->required();
  sub->add_flag("--json", o->json, "Print one JSON object instead of text");
  sub->add_flag("--tensors", o->tensors, "List the tensors");
  sub->add_flag("--metadata", o->metadata, "List every metadata key (JSON output always has them)");
  auto* ctx = sub->add_option("-c,--ctx-size", o->ctx_size, "Context size in tokens (default: the model's)")
                  ->check(CLI::Range(1u, 1u << 26));
  auto* par = sub->add_option("--parallel", o->parallel, "Parallel sequences")->check(CLI::Range(1u, 256u));
  auto* ngl = sub->add_option("--gpu-layers,--n-gpu-layers", o->gpu_layers,
                              "Layers offloaded to the GPU, the output layer first (-1: all)")
                  ->check(CLI::Range(-1, 1 << 20));
  auto* nb = sub->add_option("-b,--batch-size", o->batch_size, "Logical batch size")
                 ->check(CLI::Range(1u, 1u << 26));
  auto* nub = sub->add_option("--ubatch-size", o->ubatch_size, "Physical batch size")
                  ->check(CLI::Range(1u, 1u << 26));
  auto* fa = sub->add_option("--flash-attn", o->flash_attn, "Flash attention: on or off")
                 ->check(CLI::IsMember({"on", "off"}));
  auto* kvu = sub->add_flag("--kv-unified", o->kv_unified, "One KV cache shared by all sequences");
  const char* group = "Memory estimate";
  for (CLI::Option* opt : {ctx, par, ngl, nb, nub, fa, kvu}) opt->group(group);
  sub->callback([&action, o, ctx, par, ngl, nb, nub, fa, kvu] {
    o->estimate_requested =
        ctx->count() + par->count() + ngl->count() + nb->count() + nub->count() + fa->count() + kvu->count() >
        0;
    action = [o] { return run_info(*o); };
  });
}

}  // namespace rmm::cli
