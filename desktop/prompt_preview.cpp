#include "prompt_preview.hpp"

#include <QCoreApplication>
#include <QStringList>

namespace rmm::desktop {

namespace {

QString tr(const char* text) { return QCoreApplication::translate("PromptPreview", text); }

QString role_title(const std::string& role) {
  if (role == "system") return tr("System");
  if (role == "assistant") return tr("Assistant");
  return tr("User");
}

QString plain(const nlohmann::json& v) {
  return QString::fromStdString(v.is_string() ? v.get<std::string>() : v.dump());
}

const char* const kHeading = "<p style='margin-top:8px; margin-bottom:2px'><b>%1</b></p>";

}  // namespace

QString preview_html(const nlohmann::json& messages, const nlohmann::json& params) {
  QString html;
  for (const auto& m : messages) {
    html += QString::fromLatin1(kHeading).arg(role_title(m.value("role", "")));
    html += QStringLiteral("<p style='white-space:pre-wrap; margin-top:0'>%1</p>")
                .arg(QString::fromStdString(m.value("content", "")).toHtmlEscaped());
  }
  if (params.empty()) return html;
  QStringList fields;
  for (const auto& [key, value] : params.items()) {
    QStringList parts;
    if (value.is_array())
      for (const auto& x : value) parts << plain(x);
    else
      parts << plain(value);
    fields << QStringLiteral("%1&nbsp;<code>%2</code>")
                  .arg(QString::fromStdString(key), parts.join(QStringLiteral(", ")).toHtmlEscaped());
  }
  html += QString::fromLatin1(kHeading).arg(tr("Parameters"));
  html += QStringLiteral("<p>%1</p>").arg(fields.join(QStringLiteral(" &nbsp;·&nbsp; ")));
  return html;
}

}  // namespace rmm::desktop
