#pragma once
// The Models screen's Folders tab: the models folders (the main one, those
// of config.toml, those added) with their model counts; add a folder (typed
// or picked) as it is laid out, or remove an added one. The registry checks
// the folder (Registry::add_folder), as it does for the server's
// /api/models/folders.
#include <QWidget>

class QLabel;
class QLineEdit;
class QPushButton;
class QTableWidget;

namespace rmm::desktop {

class Backend;

class FolderView : public QWidget {
  Q_OBJECT

 public:
  explicit FolderView(Backend& backend, QWidget* parent = nullptr);

  void refresh();
  void addFolder(const QString& path);
  void removeFolder(const QString& path);
  const QTableWidget& folders() const { return *table_; }
  QString message() const;

 signals:
  void listed(int folders);
  // A folder was added or removed: the library changed.
  void changed();

 private:
  void show_folders(const QVariantList& rows);
  void browse();

  Backend& backend_;
  QTableWidget* table_;
  QLineEdit* path_;
  QPushButton* browse_;
  QPushButton* add_;
  QPushButton* remove_;
  QLabel* message_;
};

}  // namespace rmm::desktop
