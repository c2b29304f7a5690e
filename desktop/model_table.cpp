#include "model_table.hpp"

#include <QFont>
#include <QLocale>

namespace rmm::desktop {

QString format_bytes(qint64 bytes) {
  return QLocale::c().formattedDataSize(bytes, 1, QLocale::DataSizeIecFormat);
}

QString format_number(qint64 n) {
  QLocale c = QLocale::c();
  c.setNumberOptions(QLocale::DefaultNumberOptions);  // the C locale omits the separators by default
  return c.toString(n);
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

void ModelTable::setLoaded(const QStringList& names) {
  loaded_ = QSet<QString>(names.begin(), names.end());
  if (!models_.isEmpty()) emit dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
}

void ModelTable::setLoading(const QString& name) {
  loading_ = name;
  if (!models_.isEmpty()) emit dataChanged(index(0, State), index(rowCount() - 1, State));
}

bool ModelTable::isLoaded(int row) const {
  return row >= 0 && row < models_.size() && loaded_.contains(models_[row].name);
}

int ModelTable::rowOf(const QString& name) const {
  for (int r = 0; r < models_.size(); ++r) {
    if (models_[r].name == name) return r;
  }
  return -1;
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
  if (role == Qt::FontRole && isLoaded(index.row())) {
    QFont f;
    f.setBold(true);
    return f;
  }
  if (role != Qt::DisplayRole) return {};
  switch (index.column()) {
    case Name: return m.name;
    case Size: return format_bytes(m.size);
    case Quantization: return m.quantization.isEmpty() ? QStringLiteral("–") : m.quantization;
    case Parameters: return format_count(m.parameters);
    case Context:  // 2,048 … 131,072, then 16.8M
      if (m.context <= 0) return QStringLiteral("–");
      return m.context < 1000000 ? format_number(m.context) : format_count(m.context);
    case Kind: return m.kind;
    case State:
      if (isLoaded(index.row())) return tr("Loaded");
      return !loading_.isEmpty() && m.name == loading_ ? tr("Loading…") : QString();
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
    case Quantization: return tr("Quant");
    case Parameters: return tr("Params");
    case Context: return tr("Context");
    case Kind: return tr("Kind");
    case State: return tr("State");
    default: return {};
  }
}

}  // namespace rmm::desktop
