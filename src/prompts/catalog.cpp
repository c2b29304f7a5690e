#include "prompts/catalog.hpp"

#include <algorithm>

#include "prompts/starters.hpp"

namespace rmm::prompts {

Template from_stored(const store::TemplateVersion& v) {
  Template t = parse_template_text(v.body_json);
  t.id = v.id;
  t.version = v.version;
  return t;
}

Template save(store::TemplateStore& s, const Template& t) {
  validate(t, true);
  store::TemplateVersion v;
  v.id = t.id;
  v.name = t.name;
  v.description = t.description;
  v.tags = t.tags;
  v.body_json = to_json(t).dump();
  return from_stored(s.save_template(v));
}

bool same_content(const Template& a, const Template& b) {
  auto ja = to_json(a), jb = to_json(b);
  for (auto* j : {&ja, &jb}) {
    j->erase("id");
    j->erase("version");
    j->erase("message");  // a note on a version, not what it says
  }
  return ja == jb;
}

SaveOutcome save_if_changed(store::TemplateStore& s, const Template& t) {
  validate(t, true);
  if (const auto latest = s.get_template(t.id)) {
    Template current = from_stored(*latest);
    if (same_content(current, t)) return {std::move(current), false};
  }
  return {save(s, t), true};
}

int seed_starters(store::TemplateStore& s) {
  int n = 0;
  for (const auto& t : starter_templates()) {
    if (!s.get_template(t.id)) {
      save(s, t);
      ++n;
    }
  }
  return n;
}

namespace {
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}
}  // namespace

std::optional<Template> find_by_name(store::TemplateStore& s, const std::string& name) {
  for (const auto& v : s.list_templates())
    if (lower(v.name) == lower(name)) return from_stored(v);
  return std::nullopt;
}

Template find(store::TemplateStore& s, const std::string& name_or_id, std::optional<int> version) {
  std::string id = name_or_id;
  if (!s.get_template(id)) {
    for (const auto& v : s.list_templates()) {
      if (lower(v.name) == lower(name_or_id)) id = v.id;
    }
  }
  auto v = s.get_template(id, version);
  if (!v) {
    if (version && s.get_template(id))
      throw Error(ErrorKind::NotFound, "template '" + id + "' has no version " + std::to_string(*version));
    throw Error(ErrorKind::NotFound, "no template named '" + name_or_id + "'");
  }
  return from_stored(*v);
}

std::string free_id(store::TemplateStore& s, const std::string& name) {
  const std::string base = id_from_name(name);
  if (!s.get_template(base)) return base;
  for (int i = 2;; ++i) {
    const std::string number = std::to_string(i);
    // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) about `"-" + std::to_string(i)`.
    std::string id(base, 0, std::min(base.size(), 63 - number.size()));
    id += '-';
    id += number;
    if (!s.get_template(id)) return id;
  }
}

}  // namespace rmm::prompts
