// rmm-desktop's Prompt Architect screen end to end: blocks and variables
// built through the widgets, the generated form, the preview against the
// core's render and against messages written by hand, validation errors,
// Generate on stories260K, versions in the store, files, and the same
// templates seen through `rmm serve`'s API.
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <nlohmann/json.hpp>

#include "architect_view.hpp"
#include "block_panel.hpp"
#include "desktop_fixture.hpp"
#include "prompts/render.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "variable_form.hpp"
#include "variable_panel.hpp"

using namespace rmm::desktop;
using json = nlohmann::json;

// QCOMPARE for JSON values, showing both on a mismatch.
#define JSON_COMPARE(actual, expected)                                                                 \
  do {                                                                                                 \
    const json a_ = (actual);                                                                          \
    const json e_ = (expected);                                                                        \
    QVERIFY2(a_ == e_, qPrintable(QString::fromStdString(a_.dump() + "\n   expected: " + e_.dump()))); \
  } while (0)

class ArchitectTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase();
  void buildsFromBlocksAndForm();
  void previewIsTheRender();
  void reordersBlocks();
  void namesTheBadField();
  void generates();
  void savesVersionsAndLoads();
  void importsAndExports();
  void sharesTemplatesWithServe();
  void cleanupTestCase() { fx_.stop(); }

 private:
  ArchitectView& view() { return fx_.window().architect(); }
  void start_from(const json& t);
  QStringList roles() const;
  rmm::test::DesktopFixture fx_;
  QTemporaryDir files_;
  QString saved_id_;
};

void ArchitectTest::initTestCase() {
  const QString why = fx_.start();
  if (why.startsWith(QLatin1String("skip: "))) QSKIP(qPrintable(why.mid(6)));
  QVERIFY2(why.isEmpty(), qPrintable(why));
  fx_.window().showScreen(MainWindow::Architect);
  QVERIFY(view().isVisible());
  QVERIFY(view().selectModel(fx_.modelName()));
}

void ArchitectTest::start_from(const json& t) {
  view().setTemplate(t);
  view().refreshPreview();
}

QStringList ArchitectTest::roles() const {
  QStringList out;
  for (const auto& m : const_cast<ArchitectTest*>(this)->view().previewMessages())
    out << QString::fromStdString(m["role"].get<std::string>());
  return out;
}

