#pragma once
// Markdown into a QTextDocument with Qt's own reader (GitHub dialect: code
// fences, tables, lists), each code block shaded and headed by a "Copy"
// link. The link is "rmm:copy/N": N indexes `codes`, which receives the
// block's text (the view copies it when the link is clicked).
#include <QString>
#include <QStringList>

class QPalette;
class QTextCursor;

namespace rmm::desktop {

void insert_markdown(QTextCursor& at, const QString& markdown, const QPalette& palette, QStringList& codes);

}  // namespace rmm::desktop
