// The model registry's tables (schema step 3) in both back ends.
#include <functional>

#include "core/error.hpp"
#include "store_test_fixture.hpp"

namespace rmm::store::test {
namespace {

ModelRecord make_model(const std::string& path, const std::string& name) {
  ModelRecord m;
  m.path = path;
  m.size = 1234;
  m.mtime = 5678;
  m.kind = "chat";
  m.metadata_json = R"({"architecture":"llama"})";
  m.short_name = name;
  return m;
}

ErrorKind kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no error";
  return ErrorKind::Internal;
}

TEST_P(StoreTest, ModelPutListGetAndUpdateKeepsHistory) {
  auto a = store_->put_model(make_model("/m/b.gguf", "b:q8_0"));
  auto b = store_->put_model(make_model("/m/a.gguf", "a:q4_k_m"));
  EXPECT_GT(a.id, 0);
  EXPECT_NE(a.id, b.id);
  EXPECT_GT(a.first_seen, 0);
  EXPECT_EQ(a.sha256, "");
  EXPECT_EQ(a.use_count, 0);
  EXPECT_EQ(a.first_used, 0);
  auto all = store_->list_models();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].short_name, "a:q4_k_m");  // by short name
  EXPECT_EQ(all[1].metadata_json, R"({"architecture":"llama"})");

  store_->record_model_use(a.id, std::nullopt);
  store_->set_model_alias("fav", a.id);
  store_->add_model_tag(a.id, "tiny");
  ModelRecord changed = a;
  changed.size = 99;
  changed.mtime = 100;
  changed.sha256 = "ab";
  changed.kind = "embedding";
  auto after = store_->put_model(changed);
  EXPECT_EQ(after.id, a.id);
  EXPECT_EQ(after.size, 99);
  EXPECT_EQ(after.sha256, "ab");
  EXPECT_EQ(after.kind, "embedding");
  EXPECT_EQ(after.use_count, 1);
  EXPECT_EQ(after.first_seen, a.first_seen);
  EXPECT_EQ(after.aliases, std::vector<std::string>{"fav"});
  EXPECT_EQ(after.tags, std::vector<std::string>{"tiny"});
  EXPECT_FALSE(store_->get_model(a.id + b.id + 100));
}

TEST_P(StoreTest, ModelPathAndShortNameAreUnique) {
  auto a = store_->put_model(make_model("/m/a.gguf", "a"));
  store_->put_model(make_model("/m/b.gguf", "b"));
  EXPECT_EQ(kind_of([&] { store_->put_model(make_model("/m/a.gguf", "c")); }), ErrorKind::InvalidArgument);
  EXPECT_EQ(kind_of([&] { store_->put_model(make_model("/m/c.gguf", "b")); }), ErrorKind::InvalidArgument);
  ModelRecord rename = a;
  rename.short_name = "b";
  EXPECT_EQ(kind_of([&] { store_->put_model(rename); }), ErrorKind::InvalidArgument);
  EXPECT_EQ(kind_of([&] { store_->put_model(make_model("", "x")); }), ErrorKind::InvalidArgument);
  EXPECT_EQ(kind_of([&] { store_->put_model(make_model("/m/x", "")); }), ErrorKind::InvalidArgument);
  EXPECT_EQ(kind_of([&] { store_->put_model(make_model("/m/\xC3\x28", "x")); }), ErrorKind::InvalidArgument);
  ModelRecord ghost = make_model("/m/g.gguf", "g");
  ghost.id = 424242;
  EXPECT_EQ(kind_of([&] { store_->put_model(ghost); }), ErrorKind::NotFound);
}

TEST_P(StoreTest, ModelShaIsKeptOnlyForTheSameFile) {
  auto a = store_->put_model(make_model("/m/a.gguf", "a"));
  EXPECT_FALSE(store_->set_model_sha256(a.id, a.size + 1, a.mtime, "dead"));
  EXPECT_FALSE(store_->set_model_sha256(a.id, a.size, a.mtime + 1, "dead"));
  EXPECT_EQ(store_->get_model(a.id)->sha256, "");
  EXPECT_TRUE(store_->set_model_sha256(a.id, a.size, a.mtime, "beef"));
  EXPECT_EQ(store_->get_model(a.id)->sha256, "beef");
}