// Blocks added by type and filled in through their editors; variables of every
// type; the form has a field of the right kind for each, the slider its range.
void ArchitectTest::buildsFromBlocksAndForm() {
  start_from({{"name", "Built"}, {"blocks", json::array()}, {"variables", json::array()}});
  auto& b = view().blocks();
  QCOMPARE(b.list()->count(), 0);
  b.addBlock(QStringLiteral("system"));
  b.textEdit()->setPlainText(QStringLiteral("You are a {{tone}} storyteller."));
  b.addBlock(QStringLiteral("user"));
  b.textEdit()->setPlainText(QStringLiteral("Tell a story about {{topic}} in {{count}} lines."));
  b.addBlock(QStringLiteral("examples"));
  b.pairsTable()->item(0, 0)->setText(QStringLiteral("A story about a cat"));
  b.pairsTable()->item(0, 1)->setText(QStringLiteral("The cat slept."));
  b.addBlock(QStringLiteral("parameters"));
  b.findChild<QSpinBox*>(QStringLiteral("paramMaxTokens"))->setValue(12);
  b.findChild<QLineEdit*>(QStringLiteral("paramStop"))->setText(QStringLiteral("END, STOP"));
  QCOMPARE(b.list()->count(), 4);
  const json blocks = b.blocks();
  JSON_COMPARE(blocks[2]["pairs"][0]["assistant"], json("The cat slept."));
  JSON_COMPARE(blocks[3]["max_tokens"], json(12));
  JSON_COMPARE(blocks[3]["stop"], json::array({"END", "STOP"}));

  // One variable through the definition editor, the rest as definitions.
  auto& v = view().variables();
  v.addVariable();
  v.findChild<QLineEdit*>(QStringLiteral("variableName"))->setText(QStringLiteral("topic"));
  v.findChild<QLineEdit*>(QStringLiteral("variableDefault"))->setText(QStringLiteral("a lighthouse"));
  v.findChild<QCheckBox*>(QStringLiteral("variableRequired"))->setChecked(true);
  v.addVariable(
      {{"name", "tone"}, {"type", "select"}, {"options", {"gentle", "grim"}}, {"default", "gentle"}});
  v.addVariable(
      {{"name", "count"}, {"type", "number"}, {"min", 2}, {"max", 10}, {"step", 2}, {"default", 4}});
  v.addVariable({{"name", "notes"}, {"type", "multiline"}});
  v.addVariable({{"name", "rhyme"}, {"type", "boolean"}, {"default", true}});
  JSON_COMPARE(v.variables()[0],
               json({{"name", "topic"}, {"type", "text"}, {"default", "a lighthouse"}, {"required", true}}));

  auto& f = view().form();
  QVERIFY(qobject_cast<QLineEdit*>(f.field(QStringLiteral("topic"))));
  QVERIFY(qobject_cast<QPlainTextEdit*>(f.field(QStringLiteral("notes"))));
  QVERIFY(qobject_cast<QCheckBox*>(f.field(QStringLiteral("rhyme"))));
  auto* tone = qobject_cast<QComboBox*>(f.field(QStringLiteral("tone")));
  QVERIFY(tone);
  QCOMPARE(tone->currentText(), QStringLiteral("gentle"));
  QVERIFY(tone->findText(QStringLiteral("grim")) >= 0);
  auto* count = qobject_cast<QSlider*>(f.field(QStringLiteral("count")));
  QVERIFY(count);
  // 2..10 by 2: five positions; the value shown beside it.
  QCOMPARE(count->maximum() - count->minimum(), 4);
  auto* shown = f.findChild<QLabel*>(QStringLiteral("value_count_shown"));
  QVERIFY(shown);
  QCOMPARE(shown->text(), QStringLiteral("4"));
  count->setValue(count->maximum());
  QCOMPARE(shown->text(), QStringLiteral("10"));
  JSON_COMPARE(f.values()["count"], json(10));
  tone->setCurrentText(QStringLiteral("grim"));

  // The preview follows after the pause, without a call.
  QVERIFY(QTest::qWaitFor([&] {
    return view().previewText().contains(QStringLiteral("Tell a story about a lighthouse in 10 lines."));
  }));
  QVERIFY(view().previewText().contains(QStringLiteral("You are a grim storyteller.")));
  // The examples' user turn joins the user block (roles alternate); its answer follows.
  QCOMPARE(roles(), QStringList({"system", "user", "assistant"}));
  JSON_COMPARE(view().previewMessages()[1]["content"],
               json("Tell a story about a lighthouse in 10 lines.\n\nA story about a cat"));
  QVERIFY(fx_.screenshots(QStringLiteral("architect-blocks")));
}

// A simple case written out by hand, and the core's own render of what the screen holds.
void ArchitectTest::previewIsTheRender() {
  start_from({{"name", "Greeter"},
              {"blocks",
               {{{"type", "system"}, {"text", "You are terse."}},
                {{"type", "user"}, {"text", "Hello {{who}}!"}},
                {{"type", "parameters"}, {"temperature", 0.5}}}},
              {"variables", {{{"name", "who"}, {"type", "text"}}}}});
  qobject_cast<QLineEdit*>(view().form().field(QStringLiteral("who")))->setText(QStringLiteral("Ada"));
  view().refreshPreview();
  const json by_hand = json::array(
      {{{"role", "system"}, {"content", "You are terse."}}, {{"role", "user"}, {"content", "Hello Ada!"}}});
  JSON_COMPARE(view().previewMessages(), by_hand);
  JSON_COMPARE(view().previewParams(), json({{"temperature", 0.5}}));
  QVERIFY(view().errorText().isEmpty());
  const auto core =
      rmm::prompts::render(rmm::prompts::parse_template(view().templateJson()), {{"who", "Ada"}});
  JSON_COMPARE(view().previewMessages(), core.messages);
  QVERIFY(view().previewText().contains(QStringLiteral("Hello Ada!")));
}

