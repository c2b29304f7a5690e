#include "model_table.hpp"

#include <QLocale>

namespace rmm::desktop {

QString format_bytes(qint64 bytes) {
  return QLocale::c().formattedDataSize(bytes, 1, QLocale::DataSizeIecFormat);
}

QString format_count(qint64 n) {
  if (n <= 0) return QStringLiteral("–");
  const char* units[] = {"", "K", "M", "B", "T"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1000.0 && u < 4) {
    v /= 1000.0;
    ++u;
  }
  return QString::number(v, 'f', v < 10.0 && u > 0 ? 1 : 0) + QString::fromLatin1(units[u]);
}

ModelTable::ModelTable(QObject* parent) : QAbstractTableModel(parent) {}

void ModelTable::setModels(const ModelList& models) {
  beginResetModel();
  models_ = models;
  endResetModel();
}

int ModelTable::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(models_.size());
}

int ModelTable::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant ModelTable::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= models_.size()) return {};
  const ModelEntry& m = models_[index.row()];
  if (role == Qt::ToolTipRole) return m.path;
  if (role == Qt::TextAlignmentRole) return alignment(index.column());
  if (role != Qt::DisplayRole) return {};
  switch (index.column()) {
    case Name: return m.name;
    case Size: return format_bytes(m.size);
    case Quantization: return m.quantization.isEmpty() ? QStringLiteral("–") : m.quantization;
    case Parameters: return format_count(m.parameters);
    case Context: return m.context > 0 ? QLocale::c().toString(m.context) : QStringLiteral("–");
    case Kind: return m.kind;
    default: return {};
  }
}

QVariant ModelTable::alignment(int column) {
  const bool numeric = column == Size || column == Parameters || column == Context;
  return QVariant::fromValue(Qt::AlignVCenter | (numeric ? Qt::AlignRight : Qt::AlignLeft));
}

QVariant ModelTable::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal) return {};
  if (role == Qt::TextAlignmentRole) return alignment(section);
  if (role != Qt::DisplayRole) return {};
  switch (section) {
    case Name: return tr("Name");
    case Size: return tr("Size");
    case Quantization: return tr("Quantization");
    case Parameters: return tr("Parameters");
    case Context: return tr("Context");
    case Kind: return tr("Kind");
    default: return {};
  }
}

}  // namespace rmm::desktop