TEST_P(StoreTest, ModelAliasesMoveAndTagsAreSets) {
  auto a = store_->put_model(make_model("/m/a.gguf", "a"));
  auto b = store_->put_model(make_model("/m/b.gguf", "b"));
  store_->set_model_alias("x", a.id);
  store_->set_model_alias("y", a.id);
  store_->set_model_alias("x", b.id);  // moves
  EXPECT_EQ(store_->get_model(a.id)->aliases, std::vector<std::string>{"y"});
  EXPECT_EQ(store_->get_model(b.id)->aliases, std::vector<std::string>{"x"});
  EXPECT_TRUE(store_->remove_model_alias("y"));
  EXPECT_FALSE(store_->remove_model_alias("y"));
  EXPECT_EQ(kind_of([&] { store_->set_model_alias("z", 987654); }), ErrorKind::NotFound);
  EXPECT_EQ(kind_of([&] { store_->set_model_alias("", a.id); }), ErrorKind::InvalidArgument);

  store_->add_model_tag(a.id, "t2");
  store_->add_model_tag(a.id, "t1");
  store_->add_model_tag(a.id, "t1");
  EXPECT_EQ(store_->get_model(a.id)->tags, (std::vector<std::string>{"t1", "t2"}));
  EXPECT_TRUE(store_->remove_model_tag(a.id, "t1"));
  EXPECT_FALSE(store_->remove_model_tag(a.id, "t1"));
  EXPECT_EQ(kind_of([&] { store_->add_model_tag(987654, "t"); }), ErrorKind::NotFound);
}

TEST_P(StoreTest, ModelUseCountsAndKeepsTheLastSpeeds) {
  auto a = store_->put_model(make_model("/m/a.gguf", "a"));
  store_->record_model_use(a.id, std::nullopt);
  auto once = *store_->get_model(a.id);
  EXPECT_EQ(once.use_count, 1);
  EXPECT_GT(once.first_used, 0);
  for (int i = 0; i < kModelSpeedsKept + 5; ++i)
    store_->record_model_use(a.id, ModelSpeed{"CPU", 100.0 + i, 10.5 + i, 0});
  store_->record_model_use(a.id, ModelSpeed{"CUDA", 1000, 200, 0});
  auto twice = *store_->get_model(a.id);
  EXPECT_EQ(twice.use_count, kModelSpeedsKept + 7);
  EXPECT_EQ(twice.first_used, once.first_used);
  EXPECT_GE(twice.last_used, once.last_used);
  auto speeds = store_->model_speeds(a.id);
  ASSERT_EQ(speeds.size(), static_cast<size_t>(kModelSpeedsKept + 1));
  EXPECT_EQ(speeds[0].backend, "CUDA");
  EXPECT_EQ(speeds[1].backend, "CPU");
  EXPECT_DOUBLE_EQ(speeds[1].prompt_tokens_per_second, 100.0 + kModelSpeedsKept + 4);
  EXPECT_DOUBLE_EQ(speeds[1].generation_tokens_per_second, 10.5 + kModelSpeedsKept + 4);
  EXPECT_GT(speeds[1].measured_at, 0);
  EXPECT_EQ(kind_of([&] { store_->record_model_use(987654, std::nullopt); }), ErrorKind::NotFound);
  EXPECT_EQ(kind_of([&] {
              store_->record_model_use(a.id, ModelSpeed{"CPU", -1, 1, 0});
            }),
            ErrorKind::InvalidArgument);
}

TEST_P(StoreTest, ModelDeleteTakesAliasesTagsAndSpeeds) {
  auto a = store_->put_model(make_model("/m/a.gguf", "a"));
  store_->set_model_alias("x", a.id);
  store_->add_model_tag(a.id, "t");
  store_->record_model_use(a.id, ModelSpeed{"CPU", 1, 1, 0});
  EXPECT_TRUE(store_->delete_model(a.id));
  EXPECT_FALSE(store_->delete_model(a.id));
  EXPECT_TRUE(store_->list_models().empty());
  EXPECT_TRUE(store_->model_speeds(a.id).empty());
  EXPECT_EQ(loc_->scalar("SELECT COUNT(*) FROM model_aliases"), "0");
  EXPECT_EQ(loc_->scalar("SELECT COUNT(*) FROM model_tags"), "0");
  // The alias is free again.
  auto b = store_->put_model(make_model("/m/a.gguf", "a"));
  store_->set_model_alias("x", b.id);
}

}  // namespace
}  // namespace rmm::store::test
