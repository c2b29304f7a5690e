// `rmm version`: our version, llama.cpp's and ggml's, and what the build can run on.
#include <ggml-backend.h>
#include <ggml.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "engine/backend.hpp"

namespace rmm::cli {
namespace {

struct DeviceInfo {
  std::string name;
  std::string description;
  std::string type;
  size_t memory_total = 0;
  size_t memory_free = 0;
};

struct BackendInfo {
  std::string name;
  std::vector<DeviceInfo> devices;
  std::vector<std::pair<std::string, std::string>> features;  // e.g. {"AVX2", "1"}
};

const char* device_type_name(enum ggml_backend_dev_type type) {
  switch (type) {
    case GGML_BACKEND_DEVICE_TYPE_CPU: return "cpu";
    case GGML_BACKEND_DEVICE_TYPE_GPU: return "gpu";
    case GGML_BACKEND_DEVICE_TYPE_IGPU: return "igpu";
    case GGML_BACKEND_DEVICE_TYPE_ACCEL: return "accel";
    default: return "other";
  }
}

std::vector<BackendInfo> backends() {
  engine::ensure_backend();
  std::vector<BackendInfo> out;
  for (size_t i = 0; i < ggml_backend_reg_count(); ++i) {
    ggml_backend_reg_t reg = ggml_backend_reg_get(i);
    BackendInfo info;
    info.name = ggml_backend_reg_name(reg);
    for (size_t d = 0; d < ggml_backend_reg_dev_count(reg); ++d) {
      ggml_backend_dev_t dev = ggml_backend_reg_dev_get(reg, d);
      DeviceInfo di;
      di.name = ggml_backend_dev_name(dev);
      di.description = ggml_backend_dev_description(dev);
      di.type = device_type_name(ggml_backend_dev_type(dev));
      ggml_backend_dev_memory(dev, &di.memory_free, &di.memory_total);
      info.devices.push_back(std::move(di));
    }
    // Backends may publish their compile-time features (the CPU backend lists its SIMD sets).
    auto get_features = reinterpret_cast<ggml_backend_get_features_t>(
        ggml_backend_reg_get_proc_address(reg, "ggml_backend_get_features"));
    if (get_features) {
      for (const ggml_backend_feature* f = get_features(reg); f && f->name; ++f) {
        info.features.emplace_back(f->name, f->value ? f->value : "");
      }
    }
    out.push_back(std::move(info));
  }
  return out;
}

// llama_print_system_info() ends its list with " | ".
std::string system_info() {
  std::string s = engine::cpu_features();
  while (!s.empty() && (s.back() == ' ' || s.back() == '|')) s.pop_back();
  return s;
}

std::string mib(size_t bytes) { return std::to_string(bytes / (1024 * 1024)) + " MiB"; }

}  // namespace

int print_version_text() {
  std::cout << "rmm " << RMM_VERSION << "\n";
  std::cout << "llama.cpp " << engine::llama_cpp_version() << "\n";
  std::cout << "ggml " << ggml_version() << " (commit " << ggml_commit() << ")\n";
  for (const BackendInfo& b : backends()) {
    std::cout << "backend " << b.name << "\n";
    for (const DeviceInfo& d : b.devices) {
      std::cout << "  device " << d.name << " (" << d.type << "): " << d.description;
      if (d.memory_total > 0) std::cout << ", " << mib(d.memory_free) << " free of " << mib(d.memory_total);
      std::cout << "\n";
    }
    if (!b.features.empty()) {
      std::cout << "  features";
      for (const auto& [name, value] : b.features)
        std::cout << " " << name << (value == "1" ? "" : "=" + value);
      std::cout << "\n";
    }
  }
  std::cout << "system " << system_info() << "\n";
  return 0;
}

namespace {

int print_json() {
  nlohmann::json j;
  j["rmm"] = RMM_VERSION;
  j["llama_cpp"] = engine::llama_cpp_version();
  j["ggml"] = {{"version", ggml_version()}, {"commit", ggml_commit()}};
  j["backends"] = nlohmann::json::array();
  for (const BackendInfo& b : backends()) {
    nlohmann::json jb;
    jb["name"] = b.name;
    jb["devices"] = nlohmann::json::array();
    for (const DeviceInfo& d : b.devices) {
      jb["devices"].push_back({{"name", d.name},
                               {"description", d.description},
                               {"type", d.type},
                               {"memory_total", d.memory_total},
                               {"memory_free", d.memory_free}});
    }
    jb["features"] = nlohmann::json::object();
    for (const auto& [name, value] : b.features) jb["features"][name] = value;
    j["backends"].push_back(std::move(jb));
  }
  j["system_info"] = system_info();
  std::cout << j.dump(2) << "\n";
  return 0;
}

}  // namespace

void add_version_command(CLI::App& app, Action& action) {
  CLI::App* sub =
      app.add_subcommand("version", "Show the versions of rmm and llama.cpp and the compiled backends");
  auto json = std::make_shared<bool>(false);
  sub->add_flag("--json", *json, "Print JSON instead of text");
  sub->callback([&action, json] { action = [json] { return *json ? print_json() : print_version_text(); }; });
}

}  // namespace rmm::cli