// Order by the model's moveRows (what a drop does) and by Alt+Up/Down.
void ArchitectTest::reordersBlocks() {
  start_from({{"name", "Order"},
              {"blocks", {{{"type", "user"}, {"text", "Question"}}, {{"type", "system"}, {"text", "Rules"}}}},
              {"variables", json::array()}});
  QCOMPARE(roles(), QStringList({"user", "system"}));
  auto* list = view().blocks().list();
  QVERIFY(list->model()->moveRow(QModelIndex(), 1, QModelIndex(), 0));
  QVERIFY(QTest::qWaitFor([&] { return roles() == QStringList({"system", "user"}); }));
  JSON_COMPARE(view().previewMessages()[0]["content"], json("Rules"));

  list->setFocus();
  list->setCurrentRow(0);
  QTest::keyClick(list, Qt::Key_Down, Qt::AltModifier);
  QCOMPARE(list->currentRow(), 1);
  QVERIFY(QTest::qWaitFor([&] { return roles() == QStringList({"user", "system"}); }));
  QTest::keyClick(list, Qt::Key_Up, Qt::AltModifier);
  QCOMPARE(list->currentRow(), 0);
  view().refreshPreview();
  QCOMPARE(roles(), QStringList({"system", "user"}));
  JSON_COMPARE(view().previewMessages()[1]["content"], json("Question"));
}

void ArchitectTest::namesTheBadField() {
  start_from(
      {{"name", "Broken"},
       {"blocks", {{{"type", "system"}, {"text", "Fine"}}, {{"type", "user"}, {"text", "Hello {{who"}}}},
       {"variables", json::array()}});
  QCOMPARE(view().errorField(), QStringLiteral("blocks[1].text"));
  auto* label = view().findChild<QLabel*>(QStringLiteral("architectError"));
  QVERIFY(label && label->isVisible());
  QVERIFY2(label->text().startsWith(QStringLiteral("blocks[1].text")), qPrintable(label->text()));
  // The block it is about is marked in the list, the other one not.
  QVERIFY(view().blocks().list()->item(1)->data(Qt::ForegroundRole).isValid());
  QVERIFY(!view().blocks().list()->item(0)->data(Qt::ForegroundRole).isValid());

  // A required variable with no value names the value.
  start_from({{"name", "Needs"},
              {"blocks", {{{"type", "user"}, {"text", "About {{topic}}"}}}},
              {"variables", {{{"name", "topic"}, {"type", "text"}, {"required", true}}}}});
  QCOMPARE(view().errorField(), QStringLiteral("values.topic"));
  qobject_cast<QLineEdit*>(view().form().field(QStringLiteral("topic")))->setText(QStringLiteral("owls"));
  QVERIFY(QTest::qWaitFor([&] { return view().errorText().isEmpty(); }));
  QVERIFY(!label->isVisible());
}

void ArchitectTest::generates() {
  start_from({{"name", "Story"},
              {"blocks",
               {{{"type", "system"}, {"text", "You tell short stories."}},
                {{"type", "user"}, {"text", "Once upon a time, {{hero}} felt {{mood}}."}},
                {{"type", "parameters"}, {"max_tokens", 8}, {"temperature", 0}}}},
              {"variables", json::array({{{"name", "hero"}, {"type", "text"}, {"default", "a small dog"}},
                                         {{"name", "mood"},
                                          {"type", "select"},
                                          {"options", json::array({"happy", "sleepy"})},
                                          {"default", "sleepy"}},
                                         {{"name", "pages"}, {"type", "number"}, {"min", 1}, {"max", 20}},
                                         {{"name", "notes"}, {"type", "multiline"}},
                                         {{"name", "rhyme"}, {"type", "boolean"}}})}});
  auto* answer = view().findChild<QPlainTextEdit*>(QStringLiteral("answerView"));
  QSignalSpy done(&view(), &ArchitectView::generationFinished);
  view().generate();
  // Counted from here: generate() cleared the view; each token now adds to it.
  QObject scope;
  int streamed_chunks = 0;
  connect(answer, &QPlainTextEdit::textChanged, &scope, [&] { ++streamed_chunks; });
  QVERIFY(done.wait(60000));
  const QString text = done[0][0].toString();
  const int tokens = done[0][2].toInt();
  QVERIFY(!text.trimmed().isEmpty());
  QVERIFY2(tokens > 0 && tokens <= 8, qPrintable(QString::number(tokens)));
  QVERIFY(streamed_chunks >= 2);
  QVERIFY2(streamed_chunks <= 8, qPrintable(QString::number(streamed_chunks)));
  QCOMPARE(answer->toPlainText(), text);
  QCOMPARE(view().answer(), text);
  QVERIFY(fx_.screenshots(QStringLiteral("architect")));

  // Stop: a long answer ends early, cancelled, with what had streamed.
  json long_run = view().templateJson();
  long_run["blocks"][2] = {{"type", "parameters"}, {"max_tokens", 2000}, {"temperature", 1}, {"seed", 3}};
  view().setTemplate(long_run);
  view().generate();
  QVERIFY(QTest::qWaitFor([&] { return !answer->toPlainText().isEmpty(); }, 30000));
  view().stop();
  QVERIFY(done.wait(30000));
  QCOMPARE(done[1][1].toString(), QStringLiteral("cancelled"));
  QVERIFY(done[1][2].toInt() < 2000);
}

