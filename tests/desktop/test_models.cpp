// rmm-desktop's Models screen end to end, over the real core: the library
// with the selected model's metadata, the load plan and a load / unload
// through the model host, the "will not fit" refusal, a Hub search and a
// download (cancelled, then resumed) from the local Hub stand-in, and a
// models folder added and removed.
#include <QComboBox>
#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <filesystem>

#include "desktop_fixture.hpp"
#include "download_worker.hpp"
#include "folder_view.hpp"
#include "hub/fake_hub.hpp"
#include "hub_view.hpp"
#include "model_details_panel.hpp"
#include "model_table.hpp"
#include "models/hub/hub_client.hpp"
#include "models/memory_planner.hpp"
#include "models_view.hpp"
#include "support/test_env.hpp"

using namespace rmm::desktop;
namespace fs = std::filesystem;

namespace {

// sha256 by Qt, not by the rmm code under test.
QString qt_sha256(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return QString();
  QCryptographicHash h(QCryptographicHash::Sha256);
  h.addData(&f);
  return QString::fromLatin1(h.result().toHex());
}

}  // namespace

class ModelsTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase();
  void listsTheLibraryWithMetadata();
  void loadShowsThePlanThenLoadsAndUnloads();
  void aModelThatWillNotFitIsRefused();
  void searchesAndDownloadsFromTheHub();
  void addsAndRemovesAFolder();
  void cleanupTestCase() { fx_.stop(); }

 private:
  ModelsView& view() { return fx_.window().models(); }
  // Waits until the library lists `name` (a refresh in between).
  bool listed(const QString& name, int ms = 20000);
  // The library's name for the file named `file` ("" when it is not listed within 20 s).
  QString name_of(const QString& file);
  // Selects `name` in the library and waits for its details and plan.
  bool select(const QString& name);
  // Whether the host holds `name`, asked of the host itself on the worker thread.
  bool host_holds(const QString& name);

  rmm::test::DesktopFixture fx_;
  fs::path scratch_;
};

void ModelsTest::initTestCase() {
  const QString why = fx_.start();
  if (why.startsWith(QLatin1String("skip: "))) QSKIP(qPrintable(why.mid(6)));
  QVERIFY2(why.isEmpty(), qPrintable(why));
  scratch_ = rmm::test::temp_dir("desktop-models");
  fx_.window().showScreen(MainWindow::Models);
}

bool ModelsTest::listed(const QString& name, int ms) {
  return QTest::qWaitFor([&] { return view().table().rowOf(name) >= 0; }, ms);
}

QString ModelsTest::name_of(const QString& file) {
  QString name;
  auto find = [&] {
    for (const auto& m : view().table().models()) {
      if (m.path.endsWith(QLatin1Char('/') + file)) name = m.name;
    }
    return !name.isEmpty();
  };
  return QTest::qWaitFor(find, 20000) ? name : QString();
}

bool ModelsTest::select(const QString& name) {
  if (!view().selectModel(name)) return false;
  ModelDetailsPanel& d = view().details();
  return QTest::qWaitFor([&] { return d.details().name == name && d.planReady(); }, 20000);
}

bool ModelsTest::host_holds(const QString& name) {
  int answer = -1;
  fx_.backend().call(
      &view(), [n = name.toStdString()](AppCore& core) { return core.host().find(n) != nullptr; },
      [&answer](bool held) { answer = held ? 1 : 0; });
  if (!QTest::qWaitFor([&] { return answer >= 0; }, 10000)) return false;
  return answer == 1;
}

void ModelsTest::listsTheLibraryWithMetadata() {
  auto* table_view = fx_.window().findChild<QTableView*>(QStringLiteral("modelsTable"));
  QVERIFY(table_view && table_view->isVisible());
  const ModelTable& table = view().table();
  QVERIFY(listed(fx_.modelName()));
  const int row = table.rowOf(fx_.modelName());
  QCOMPARE(table.index(row, ModelTable::Kind).data().toString(), QStringLiteral("chat"));
  // stories260K.gguf is 1,185,376 bytes (ls -l): 1.13 MiB.
  QCOMPARE(table.index(row, ModelTable::Size).data().toString(), QStringLiteral("1.1 MiB"));
  QCOMPARE(table.index(row, ModelTable::Context).data().toString(), QStringLiteral("2,048"));
  QCOMPARE(table.index(row, ModelTable::Parameters).data().toString(), QStringLiteral("293K"));
  QCOMPARE(table.index(row, ModelTable::State).data().toString(), QString());

  // The details pane, against ../shared/models/README.md's reading of the file's header.
  QVERIFY(select(fx_.modelName()));
  const ModelDetails& d = view().details().details();
  QCOMPARE(d.architecture, QStringLiteral("llama"));
  QCOMPARE(d.title, QStringLiteral("llama"));
  QCOMPARE(d.parameters, qint64(292800));
  QCOMPARE(d.context, 2048);
  QCOMPARE(d.layers, 5);
  QCOMPARE(d.embedding, 64);
  QCOMPARE(d.chatTemplate, false);
  QCOMPARE(d.size, qint64(1185376));
  auto* name = view().details().findChild<QLabel*>(QStringLiteral("detailsName"));
  QCOMPARE(name->text(), fx_.modelName());
  QVERIFY(fx_.screenshots(QStringLiteral("models-library")));
}

