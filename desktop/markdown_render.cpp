#include "markdown_render.hpp"

#include <QObject>
#include <QPalette>
#include <QTextBlock>
#include <QTextCursor>
#include <QTextDocument>
#include <QTextDocumentFragment>
#include <QTextFrame>
#include <QUrl>
#include <utility>
#include <vector>

namespace rmm::desktop {

namespace {

bool is_code(const QTextBlock& b) {
  const QTextBlockFormat f = b.blockFormat();
  return f.hasProperty(QTextFormat::BlockCodeFence) || f.hasProperty(QTextFormat::BlockCodeLanguage) ||
         f.nonBreakableLines();
}

// Between the window and the text colour: a code block stands out in both themes.
QColor code_background(const QPalette& p) {
  const QColor base = p.color(QPalette::Base);
  const QColor text = p.color(QPalette::Text);
  const double k = base.lightnessF() > 0.5 ? 0.06 : 0.12;
  return QColor::fromRgbF(float(base.redF() + (text.redF() - base.redF()) * k),
                          float(base.greenF() + (text.greenF() - base.greenF()) * k),
                          float(base.blueF() + (text.blueF() - base.blueF()) * k));
}

// Anchors whose scheme is not http, https or mailto become plain text.
void unlink_unsafe(QTextDocument& doc) {
  for (QTextBlock b = doc.begin(); b.isValid(); b = b.next()) {
    for (auto it = b.begin(); !it.atEnd(); ++it) {
      const QTextFragment f = it.fragment();
      if (!f.isValid() || !f.charFormat().isAnchor() || is_safe_link(QUrl(f.charFormat().anchorHref())))
        continue;
      QTextCursor c(&doc);
      c.setPosition(f.position());
      c.setPosition(f.position() + f.length(), QTextCursor::KeepAnchor);
      QTextCharFormat plain = f.charFormat();
      plain.setAnchor(false);
      plain.setAnchorHref(QString());
      plain.setFontUnderline(false);
      plain.clearForeground();
      c.setCharFormat(plain);
    }
  }
}

}  // namespace

bool is_safe_link(const QUrl& url) {
  const QString scheme = url.scheme().toLower();
  return scheme == QLatin1String("http") || scheme == QLatin1String("https") ||
         scheme == QLatin1String("mailto");
}

void insert_markdown(QTextCursor& at, const QString& markdown, const QPalette& palette, QStringList& codes) {
  QTextDocument doc;
  // The text is a model's: raw HTML shows as text (no <img src> reads a file), and only web and
  // mail links stay links (an "rmm:" one is the app's own, a file: or other scheme opens programs).
  doc.setMarkdown(markdown, QTextDocument::MarkdownFeatures(QTextDocument::MarkdownDialectGitHub |
                                                            QTextDocument::MarkdownNoHTML));
  unlink_unsafe(doc);
  // The code blocks first (a run of code lines is one block), then each goes in a shaded frame.
  std::vector<std::pair<QTextBlock, QTextBlock>> runs;
  for (QTextBlock b = doc.begin(); b.isValid(); b = b.next()) {
    if (!is_code(b)) continue;
    QTextBlock last = b;
    while (last.next().isValid() && is_code(last.next())) last = last.next();
    runs.emplace_back(b, last);
    b = last;
  }
  QTextFrameFormat frame;
  frame.setBackground(code_background(palette));
  frame.setPadding(8);
  frame.setBorder(0);
  frame.setMargin(0);  // the paragraphs around it keep their own spacing
  QTextCharFormat link;
  link.setAnchor(true);
  link.setForeground(palette.brush(QPalette::Link));
  link.setFontPointSize(doc.defaultFont().pointSizeF() * 0.85);
  for (const auto& [first, last] : runs) {
    QStringList lines;
    for (QTextBlock c = first; c.isValid(); c = c.next()) {
      lines << c.text();
      if (c == last) break;
    }
    link.setAnchorHref(QStringLiteral("rmm:copy/%1").arg(codes.size()));
    codes << lines.join(QLatin1Char('\n'));
    QTextCursor sel(&doc);
    sel.setPosition(first.position());
    sel.setPosition(last.position() + last.length() - 1, QTextCursor::KeepAnchor);
    QTextFrame* f = sel.insertFrame(frame);
    // The Copy link on a line of its own at the frame's top right.
    QTextCursor c = f->firstCursorPosition();
    c.insertBlock(c.blockFormat(), c.charFormat());
    c.movePosition(QTextCursor::PreviousBlock);
    QTextBlockFormat head;
    head.setAlignment(Qt::AlignRight);
    c.setBlockFormat(head);
    c.insertText(QObject::tr("Copy"), link);
  }
  at.insertFragment(QTextDocumentFragment(&doc));
}

}  // namespace rmm::desktop
