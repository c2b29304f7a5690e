#pragma once
// A loaded model: owns the llama_model and answers questions about its
// vocabulary. Shared (shared_ptr) by the contexts that decode with it.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

struct llama_model;
struct llama_vocab;

namespace rmm::engine {

using Token = int32_t;

struct LoadParams {
  std::filesystem::path path;
  int gpu_layers = -1;  // -1: as many as the backend takes (all on GPU builds, none on CPU)
  // The one GPU (ggml device name, "CUDA1") that takes the offloaded layers;
  // empty: llama.cpp's default, split over every GPU. NotFound when unknown.
  std::string gpu_device;
  bool mmap = true;
  bool mlock = false;
  // Only the vocabulary and chat template, no weights (fast): for a server
  // that tokenizes and formats while a worker process holds the weights.
  // Such a model answers no questions about layers or size.
  bool vocab_only = false;
  // Called with 0..1 during loading; return false to cancel.
  std::function<bool(float)> progress;
  // Another way to cancel: set from any thread.
  const std::atomic<bool>* cancel = nullptr;
};

class Model {
 public:
  // Throws rmm::Error: NotFound, BadFile (llama.cpp refused the file), Cancelled.
  static std::shared_ptr<Model> load(const LoadParams& params);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  llama_model* raw() const { return model_; }
  const llama_vocab* vocab() const { return vocab_; }
  const std::filesystem::path& path() const { return path_; }

  int n_vocab() const;
  int n_ctx_train() const;
  int n_layer() const;
  std::string description() const;                 // e.g. "llama 260K all F32"
  std::string chat_template() const;               // empty when the model has none
  std::string meta(const std::string& key) const;  // empty when absent

  Token bos() const;
  bool is_eog(Token t) const;
  // Tokenizes like llama.cpp's tools: add_special adds BOS/EOS per the vocab's
  // settings, parse_special turns "<|...|>" text into control tokens.
  std::vector<Token> tokenize(const std::string& text, bool add_special, bool parse_special) const;
  // A whole prompt as llama.cpp's tools tokenize it (special tokens on, parsed),
  // without a doubled BOS when a chat template already wrote one.
  std::vector<Token> tokenize_prompt(const std::string& text) const;
  // Whether the vocabulary has fill-in-the-middle tokens (prefix, suffix, middle).
  bool has_fill_in_middle() const;
  // A fill-in-the-middle prompt in prefix-suffix-middle order (BOS where the
  // vocabulary adds one, then <prefix> PREFIX <suffix> SUFFIX <middle>): the
  // model writes what goes between. The texts are tokenized without special
  // tokens, so code that contains "<fim_prefix>" stays text. Throws
  // rmm::Error(InvalidArgument) when the model has no such tokens.
  std::vector<Token> fill_in_middle(const std::string& prefix, const std::string& suffix) const;
  // The bytes of one token (may be an incomplete UTF-8 sequence).
  std::string piece(Token t, bool special = false) const;
  // The text of `tokens` as the tokenizer inverts them (llama_detokenize: the
  // space an SPM tokenizer puts before the text is taken off again), special
  // tokens shown. Bytes may end inside a UTF-8 character.
  std::string detokenize(const std::vector<Token>& tokens) const;

 private:
  Model(llama_model* m, std::filesystem::path path);
  llama_model* model_;
  const llama_vocab* vocab_;
  std::filesystem::path path_;
};

}  // namespace rmm::engine