void ModelsTest::loadShowsThePlanThenLoadsAndUnloads() {
  QVERIFY(select(fx_.modelName()));
  ModelDetailsPanel& panel = view().details();
  const LoadPlan plan = panel.plan();
  QVERIFY2(plan.fits, qPrintable(plan.refusal));
  QVERIFY(!plan.loaded);
  QCOMPARE(plan.id, fx_.modelName());
  // The desktop's host: one conversation with the training context (2048, under the 8192 cap).
  QCOMPARE(plan.context, 2048);
  QCOMPARE(plan.conversations, 1);
  QCOMPARE(plan.trained, 2048);
  QCOMPARE(plan.maxLayers, 5 + 1);  // the blocks and the output layer
  QVERIFY(plan.evict.isEmpty());
  QVERIFY(!plan.devices.isEmpty());
  QCOMPARE(plan.devices.first().name, QStringLiteral("CPU"));
  // The planner asked directly for that context, with room to spare: the same need.
  rmm::models::PlanRequest req;
  rmm::engine::ContextParams c;
  req.params.n_ctx = 2048;
  req.params.n_seq = 1;
  req.params.n_batch = static_cast<uint32_t>(c.n_batch);
  req.params.n_ubatch = static_cast<uint32_t>(c.n_ubatch);
  req.params.flash_attn = c.flash_attn != 0;
  const auto direct = rmm::models::plan_memory(rmm::test::shared_model("stories260K.gguf"), req,
                                               {{"CPU", false, 1ull << 40}});
  QCOMPARE(plan.devices.first().needed, static_cast<qint64>(direct.need_on("CPU")));
  QVERIFY(plan.devices.first().available >= plan.devices.first().needed);
  auto* shown = panel.findChild<QLabel*>(QStringLiteral("loadPlan"));
  QVERIFY(shown->text().contains(format_bytes(plan.devices.first().needed)));
  QVERIFY(shown->text().contains(QStringLiteral("2,048 tokens")));
  auto* load = panel.findChild<QPushButton*>(QStringLiteral("loadModel"));
  auto* unload = panel.findChild<QPushButton*>(QStringLiteral("unloadModel"));
  QVERIFY(load->isEnabled());
  QVERIFY(!unload->isEnabled());
  QVERIFY(panel.message().isEmpty());
  QVERIFY(fx_.screenshots(QStringLiteral("models-plan")));

  QTest::mouseClick(load, Qt::LeftButton);
  const ModelTable& table = view().table();
  const int row = table.rowOf(fx_.modelName());
  QTRY_COMPARE_WITH_TIMEOUT(table.index(row, ModelTable::State).data().toString(), QStringLiteral("Loaded"),
                            30000);
  QVERIFY(host_holds(fx_.modelName()));
  QTRY_VERIFY_WITH_TIMEOUT(panel.planReady() && panel.plan().loaded, 10000);
  QVERIFY(unload->isEnabled());
  QVERIFY(!load->isEnabled());
  QVERIFY(fx_.screenshots(QStringLiteral("models-loaded")));

  QTest::mouseClick(unload, Qt::LeftButton);
  QTRY_COMPARE_WITH_TIMEOUT(table.index(row, ModelTable::State).data().toString(), QString(), 10000);
  QVERIFY(!host_holds(fx_.modelName()));
  QTRY_VERIFY_WITH_TIMEOUT(panel.planReady() && !panel.plan().loaded, 10000);
  QVERIFY(load->isEnabled());
}

