#include "forge/forge_fixture.hpp"

#include <ggml.h>
#include <gguf.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <sstream>

namespace rmm::test {
namespace {

void init_llama() {
  static std::once_flag once;
  std::call_once(once, [] {
    llama_log_set([](ggml_log_level, const char*, void*) {}, nullptr);
    llama_backend_init();
  });
}

}  // namespace

ProcessResult rmm_forge(const std::filesystem::path& out, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {rmm_binary().string(), "forge", out.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  if (std::find(args.begin(), args.end(), "--threads") == args.end())
    argv.insert(argv.end(), {"--threads", "1"});
  return rmm::run_process(argv);
}

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::filesystem::path llama_vocab_file(const std::string& name) {
  return llama_source_dir() / "models" / ("ggml-vocab-" + name + ".gguf");
}

ModelPtr load_with_llama(const std::filesystem::path& file, bool vocab_only) {
  init_llama();
  llama_model_params params = llama_model_default_params();
  params.vocab_only = vocab_only;
  params.check_tensors = true;
  params.use_extra_bufts = false;
  return ModelPtr(llama_model_load_from_file(file.string().c_str(), params));
}

std::string llama_meta(const llama_model* model, const std::string& key) {
  char buf[4096];
  const int n = llama_model_meta_val_str(model, key.c_str(), buf, sizeof buf);
  return n < 0 ? std::string() : std::string(buf);
}

std::string gguf_tensor_type(const std::filesystem::path& file, const std::string& tensor) {
  gguf_init_params params{};
  params.no_alloc = true;
  gguf_context* ctx = gguf_init_from_file(file.string().c_str(), params);
  if (!ctx) return "(unreadable)";
  const int64_t id = gguf_find_tensor(ctx, tensor.c_str());
  std::string type = id < 0 ? "(absent)" : ggml_type_name(gguf_get_tensor_type(ctx, id));
  gguf_free(ctx);
  return type;
}

}  // namespace rmm::test
