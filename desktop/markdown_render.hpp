#pragma once
// Markdown into a QTextDocument with Qt's own reader (GitHub dialect: code
// fences, tables, lists), each code block shaded and headed by a "Copy"
// link. The link is "rmm:copy/N": N indexes `codes`, which receives the
// block's text (the view copies it when the link is clicked). The Markdown is
// a model's: raw HTML is shown as text and links other than web and mail
// ones (is_safe_link) are left as plain text.
#include <QString>
#include <QStringList>

class QPalette;
class QUrl;
class QTextCursor;

namespace rmm::desktop {

// http, https and mailto: what a click on a link in a model's text may open.
bool is_safe_link(const QUrl& url);

void insert_markdown(QTextCursor& at, const QString& markdown, const QPalette& palette, QStringList& codes);

}  // namespace rmm::desktop
