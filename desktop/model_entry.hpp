#pragma once
// One model of the registry as the desktop shows it (copied out of the
// store's record on the worker thread, so the UI never touches the store).
#include <QMetaType>
#include <QString>
#include <QVector>

namespace rmm::desktop {

struct ModelEntry {
  QString name;  // the registry's short name
  QString path;
  QString kind;  // chat | embedding | reranker | mmproj | needs-conversion | invalid
  QString quantization;
  qint64 size = 0;        // bytes
  qint64 parameters = 0;  // 0: unknown
  int context = 0;        // training context, 0: unknown
};

using ModelList = QVector<ModelEntry>;

}  // namespace rmm::desktop

Q_DECLARE_METATYPE(rmm::desktop::ModelEntry)
Q_DECLARE_METATYPE(rmm::desktop::ModelList)
