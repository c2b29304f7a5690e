#include "model_details.hpp"

#include <nlohmann/json.hpp>

#include "app_core.hpp"
#include "core/error.hpp"
#include "serving/model_host.hpp"

namespace rmm::desktop {

namespace {

QString text(const std::string& s) { return QString::fromStdString(s); }

}  // namespace

ModelDetails read_details(AppCore& core, const QString& path) {
  const auto r = core.registry().find_by_path(path.toStdString());
  if (!r) throw Error(ErrorKind::NotFound, "'" + path.toStdString() + "' is not in the library (any more)");
  ModelDetails d;
  d.name = text(r->short_name);
  d.path = text(r->path);
  d.kind = text(r->kind);
  d.size = r->size;
  d.sha256 = text(r->sha256);
  const auto meta = nlohmann::json::parse(r->metadata_json, nullptr, false);
  if (!meta.is_object()) return d;
  auto str = [&](const char* key) {
    const auto it = meta.find(key);
    return it != meta.end() && it->is_string() ? text(it->get<std::string>()) : QString();
  };
  auto num = [&](const char* key) -> qint64 {
    const auto it = meta.find(key);
    return it != meta.end() && it->is_number() ? it->get<qint64>() : 0;
  };
  d.title = str("name");
  d.architecture = str("architecture");
  d.quantization = str("quantization");
  d.error = str("error");
  d.parameters = num("parameters");
  d.context = static_cast<int>(num("context_length"));
  d.layers = static_cast<int>(num("layers"));
  d.embedding = static_cast<int>(num("embedding_length"));
  const auto t = meta.find("chat_template");
  d.chatTemplate = t != meta.end() && t->is_boolean() && t->get<bool>();
  return d;
}

LoadPlan preview_load(AppCore& core, const QString& path, int numCtx) {
  serving::UseOptions use;
  use.local = true;  // the user picked it from the library
  use.num_ctx = numCtx;
  const auto p = core.host().preview(path.toStdString(), use);
  LoadPlan out;
  out.id = text(p.id);
  out.path = text(p.path.string());
  out.loaded = p.loaded;
  out.fits = p.fits();
  out.refusal = text(p.refusal);
  for (const auto& d : p.plan.devices)
    out.devices.push_back(
        {text(d.device), d.gpu, static_cast<qint64>(d.need.total()), static_cast<qint64>(d.available)});
  out.gpuLayers = p.plan.gpu_layers;
  out.maxLayers = p.plan.max_layers;
  out.conversations = std::max(p.context.n_seq, 1);
  out.context = p.context.kv_unified ? p.context.n_ctx : p.context.n_ctx / out.conversations;
  out.trained = p.n_ctx_train;
  for (const auto& id : p.evict) out.evict << text(id);
  return out;
}

QStringList loaded_models(AppCore& core) {
  QStringList out;
  for (const auto& m : core.host().loaded()) out << text(m->id);
  return out;
}

}  // namespace rmm::desktop
