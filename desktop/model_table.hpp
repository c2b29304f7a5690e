#pragma once
// The registry's models as a table: name, size, quantization, parameters,
// context, kind.
#include <QAbstractTableModel>

#include "model_entry.hpp"

namespace rmm::desktop {

class ModelTable : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { Name, Size, Quantization, Parameters, Context, Kind, ColumnCount };

  explicit ModelTable(QObject* parent = nullptr);
  void setModels(const ModelList& models);
  const ModelList& models() const { return models_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  static QVariant alignment(int column);  // numbers right, text left (header and cells alike)

  ModelList models_;
};

// 1185376 → "1.1 MiB"; 292000 parameters → "292K".
QString format_bytes(qint64 bytes);
QString format_count(qint64 n);

}  // namespace rmm::desktop