void ModelsTest::aModelThatWillNotFitIsRefused() {
  // A small file that claims a 16M-token context: 16 layers x 256 K/V values x 2 bytes
  // x 2 per token put a full context's KV cache at 256 GiB, more than any test machine has;
  // the automatic context (8192 tokens) takes 128 MiB of it.
  const fs::path models = fs::path(fx_.home().toStdString()) / "models";
  rmm::test::forge_model(models, "endless",
                         {"--layers", "16", "--embd", "256", "--heads", "4", "--kv-heads", "4", "--ffn",
                          "256", "--ctx", "16777216", "--name", "endless"});
  fx_.backend().refreshModels();
  const QString name = name_of(QStringLiteral("endless.gguf"));
  QVERIFY(!name.isEmpty());
  QVERIFY(select(name));
  ModelDetailsPanel& panel = view().details();
  QVERIFY2(panel.plan().fits, qPrintable(panel.plan().refusal));
  QCOMPARE(panel.plan().context, 8192);
  QCOMPARE(panel.details().context, 16777216);

  panel.setContext(16777216);
  QTRY_VERIFY_WITH_TIMEOUT(panel.planReady(), 20000);
  const LoadPlan plan = panel.plan();
  QVERIFY(!plan.fits);
  QVERIFY(!plan.refusal.isEmpty());
  QVERIFY(plan.devices.first().needed > plan.devices.first().available);
  QVERIFY(plan.devices.first().needed > (qint64(200) << 30));
  auto* warning = panel.findChild<QWidget*>(QStringLiteral("fitWarning"));
  QVERIFY(warning->isVisible());
  QVERIFY2(panel.message().startsWith(QStringLiteral("Will not fit: ")), qPrintable(panel.message()));
  QVERIFY(panel.message().contains(plan.refusal));
  auto* load = panel.findChild<QPushButton*>(QStringLiteral("loadModel"));
  QVERIFY(!load->isEnabled());
  QVERIFY(fx_.screenshots(QStringLiteral("models-will-not-fit")));

  // Asked anyway, the host refuses it with the planner's message and loads nothing.
  panel.load();
  QTRY_VERIFY_WITH_TIMEOUT(panel.message().startsWith(QStringLiteral("Not loaded: ")), 20000);
  QVERIFY2(panel.message().contains(QStringLiteral("endless")), qPrintable(panel.message()));
  QVERIFY(!host_holds(name));
  panel.setContext(0);
  QTRY_VERIFY_WITH_TIMEOUT(panel.planReady() && panel.plan().fits, 20000);
}

void ModelsTest::searchesAndDownloadsFromTheHub() {
  rmm::test::FakeHub hub{"desktop-models"};
  // A real (forged) model on the Hub, so that the library can read what arrives.
  const fs::path source =
      rmm::test::forge_model(scratch_, "forged-Q8_0", {"--seed", "5", "--name", "forged"});
  const fs::path served = hub.root() / "acme/forged-GGUF/forged-Q8_0.gguf";
  fs::create_directories(served.parent_path());
  fs::copy_file(source, served);
  hub.add_file("acme/other-GGUF", "other-Q4_K_M.gguf", 3000, 1);
  qputenv("RMM_HF_ENDPOINT", QByteArray::fromStdString(hub.endpoint()));
  rmm::hub::HubConfig config;
  config.endpoint = hub.endpoint();
  // What the Hub says the file hashes to (fake_hub.py's hashlib), and Qt's own reading.
  const QString hub_sha = QString::fromStdString(
      rmm::hub::file_meta(config, "acme/forged-GGUF", "main", "forged-Q8_0.gguf").sha256);
  QCOMPARE(hub_sha, qt_sha256(QString::fromStdString(served.string())));

  view().showTab(ModelsView::HuggingFace);
  HubView& hv = view().hub();
  QSignalSpy searched(&hv, &HubView::searched);
  hv.search(QStringLiteral("forged"));
  QVERIFY(searched.wait(10000));
  QCOMPARE(searched.first().first().toInt(), 1);
  QCOMPARE(hv.results().item(0, 0)->text(), QStringLiteral("acme/forged-GGUF"));
  // Selected, its quantizations are listed with their sizes.
  QSignalSpy quants(&hv, &HubView::quantsListed);
  hv.selectResult(0);
  QVERIFY(quants.wait(10000));
  QCOMPARE(hv.quants().count(), 2);  // the best one (rmm pull's choice), then Q8_0
  QCOMPARE(hv.quants().itemData(1).toString(), QStringLiteral("Q8_0"));
  QVERIFY(hv.quants().itemText(1).contains(format_bytes(static_cast<qint64>(fs::file_size(served)))));

  // About 5 MiB at 2 MB/s: cancelled once some of it is there.
  hub.configure("rate=2000000");
  QSignalSpy progressed(&hv.worker(), &DownloadWorker::progressed);
  QSignalSpy cancelled(&hv.worker(), &DownloadWorker::cancelled);
  QSignalSpy finished(&hv.worker(), &DownloadWorker::finished);
  hv.download(QStringLiteral("acme/forged-GGUF:Q8_0"));
  QTRY_VERIFY_WITH_TIMEOUT(progressed.size() >= 2 && progressed.last().at(0).toLongLong() > (256 << 10),
                           10000);
  const qint64 total = progressed.last().at(1).toLongLong();
  QCOMPARE(total, static_cast<qint64>(fs::file_size(served)));
  QVERIFY(fx_.screenshots(QStringLiteral("models-hub")));
  QElapsedTimer t;
  t.start();
  hv.cancel();
  QVERIFY(cancelled.wait(5000));
  QVERIFY2(t.elapsed() < 2000, "the cancel was not prompt");
  QVERIFY(finished.isEmpty());
  const fs::path dir = fs::path(fx_.home().toStdString()) / "models/acme/forged-GGUF";
  const fs::path part = dir / "forged-Q8_0.gguf.part";
  QVERIFY2(fs::exists(part), "no .part file after the cancel");
  const auto kept = fs::file_size(part);
  QVERIFY(kept > 0 && kept < fs::file_size(served));
  QVERIFY(hv.status().startsWith(QStringLiteral("Cancelled")));

  // Resume goes on from the partial file.
  hub.configure("rate=0");
  progressed.clear();
  hv.resume();
  QVERIFY(finished.wait(20000));
  const QString path = finished.first().at(0).toString();
  QCOMPARE(path, QString::fromStdString((dir / "forged-Q8_0.gguf").string()));
  QCOMPARE(qt_sha256(path), hub_sha);
  QCOMPARE(finished.first().at(1).toString(), hub_sha);
  QVERIFY(!fs::exists(part));
  QVERIFY(!progressed.isEmpty());
  QVERIFY(progressed.first().at(0).toLongLong() >= static_cast<qint64>(kept));  // not from the start
  QVERIFY(fx_.screenshots(QStringLiteral("models-hub-done")));

  // The library lists it, read as a chat model with its metadata.
  view().showTab(ModelsView::Library);
  QTRY_VERIFY_WITH_TIMEOUT(
      [&] {
        for (const auto& m : view().table().models())
          if (m.path == path) return true;
        return false;
      }(),
      20000);
  qunsetenv("RMM_HF_ENDPOINT");
}