void ArchitectTest::savesVersionsAndLoads() {
  view().setTemplate({{"name", "Desktop Saved"},
                      {"blocks", {{{"type", "user"}, {"text", "First text"}}}},
                      {"variables", json::array()}});
  QSignalSpy saved(&view(), &ArchitectView::saved);
  QSignalSpy failed(&view(), &ArchitectView::failed);
  view().save(QStringLiteral("first"));
  QVERIFY(saved.wait(10000));
  saved_id_ = saved[0][0].toString();
  QCOMPARE(saved_id_, QStringLiteral("desktop-saved"));
  QCOMPARE(saved[0][1].toInt(), 1);
  view().blocks().list()->setCurrentRow(0);
  view().blocks().textEdit()->setPlainText(QStringLiteral("Second text"));
  view().save(QStringLiteral("second"));
  QVERIFY(saved.wait(10000));
  QCOMPARE(saved[1][0].toString(), saved_id_);
  QCOMPARE(saved[1][1].toInt(), 2);

  QVERIFY(QTest::qWaitFor([&] { return view().templateIds().contains(saved_id_); }, 10000));

  // The Load list has it with both versions; version 1 comes back.
  auto* combo = view().findChild<QComboBox*>(QStringLiteral("templateCombo"));
  QSignalSpy versions(&view(), &ArchitectView::versionsListed);
  combo->setCurrentIndex(combo->findData(saved_id_));
  QVERIFY(QTest::qWaitFor([&] { return view().versionsShown() == QList<int>({2, 1}); }, 10000));
  QSignalSpy loaded(&view(), &ArchitectView::loaded);
  view().loadTemplate(saved_id_, 1);
  QVERIFY(loaded.wait(10000));
  QCOMPARE(view().currentVersion(), 1);
  JSON_COMPARE(view().blocks().blocks()[0]["text"], json("First text"));
  view().loadTemplate(saved_id_);
  QVERIFY(loaded.wait(10000));
  QCOMPARE(view().currentVersion(), 2);
  JSON_COMPARE(view().blocks().blocks()[0]["text"], json("Second text"));

  // Reset goes back to what was loaded.
  view().blocks().textEdit()->setPlainText(QStringLiteral("Scratch"));
  view().reset();
  JSON_COMPARE(view().blocks().blocks()[0]["text"], json("Second text"));
  QCOMPARE(failed.count(), 0);

  // A new template may not take a stored one's name (as in the web UI): the name field is named.
  view().setTemplate(
      {{"name", "desktop saved"}, {"blocks", json::array({{{"type", "user"}, {"text", "x"}}})}});
  view().save();
  QVERIFY(failed.wait(10000));
  QVERIFY2(failed[0][0].toString().startsWith(QStringLiteral("name: ")), qPrintable(failed[0][0].toString()));
}

