#include "forge/vocab.hpp"

#include <gguf.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "core/error.hpp"

#ifndef RMM_FORGE_VOCAB_DIR
#define RMM_FORGE_VOCAB_DIR ""
#endif

namespace rmm::forge {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPrefix = "ggml-vocab-";
constexpr const char* kSuffix = ".gguf";
// The largest real vocabularies are ~262k tokens; more is a broken file.
constexpr size_t kMaxTokens = 4u << 20;

bool starts_with(const char* s, const char* prefix) {
  return std::strncmp(s, prefix, std::strlen(prefix)) == 0;
}

[[noreturn]] void bad_file(const fs::path& file, const std::string& what) {
  throw Error(ErrorKind::BadFile, "vocab file " + file.string() + ": " + what);
}

void copy_key(gguf_context* dst, const gguf_context* src, int64_t id, const fs::path& file) {
  const char* key = gguf_get_key(src, id);
  const gguf_type type = gguf_get_kv_type(src, id);
  switch (type) {
    case GGUF_TYPE_UINT8: gguf_set_val_u8(dst, key, gguf_get_val_u8(src, id)); return;
    case GGUF_TYPE_INT8: gguf_set_val_i8(dst, key, gguf_get_val_i8(src, id)); return;
    case GGUF_TYPE_UINT16: gguf_set_val_u16(dst, key, gguf_get_val_u16(src, id)); return;
    case GGUF_TYPE_INT16: gguf_set_val_i16(dst, key, gguf_get_val_i16(src, id)); return;
    case GGUF_TYPE_UINT32: gguf_set_val_u32(dst, key, gguf_get_val_u32(src, id)); return;
    case GGUF_TYPE_INT32: gguf_set_val_i32(dst, key, gguf_get_val_i32(src, id)); return;
    case GGUF_TYPE_FLOAT32: gguf_set_val_f32(dst, key, gguf_get_val_f32(src, id)); return;
    case GGUF_TYPE_UINT64: gguf_set_val_u64(dst, key, gguf_get_val_u64(src, id)); return;
    case GGUF_TYPE_INT64: gguf_set_val_i64(dst, key, gguf_get_val_i64(src, id)); return;
    case GGUF_TYPE_FLOAT64: gguf_set_val_f64(dst, key, gguf_get_val_f64(src, id)); return;
    case GGUF_TYPE_BOOL: gguf_set_val_bool(dst, key, gguf_get_val_bool(src, id)); return;
    case GGUF_TYPE_STRING: gguf_set_val_str(dst, key, gguf_get_val_str(src, id)); return;
    case GGUF_TYPE_ARRAY: break;
    default: bad_file(file, std::string("key ") + key + " has an unknown type");
  }
  const gguf_type elem = gguf_get_arr_type(src, id);
  const size_t n = gguf_get_arr_n(src, id);
  if (elem == GGUF_TYPE_STRING) {
    std::vector<const char*> strings(n);
    for (size_t i = 0; i < n; ++i) strings[i] = gguf_get_arr_str(src, id, i);
    gguf_set_arr_str(dst, key, strings.data(), n);
  } else if (elem == GGUF_TYPE_ARRAY || elem >= GGUF_TYPE_COUNT) {
    bad_file(file, std::string("key ") + key + " is an array of an unsupported type");
  } else {
    gguf_set_arr_data(dst, key, elem, gguf_get_arr_data(src, id), n);
  }
}

}  // namespace

fs::path vocab_dir() {
  const char* env = std::getenv("RMM_VOCAB_DIR");
  return (env && *env) ? fs::path(env) : fs::path(RMM_FORGE_VOCAB_DIR);
}

std::vector<std::string> available_vocabs() {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(vocab_dir(), ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().string();
    const size_t prefix = std::strlen(kPrefix), suffix = std::strlen(kSuffix);
    if (file.size() > prefix + suffix && file.starts_with(kPrefix) && file.ends_with(kSuffix)) {
      names.push_back(file.substr(prefix, file.size() - prefix - suffix));
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

fs::path resolve_vocab(const std::string& name_or_file) {
  if (name_or_file.empty()) throw Error(ErrorKind::InvalidArgument, "the vocab name is empty");
  std::error_code ec;
  const bool is_path = name_or_file.find('/') != std::string::npos || name_or_file.ends_with(kSuffix);
  if (is_path) {
    if (!fs::is_regular_file(name_or_file, ec)) {
      throw Error(ErrorKind::NotFound, "vocab file " + name_or_file + " does not exist");
    }
    return name_or_file;
  }
  const fs::path file = vocab_dir() / (kPrefix + name_or_file + kSuffix);
  if (!fs::is_regular_file(file, ec)) {
    std::string known;
    for (const auto& n : available_vocabs()) known += (known.empty() ? "" : ", ") + n;
    throw Error(ErrorKind::NotFound, "no vocab named '" + name_or_file + "' in " + vocab_dir().string() +
                                         (known.empty() ? " (set RMM_VOCAB_DIR or pass a .gguf file)"
                                                        : " (known: " + known + ")"));
  }
  return file;
}

VocabFile::VocabFile(const fs::path& file) : file_(file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec))
    throw Error(ErrorKind::NotFound, "vocab file " + file.string() + " does not exist");
  gguf_init_params params{};
  params.no_alloc = true;
  params.ctx = nullptr;
  ctx_ = gguf_init_from_file(file.string().c_str(), params);
  if (!ctx_) bad_file(file, "not a readable GGUF file");

  const int64_t model = gguf_find_key(ctx_, "tokenizer.ggml.model");
  const int64_t tokens = gguf_find_key(ctx_, "tokenizer.ggml.tokens");
  try {
    if (model < 0 || gguf_get_kv_type(ctx_, model) != GGUF_TYPE_STRING) {
      bad_file(file, "has no tokenizer (tokenizer.ggml.model is missing)");
    }
    if (tokens < 0 || gguf_get_kv_type(ctx_, tokens) != GGUF_TYPE_ARRAY ||
        gguf_get_arr_type(ctx_, tokens) != GGUF_TYPE_STRING) {
      bad_file(file, "has no token list (tokenizer.ggml.tokens)");
    }
    const size_t n = gguf_get_arr_n(ctx_, tokens);
    if (n == 0 || n > kMaxTokens) bad_file(file, "has " + std::to_string(n) + " tokens");
    n_tokens_ = static_cast<uint32_t>(n);
  } catch (...) {
    gguf_free(ctx_);
    throw;
  }
}

VocabFile::~VocabFile() { gguf_free(ctx_); }

void VocabFile::copy_tokenizer_keys(gguf_context* dst) const {
  const int64_t n_kv = gguf_get_n_kv(ctx_);
  for (int64_t id = 0; id < n_kv; ++id) {
    if (starts_with(gguf_get_key(ctx_, id), "tokenizer.")) copy_key(dst, ctx_, id, file_);
  }
}

}  // namespace rmm::forge
