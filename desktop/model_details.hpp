#pragma once
// What the Models screen shows of one model beside the table, and what a
// load of it would take: copied out of the registry's record and the model
// host's preview on the worker thread (the functions below run there only),
// so that the UI never touches the core.
#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QVector>

namespace rmm::desktop {

class AppCore;

struct ModelDetails {
  QString name;  // the registry's short name
  QString path;
  QString kind;
  QString title;  // general.name
  QString architecture;
  QString quantization;
  qint64 parameters = 0;
  qint64 size = 0;
  int context = 0;  // trained
  int layers = 0;
  int embedding = 0;
  bool chatTemplate = false;
  QString sha256;  // "" until the registry has hashed it
  QString error;   // why the registry could not read it
};

// The memory planner's figures for a load of one model with the host's settings.
struct LoadPlan {
  struct Device {
    QString name;  // "CPU", "CUDA0"
    bool gpu = false;
    qint64 needed = 0;
    qint64 available = 0;
  };
  QString id;
  QString path;
  bool loaded = false;  // loaded already, as it would be used
  bool fits = false;
  QString refusal;  // the host's message when it does not fit
  QVector<Device> devices;
  int gpuLayers = 0;
  int maxLayers = 0;
  int context = 0;  // tokens per conversation
  int conversations = 1;
  int trained = 0;
  QStringList evict;  // idle models the load would unload first
};

// The registry's record of the model at `path` (its metadata read when it was scanned).
ModelDetails read_details(AppCore& core, const QString& path);
// What the host would do to load `path` with `numCtx` tokens per conversation (0: its choice).
LoadPlan preview_load(AppCore& core, const QString& path, int numCtx);
// The models the host holds now, by the host's id (the registry's short name).
QStringList loaded_models(AppCore& core);

}  // namespace rmm::desktop

Q_DECLARE_METATYPE(rmm::desktop::ModelDetails)
Q_DECLARE_METATYPE(rmm::desktop::LoadPlan)