void ModelsTest::addsAndRemovesAFolder() {
  QTemporaryDir folder;
  QVERIFY(folder.isValid());
  rmm::test::forge_model(folder.path().toStdString(), "elsewhere", {"--seed", "9", "--name", "elsewhere"});
  view().showTab(ModelsView::Folders);
  FolderView& fv = view().folders();
  QSignalSpy listed_spy(&fv, &FolderView::listed);
  QVERIFY(listed_spy.wait(10000));
  const int before = fv.folders().rowCount();
  QCOMPARE(fv.folders().item(0, 1)->text(), QStringLiteral("main"));

  // Refused as the server refuses it: not absolute.
  fv.addFolder(QStringLiteral("relative/models"));
  QTRY_VERIFY_WITH_TIMEOUT(fv.message().contains(QStringLiteral("absolute")), 10000);

  const QString canonical = QDir(folder.path()).canonicalPath();
  fv.addFolder(folder.path());
  QTRY_COMPARE_WITH_TIMEOUT(fv.folders().rowCount(), before + 1, 10000);
  int row = -1;
  for (int r = 0; r < fv.folders().rowCount(); ++r) {
    if (fv.folders().item(r, 0)->text() == canonical) row = r;
  }
  QVERIFY(row >= 0);
  QCOMPARE(fv.folders().item(row, 1)->text(), QStringLiteral("added"));
  QCOMPARE(fv.folders().item(row, 2)->text(), QStringLiteral("1"));
  auto in_library = [&] {
    for (const auto& m : view().table().models())
      if (m.path.startsWith(canonical + QLatin1Char('/'))) return true;
    return false;
  };
  QTRY_VERIFY_WITH_TIMEOUT(in_library(), 20000);
  QVERIFY(fx_.screenshots(QStringLiteral("models-folders")));

  fv.removeFolder(canonical);
  QTRY_COMPARE_WITH_TIMEOUT(fv.folders().rowCount(), before, 10000);
  QTRY_VERIFY_WITH_TIMEOUT(!in_library(), 20000);
  QVERIFY(QFile::exists(folder.filePath(QStringLiteral("elsewhere.gguf"))));  // the files stay
}

QTEST_MAIN(ModelsTest)
#include "test_models.moc"
