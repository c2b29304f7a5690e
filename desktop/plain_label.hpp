#pragma once
// A QLabel that shows its text as it is. QLabel's default (Qt::AutoText)
// renders anything that looks like HTML: text from a model file's metadata,
// the Hub, a template or an error message must not become markup (an <img>
// would read a local file).
#include <QLabel>

namespace rmm::desktop {

inline QLabel* plain_label(const QString& text = QString()) {
  auto* l = new QLabel(text);
  l->setTextFormat(Qt::PlainText);
  return l;
}

}  // namespace rmm::desktop