void ArchitectTest::importsAndExports() {
  QVERIFY(files_.isValid());
  const json pairs = json::array({{{"user", "hi"}, {"assistant", "hello"}}});
  const json mood = {{"name", "mood"}, {"type", "select"}, {"options", json::array({"calm", "bright"})}};
  start_from({{"name", "Round Trip"},
              {"description", "through a file"},
              {"tags", json::array({"files"})},
              {"blocks", json::array({{{"type", "system"}, {"text", "Be {{mood}}."}},
                                      {{"type", "examples"}, {"pairs", pairs}},
                                      {{"type", "parameters"}, {"top_p", 0.9}, {"seed", 7}}})},
              {"variables", json::array({mood})}});
  const QString path = files_.filePath(QStringLiteral("round-trip.json"));
  QSignalSpy exported(&view(), &ArchitectView::exported);
  view().exportFile(path);
  QVERIFY(exported.wait(10000));
  QFile file(path);
  QVERIFY(file.open(QIODevice::ReadOnly));
  const json written = json::parse(file.readAll().toStdString());
  file.close();
  // The shape the web UI exports: the template's fields, nothing of the app's.
  JSON_COMPARE(written["name"], json("Round Trip"));
  JSON_COMPARE(written["tags"], json::array({"files"}));
  JSON_COMPARE(written["blocks"][1]["pairs"][0]["assistant"], json("hello"));
  JSON_COMPARE(written["blocks"][2]["seed"], json(7));
  JSON_COMPARE(written["variables"][0]["options"], json::array({"calm", "bright"}));

  // Changed outside and imported back.
  json changed = written;
  changed["name"] = "Round Trip Edited";
  QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
  file.write(QByteArray::fromStdString(changed.dump(2)));
  file.close();
  view().setTemplate({{"name", "Other"}, {"blocks", json::array()}});
  QSignalSpy imported(&view(), &ArchitectView::imported);
  view().importFile(path);
  QVERIFY(imported.wait(10000));
  const json now = view().templateJson();
  JSON_COMPARE(now["name"], json("Round Trip Edited"));
  JSON_COMPARE(now["blocks"], written["blocks"]);
  JSON_COMPARE(now["variables"], written["variables"]);

  // A broken file is refused with the field named.
  changed["blocks"][0]["type"] = "nonsense";
  QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
  file.write(QByteArray::fromStdString(changed.dump()));
  file.close();
  QSignalSpy failed(&view(), &ArchitectView::failed);
  view().importFile(path);
  QVERIFY(failed.wait(10000));
  QVERIFY2(failed[0][0].toString().contains(QStringLiteral("blocks[0].type")),
           qPrintable(failed[0][0].toString()));
}

// `rmm serve` on the same RMM_HOME reads what the app saved, and the app lists what the API created.
void ArchitectTest::sharesTemplatesWithServe() {
  if (saved_id_.isEmpty()) QSKIP("savesVersionsAndLoads did not save");
  rmm::test::ServerProcess server({"--port", "0", "-t", "1"});
  const std::string base = "/api/prompts/templates/" + saved_id_.toStdString();
  const auto got = rmm::test::http_get(server.port(), base);
  QCOMPARE(got.status, 200);
  const json t = got.json();
  JSON_COMPARE(t["name"], json("Desktop Saved"));
  JSON_COMPARE(t["version"], json(2));
  JSON_COMPARE(t["blocks"][0]["text"], json("Second text"));
  const json versions = rmm::test::http_get(server.port(), base + "/versions").json()["versions"];
  QCOMPARE(versions.size(), size_t(2));
  JSON_COMPARE(versions[0]["message"], json("first"));
  JSON_COMPARE(versions[1]["message"], json("second"));

  const auto created = rmm::test::http_post_json(
      server.port(), "/api/prompts/templates",
      {{"name", "From The API"}, {"blocks", {{{"type", "user"}, {"text", "Made over HTTP"}}}}});
  QCOMPARE(created.status, 201);
  const QString id = QString::fromStdString(created.json()["id"].get<std::string>());
  QSignalSpy listed(&view(), &ArchitectView::templatesListed);
  view().refreshTemplates();
  QVERIFY(listed.wait(10000));
  QVERIFY(view().templateIds().contains(id));
  QSignalSpy loaded(&view(), &ArchitectView::loaded);
  view().loadTemplate(id);
  QVERIFY(loaded.wait(10000));
  JSON_COMPARE(view().templateJson()["blocks"][0]["text"], json("Made over HTTP"));
}

QTEST_MAIN(ArchitectTest)
#include "test_architect.moc"
