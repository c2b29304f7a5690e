#pragma once
// The Monitor screen: the speed (tokens/s) and time to first token of the
// app's recent generations, RAM and VRAM (the system's and per GPU device)
// and the app's own share (this process and its model workers), with small
// charts over the last generations and the last minutes. Once a second it
// asks the worker thread for a MonitorSnapshot (a few /proc reads and the
// core's generation log); the UI thread never waits for it.
#include <QVector>
#include <QWidget>
#include <memory>

#include "monitor_samples.hpp"

class QLabel;
class QTimer;
class QTreeWidget;

namespace rmm::desktop {

class Backend;
class LineChart;

class MonitorView : public QWidget {
  Q_OBJECT

 public:
  explicit MonitorView(Backend& backend, QWidget* parent = nullptr);
  ~MonitorView() override;

  // Asks for a snapshot now (skipped while one is on its way).
  void refresh();
  const MonitorSnapshot& snapshot() const { return snapshot_; }
  static constexpr int kGenerations = 40;  // generations charted and listed
  static constexpr int kHistory = 120;     // resource samples charted (two minutes)

 signals:
  void refreshed();  // a snapshot arrived and is shown

 private:
  void show_snapshot(MonitorSnapshot s);

  Backend& backend_;
  QTimer* timer_;
  bool in_flight_ = false;
  // Used on the worker thread only (it keeps CPU ticks between samples).
  std::shared_ptr<std::unique_ptr<models::UsageSampler>> sampler_;
  MonitorSnapshot snapshot_;
  QVector<models::UsageSample> history_;
  QLabel* speed_;
  QLabel* ttft_;
  QLabel* minute_;
  QLabel* ram_;
  QLabel* app_;
  QLabel* vram_;
  QLabel* loaded_;
  LineChart* speed_chart_;
  LineChart* memory_chart_;
  QTreeWidget* table_;
};

// How the Monitor writes its figures.
QString format_bytes(uint64_t bytes);            // "512 MiB", "3.21 GiB"
QString format_speed(double tokens_per_second);  // "123.4 tok/s"
QString format_ms(double ms);                    // "85 ms", "1.25 s"

}  // namespace rmm::desktop
