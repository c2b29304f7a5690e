#include "gguf/tensor_types.hpp"

#include <ggml.h>

namespace rmm::gguf {

std::optional<TensorTypeTraits> tensor_type_traits(uint32_t type_id) {
  if (type_id >= static_cast<uint32_t>(GGML_TYPE_COUNT)) return std::nullopt;
  const auto type = static_cast<ggml_type>(type_id);
  const size_t type_size = ggml_type_size(type);
  const int64_t block_size = ggml_blck_size(type);
  if (type_size == 0 || block_size <= 0) return std::nullopt;  // a removed type
  return TensorTypeTraits{ggml_type_name(type), type_size, static_cast<uint64_t>(block_size)};
}

}  // namespace rmm::gguf
