#pragma once
// The forge borrows a real tokenizer: every tokenizer.* key of a GGUF file,
// usually one of llama.cpp's vocab-only files (models/ggml-vocab-NAME.gguf).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

struct gguf_context;

namespace rmm::forge {

// $RMM_VOCAB_DIR, else llama.cpp's models/ folder as found at build time.
std::filesystem::path vocab_dir();
// The names `--vocab NAME` accepts in vocab_dir(), sorted.
std::vector<std::string> available_vocabs();
// A path (anything with a '/' or ending in .gguf) is used as is; a NAME
// becomes vocab_dir()/ggml-vocab-NAME.gguf. Throws rmm::Error(NotFound).
std::filesystem::path resolve_vocab(const std::string& name_or_file);

class VocabFile {
 public:
  // Reads only the metadata. Throws rmm::Error: NotFound, or BadFile when the
  // file is not a GGUF or has no usable tokenizer.
  explicit VocabFile(const std::filesystem::path& file);
  ~VocabFile();
  VocabFile(const VocabFile&) = delete;
  VocabFile& operator=(const VocabFile&) = delete;

  const std::filesystem::path& file() const { return file_; }
  uint32_t n_tokens() const { return n_tokens_; }
  // Copies every tokenizer.* key (tokens, scores, types, merges, special ids,
  // chat template, ...) into `dst`, in the file's order.
  void copy_tokenizer_keys(gguf_context* dst) const;

 private:
  std::filesystem::path file_;
  gguf_context* ctx_ = nullptr;
  uint32_t n_tokens_ = 0;
};

}  // namespace rmm::forge
