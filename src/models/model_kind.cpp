#include "models/model_kind.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

namespace rmm::models {

namespace {

constexpr std::array<const char*, 6> kNames = {"chat",   "embedding",        "reranker",
                                               "mmproj", "needs-conversion", "invalid"};

// Encoder-only architectures llama.cpp runs as embedding models.
constexpr std::array<std::string_view, 9> kEmbeddingArchitectures = {
    "bert",     "nomic-bert",  "nomic-bert-moe", "jina-bert-v2", "jina-bert-v3",
    "neo-bert", "modern-bert", "t5encoder",      "gte"};

// llama.cpp's pooling types: 0 none, 1 mean, 2 cls, 3 last, 4 rank.
constexpr int64_t kPoolingRank = 4;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string string_value(const gguf::GgufFile& file, const std::string& key) {
  const gguf::Value* v = file.find(key);
  return v && v->type == gguf::ValueType::String ? v->s : std::string();
}

}  // namespace

const char* kind_name(ModelKind kind) { return kNames.at(static_cast<size_t>(kind)); }

std::optional<ModelKind> parse_kind(const std::string& name) {
  for (size_t i = 0; i < kNames.size(); ++i)
    if (name == kNames[i]) return static_cast<ModelKind>(i);
  return std::nullopt;
}

ModelKind detect_kind(const gguf::GgufFile& file) {
  const std::string arch = lower(string_value(file, "general.architecture"));
  const std::string type = lower(string_value(file, "general.type"));
  if (type == "mmproj" || arch == "clip" || arch == "mmproj") return ModelKind::VisionProjector;
  if (type == "reranker" || type == "rerank") return ModelKind::Reranker;
  if (file.find(arch + ".classifier.output_labels")) return ModelKind::Reranker;
  std::optional<int64_t> pooling;
  if (const gguf::Value* v = file.find(arch + ".pooling_type")) pooling = v->as_int();
  if (pooling == kPoolingRank) return ModelKind::Reranker;
  if (type == "embedding") return ModelKind::Embedding;
  if (std::find(kEmbeddingArchitectures.begin(), kEmbeddingArchitectures.end(), arch) !=
      kEmbeddingArchitectures.end())
    return ModelKind::Embedding;
  // A decoder with a pooling type set is converted for embeddings (e.g. Qwen3-Embedding).
  if (pooling && *pooling > 0) return ModelKind::Embedding;
  return ModelKind::Chat;
}

std::optional<std::string> conversion_format(const std::filesystem::path& file) {
  const std::string ext = lower(file.extension().string());
  if (ext == ".safetensors") return "safetensors";
  if (ext == ".bin" || ext == ".pt" || ext == ".pth") return "pytorch";
  return std::nullopt;
}

}  // namespace rmm::models
