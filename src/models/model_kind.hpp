#pragma once
// What a model file is for, read from its GGUF metadata (or its extension
// for formats llama.cpp cannot load), so that lists can say "embedding" or
// "needs conversion" and loaders can refuse the wrong kind early.
#include <filesystem>
#include <optional>
#include <string>

#include "gguf/reader.hpp"

namespace rmm::models {

enum class ModelKind {
  Chat,             // a text generation model (the default for GGUF)
  Embedding,        // bert-like encoders and models with a pooling type
  Reranker,         // rank pooling or a classifier head
  VisionProjector,  // clip / mmproj files that go with a vision chat model
  NeedsConversion,  // safetensors or PyTorch weights: convert to GGUF first
  Invalid,          // a .gguf that does not parse (the error is kept)
};

const char* kind_name(
    ModelKind kind);  // "chat", "embedding", "reranker", "mmproj", "needs-conversion", "invalid"
std::optional<ModelKind> parse_kind(const std::string& name);

ModelKind detect_kind(const gguf::GgufFile& file);

// "safetensors" or "pytorch" for weight files that need conversion, nullopt otherwise.
std::optional<std::string> conversion_format(const std::filesystem::path& file);

}  // namespace rmm::models
