#pragma once
// The Architect's preview as rich text: each rendered message under its role,
// then the parameters block's settings. Colours come from the palette, so it
// reads the same in either theme.
#include <QString>
#include <nlohmann/json.hpp>

namespace rmm::desktop {

// `messages`: [{role, content}]; `params`: the rendered parameters object.
QString preview_html(const nlohmann::json& messages, const nlohmann::json& params);

}  // namespace rmm::desktop
