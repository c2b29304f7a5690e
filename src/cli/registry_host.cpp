#include "cli/registry_host.hpp"

namespace rmm::cli {

void host_from_registry(serving::HostOptions& ho, models::Registry& registry) {
  ho.model_dirs = [&registry] { return registry.dirs(); };
  ho.names_of = [&registry](const std::filesystem::path& path) {
    std::vector<std::string> names;
    if (auto r = registry.find_by_path(path)) {
      names.push_back(r->short_name);
      names.insert(names.end(), r->aliases.begin(), r->aliases.end());
    }
    return names;
  };
  ho.catalog = [&registry] {
    registry.scan();
    std::vector<serving::ModelFile> out;
    for (const auto& r : registry.list()) {
      if (r.kind != "chat") continue;
      out.push_back({r.short_name, r.path, static_cast<uintmax_t>(r.size), r.mtime / 1'000'000'000});
    }
    return out;
  };
}

}  // namespace rmm::cli
