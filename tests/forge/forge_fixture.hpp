#pragma once
// Helpers for the forge tests: run `rmm forge`, read files, and load the
// result with llama.cpp's own API as an independent check.
#include <llama.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/subprocess.hpp"
#include "support/test_env.hpp"

namespace rmm::test {

// Runs `rmm forge OUT ARGS...`, with --threads 1 unless ARGS say otherwise.
ProcessResult rmm_forge(const std::filesystem::path& out, const std::vector<std::string>& args);

std::string read_file(const std::filesystem::path& file);

// llama.cpp's vocab-only file ggml-vocab-NAME.gguf in its source tree.
std::filesystem::path llama_vocab_file(const std::string& name);

struct ModelDeleter {
  void operator()(llama_model* m) const { llama_model_free(m); }
};
using ModelPtr = std::unique_ptr<llama_model, ModelDeleter>;

// Loads with llama.cpp directly (tensor data validated, no weight repacking:
// the AMX repack path crashes on some virtual machines).
ModelPtr load_with_llama(const std::filesystem::path& file, bool vocab_only = false);

// A metadata value as llama.cpp reads it; "" when absent.
std::string llama_meta(const llama_model* model, const std::string& key);

// The types of the named tensors, read with ggml's gguf API.
std::string gguf_tensor_type(const std::filesystem::path& file, const std::string& tensor);

}  // namespace rmm::test
