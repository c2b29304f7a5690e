#pragma once
// The one place the GGUF parser asks ggml about tensor types: the parser
// itself stays free of ggml's own GGUF code, and the fuzz build needs only
// ggml-base for this table.
#include <cstdint>
#include <optional>

namespace rmm::gguf {

struct TensorTypeTraits {
  const char* name;     // ggml's name, e.g. "f32", "q8_0"
  uint64_t type_size;   // bytes per block
  uint64_t block_size;  // elements per block
};

// Traits of a ggml_type id read from a file; nullopt for ids this ggml does
// not know (out of range, or types that were removed and have no size).
std::optional<TensorTypeTraits> tensor_type_traits(uint32_t type_id);

}  // namespace rmm::gguf
