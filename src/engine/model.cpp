#include "engine/model.hpp"

#include <ggml-backend.h>
#include <llama.h>

#include "core/error.hpp"
#include "engine/backend.hpp"
#include "gguf/reader.hpp"

namespace rmm::engine {
namespace {

struct ProgressState {
  const LoadParams* params;
  bool cancelled = false;
};

bool on_progress(float p, void* user) {
  auto* st = static_cast<ProgressState*>(user);
  if (st->params->cancel && st->params->cancel->load()) st->cancelled = true;
  if (!st->cancelled && st->params->progress && !st->params->progress(p)) st->cancelled = true;
  return !st->cancelled;
}

// What llama.cpp would only report as a generic failure: our own reader
// names the problem (NotFound, or BadFile "PATH: why"), as `rmm info` does.
// It reads the header and tensor infos only, never the weights.
void check_file(const std::filesystem::path& path) { (void)gguf::read_file(path); }

}  // namespace

std::shared_ptr<Model> Model::load(const LoadParams& params) {
  ensure_backend();
  check_file(params.path);
  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = params.gpu_layers;
  mp.vocab_only = params.vocab_only;
  ggml_backend_dev_t only[2] = {nullptr, nullptr};  // NULL-terminated, read during the load
  if (!params.gpu_device.empty()) {
    only[0] = ggml_backend_dev_by_name(params.gpu_device.c_str());
    if (!only[0]) throw Error(ErrorKind::NotFound, "no GPU named " + params.gpu_device);
    mp.devices = only;
  }
  mp.load_mode = params.mmap ? (params.mlock ? LLAMA_LOAD_MODE_MMAP_MLOCK : LLAMA_LOAD_MODE_MMAP)
                             : (params.mlock ? LLAMA_LOAD_MODE_MLOCK : LLAMA_LOAD_MODE_NONE);
  ProgressState st{&params};
  mp.progress_callback = on_progress;
  mp.progress_callback_user_data = &st;
  llama_model* m = llama_model_load_from_file(params.path.c_str(), mp);
  if (!m) {
    if (st.cancelled) throw Error(ErrorKind::Cancelled, params.path.string() + ": loading cancelled");
    throw Error(ErrorKind::BadFile,
                params.path.string() +
                    ": llama.cpp could not load this model (unsupported architecture, "
                    "corrupt or truncated file; --log-level debug shows llama.cpp's reason)");
  }
  return std::shared_ptr<Model>(new Model(m, params.path));
}

Model::Model(llama_model* m, std::filesystem::path path)
    : model_(m), vocab_(llama_model_get_vocab(m)), path_(std::move(path)) {}

Model::~Model() { llama_model_free(model_); }

int Model::n_vocab() const { return llama_vocab_n_tokens(vocab_); }
int Model::n_ctx_train() const { return llama_model_n_ctx_train(model_); }
int Model::n_layer() const { return llama_model_n_layer(model_); }

std::string Model::description() const {
  char buf[256];
  const int n = llama_model_desc(model_, buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

std::string Model::chat_template() const {
  const char* t = llama_model_chat_template(model_, nullptr);
  return t ? t : "";
}

std::string Model::meta(const std::string& key) const {
  const int n = llama_model_meta_val_str(model_, key.c_str(), nullptr, 0);
  if (n < 0) return "";
  std::string out(static_cast<size_t>(n) + 1, '\0');
  llama_model_meta_val_str(model_, key.c_str(), out.data(), out.size());
  out.resize(static_cast<size_t>(n));
  return out;
}

Token Model::bos() const { return llama_vocab_bos(vocab_); }
bool Model::is_eog(Token t) const { return llama_vocab_is_eog(vocab_, t); }

std::vector<Token> Model::tokenize(const std::string& text, bool add_special, bool parse_special) const {
  std::vector<Token> out(text.size() + 8);
  int n = llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), out.data(),
                         static_cast<int32_t>(out.size()), add_special, parse_special);
  if (n < 0) {
    out.resize(static_cast<size_t>(-n));
    n = llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), out.data(),
                       static_cast<int32_t>(out.size()), add_special, parse_special);
  }
  if (n < 0) throw Error(ErrorKind::InvalidArgument, "the prompt could not be tokenized");
  out.resize(static_cast<size_t>(n));
  return out;
}

std::vector<Token> Model::tokenize_prompt(const std::string& text) const {
  auto tokens = tokenize(text, true, true);
  const Token b = bos();
  if (tokens.size() >= 2 && b != LLAMA_TOKEN_NULL && tokens[0] == b && tokens[1] == b)
    tokens.erase(tokens.begin());
  return tokens;
}

bool Model::has_fill_in_middle() const {
  return llama_vocab_fim_pre(vocab_) != LLAMA_TOKEN_NULL && llama_vocab_fim_suf(vocab_) != LLAMA_TOKEN_NULL &&
         llama_vocab_fim_mid(vocab_) != LLAMA_TOKEN_NULL;
}

std::vector<Token> Model::fill_in_middle(const std::string& prefix, const std::string& suffix) const {
  if (!has_fill_in_middle())
    throw Error(ErrorKind::InvalidArgument, "the model has no fill-in-the-middle tokens");
  std::vector<Token> out;
  if (llama_vocab_get_add_bos(vocab_) && bos() != LLAMA_TOKEN_NULL) out.push_back(bos());
  out.push_back(llama_vocab_fim_pre(vocab_));
  const auto pre = tokenize(prefix, false, false);
  out.insert(out.end(), pre.begin(), pre.end());
  out.push_back(llama_vocab_fim_suf(vocab_));
  const auto suf = tokenize(suffix, false, false);
  out.insert(out.end(), suf.begin(), suf.end());
  out.push_back(llama_vocab_fim_mid(vocab_));
  return out;
}

std::string Model::piece(Token t, bool special) const {
  char buf[128];
  int n = llama_token_to_piece(vocab_, t, buf, sizeof buf, 0, special);
  if (n >= 0) return std::string(buf, static_cast<size_t>(n));
  std::string big(static_cast<size_t>(-n), '\0');
  n = llama_token_to_piece(vocab_, t, big.data(), static_cast<int32_t>(big.size()), 0, special);
  return n >= 0 ? big.substr(0, static_cast<size_t>(n)) : std::string();
}

std::string Model::detokenize(const std::vector<Token>& tokens) const {
  std::string out(tokens.size() * 8 + 16, '\0');
  const auto n_tokens = static_cast<int32_t>(tokens.size());
  int32_t n = llama_detokenize(vocab_, tokens.data(), n_tokens, out.data(), static_cast<int32_t>(out.size()),
                               false, true);
  if (n < 0) {
    out.resize(static_cast<size_t>(-n));
    n = llama_detokenize(vocab_, tokens.data(), n_tokens, out.data(), static_cast<int32_t>(out.size()), false,
                         true);
  }
  if (n < 0) throw Error(ErrorKind::Internal, "the tokens could not be turned into text");
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace rmm::engine
