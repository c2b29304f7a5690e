#include "engine/backend.hpp"

#include <ggml-backend.h>
#include <llama.h>

#include <mutex>

#include "core/log.hpp"

namespace rmm::engine {

void ensure_backend() {
  static std::once_flag once;
  std::call_once(once, [] {
    log::route_llama_log();
    llama_backend_init();
  });
}

std::string llama_cpp_version() {
  const char* v = llama_version();
  return v ? v : "unknown";
}

std::vector<std::string> compiled_backends() {
  ensure_backend();
  std::vector<std::string> names;
  for (size_t i = 0; i < ggml_backend_reg_count(); ++i)
    names.emplace_back(ggml_backend_reg_name(ggml_backend_reg_get(i)));
  return names;
}

std::vector<Device> devices() {
  ensure_backend();
  std::vector<Device> out;
  for (size_t i = 0; i < ggml_backend_dev_count(); ++i) {
    ggml_backend_dev_t dev = ggml_backend_dev_get(i);
    Device d;
    d.name = ggml_backend_dev_name(dev);
    d.description = ggml_backend_dev_description(dev);
    switch (ggml_backend_dev_type(dev)) {
      case GGML_BACKEND_DEVICE_TYPE_CPU: d.type = "cpu"; break;
      case GGML_BACKEND_DEVICE_TYPE_GPU: d.type = "gpu"; break;
      case GGML_BACKEND_DEVICE_TYPE_IGPU: d.type = "igpu"; break;
      default: d.type = "accel"; break;
    }
    ggml_backend_dev_memory(dev, &d.memory_free, &d.memory_total);
    out.push_back(std::move(d));
  }
  return out;
}

std::string cpu_features() {
  ensure_backend();
  return llama_print_system_info();
}

}  // namespace rmm::engine
