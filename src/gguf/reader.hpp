#pragma once
// A strict GGUF reader: header, metadata and tensor infos, never tensor data.
// Everything read from the file is checked against what the file can hold,
// so hostile or truncated input gives rmm::Error(BadFile, "<file>: <problem>")
// and never a crash or a huge allocation. Versions 2 and 3 are supported.
#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/value.hpp"

namespace rmm::gguf {

struct KeyValue {
  std::string key;
  Value value;
};

struct TensorInfo {
  std::string name;
  uint32_t n_dims = 0;
  std::array<uint64_t, 4> ne{1, 1, 1, 1};  // elements per dimension, unused ones are 1
  uint32_t type = 0;                       // a ggml_type id known to ggml
  uint64_t offset = 0;                     // from the start of the data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
};

struct GgufFile {
  std::string name;  // the path or buffer name used in error messages
  uint32_t version = 0;
  uint64_t file_size = 0;
  uint64_t alignment = 32;
  uint64_t data_offset = 0;  // absolute offset of the tensor data section
  std::vector<KeyValue> metadata;
  std::vector<TensorInfo> tensors;

  const Value* find(std::string_view key) const;
  const TensorInfo* find_tensor(std::string_view tensor_name) const;
};

// Hard limits on top of "must fit in the remaining bytes".
inline constexpr uint64_t kMaxKeyValues = 1u << 20;
inline constexpr uint64_t kMaxTensors = 1u << 20;
inline constexpr uint64_t kMaxKeyBytes = 65535;
inline constexpr uint64_t kMaxTensorNameBytes = 63;  // ggml keeps names in 64 bytes with the NUL
inline constexpr int kMaxArrayDepth = 4;

// Throws rmm::Error: NotFound when the path does not exist, BadFile otherwise.
GgufFile read_file(const std::filesystem::path& path);
// Parses a GGUF image held in memory (what the fuzzer feeds); `name` prefixes errors.
GgufFile read_buffer(std::span<const uint8_t> data, const std::string& name = "<buffer>");

}  // namespace rmm::gguf
