#pragma once
// The registry's models as a table: name, size, quantization, parameters,
// context, kind, and whether the host holds it loaded.
#include <QAbstractTableModel>
#include <QSet>
#include <QStringList>

#include "model_entry.hpp"

namespace rmm::desktop {

class ModelTable : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { Name, Size, Quantization, Parameters, Context, Kind, State, ColumnCount };

  explicit ModelTable(QObject* parent = nullptr);
  void setModels(const ModelList& models);
  const ModelList& models() const { return models_; }
  // The models the host holds now, by name (the host's ids are the registry's short names).
  void setLoaded(const QStringList& names);
  bool isLoaded(int row) const;
  void setLoading(const QString& name);  // "" : none
  int rowOf(const QString& name) const;  // -1 when not listed

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  static QVariant alignment(int column);  // numbers right, text left (header and cells alike)

  ModelList models_;
  QSet<QString> loaded_;
  QString loading_;
};

// 1185376 → "1.1 MiB"; 292000 parameters → "292K"; 2048 → "2,048".
QString format_bytes(qint64 bytes);
QString format_number(qint64 n);
QString format_count(qint64 n);

}  // namespace rmm::desktop
