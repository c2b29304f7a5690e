// The store glue, over an in-memory TemplateStore that follows the contract in store.hpp.
#include <gtest/gtest.h>

#include <map>

#include "prompts/catalog.hpp"
#include "prompts/starters.hpp"

using namespace rmm;
using namespace rmm::prompts;

namespace {

class MemoryStore : public store::TemplateStore {
 public:
  store::TemplateVersion save_template(const store::TemplateVersion& t) override {
    auto& versions = templates_[t.id];
    store::TemplateVersion v = t;
    v.version = static_cast<int>(versions.size()) + 1;
    auto body = nlohmann::json::parse(v.body_json);
    body["version"] = v.version;
    v.body_json = body.dump();
    versions.push_back(v);
    return v;
  }
  std::optional<store::TemplateVersion> get_template(const std::string& id,
                                                     std::optional<int> version) override {
    const auto it = templates_.find(id);
    if (it == templates_.end()) return std::nullopt;
    if (!version) return it->second.back();
    if (*version < 1 || *version > static_cast<int>(it->second.size())) return std::nullopt;
    return it->second[*version - 1];
  }
  std::vector<store::TemplateVersion> list_templates() override {
    std::vector<store::TemplateVersion> out;
    for (const auto& [id, v] : templates_) out.push_back(v.back());
    return out;
  }
  std::vector<store::TemplateVersion> template_versions(const std::string& id) override {
    const auto it = templates_.find(id);
    return it == templates_.end() ? std::vector<store::TemplateVersion>{} : it->second;
  }
  bool delete_template(const std::string& id) override { return templates_.erase(id) > 0; }

 private:
  std::map<std::string, std::vector<store::TemplateVersion>> templates_;
};

}  // namespace

TEST(PromptCatalog, SeedsStartersOnceAndKeepsUserEdits) {
  MemoryStore s;
  EXPECT_EQ(seed_starters(s), 6);
  EXPECT_EQ(seed_starters(s), 0);
  Template t = find(s, "summarize");
  EXPECT_EQ(t.version, 1);
  t.description = "mine";
  EXPECT_EQ(save(s, t).version, 2);
  EXPECT_EQ(seed_starters(s), 0);
  EXPECT_EQ(find(s, "summarize").description, "mine");
  EXPECT_EQ(find(s, "summarize", 1).description, starter_templates()[3].description);
}

TEST(PromptCatalog, FindByIdOrNameAndFreeIds) {
  MemoryStore s;
  seed_starters(s);
  EXPECT_EQ(find(s, "Coding assistant").id, "coding-assistant");
  EXPECT_EQ(find(s, "CODING ASSISTANT").id, "coding-assistant");
  EXPECT_THROW(find(s, "nothing"), Error);
  EXPECT_THROW(find(s, "summarize", 7), Error);
  EXPECT_EQ(free_id(s, "Translate"), "translate-2");
  EXPECT_EQ(free_id(s, "Brand new"), "brand-new");
  Template t = starter_templates()[0];
  t.id = "";
  EXPECT_THROW(save(s, t), TemplateError);
}

TEST(PromptCatalog, SaveIfChangedAndFindByName) {
  MemoryStore s;
  seed_starters(s);
  Template t = find(s, "translate");
  // The same content is no new version, whatever id or version it carries.
  t.version = 0;
  auto out = save_if_changed(s, t);
  EXPECT_FALSE(out.changed);
  EXPECT_EQ(out.saved.version, 1);
  EXPECT_EQ(s.template_versions("translate").size(), 1u);
  Template copy = t;
  copy.id = "elsewhere";
  EXPECT_TRUE(same_content(t, copy));
  t.description = "changed";
  EXPECT_FALSE(same_content(t, copy));
  out = save_if_changed(s, t);
  EXPECT_TRUE(out.changed);
  EXPECT_EQ(out.saved.version, 2);

  ASSERT_TRUE(find_by_name(s, "TRANSLATE"));
  EXPECT_EQ(find_by_name(s, "TRANSLATE")->id, "translate");
  EXPECT_EQ(find_by_name(s, "TRANSLATE")->version, 2);
  EXPECT_FALSE(find_by_name(s, "translate-2"));
}
