#include "registry/registry_fixture.hpp"

#include "gguf/gguf_builder.hpp"
#include "support/test_env.hpp"

namespace rmm::test {

void write_gguf(const std::filesystem::path& file, const Meta& meta) {
  GgufBuilder b;
  b.header(3, 0, meta.size());
  for (const auto& [key, v] : meta) {
    if (v.is_string) {
      b.kv_str(key, v.s);
    } else if (v.is_u16) {
      b.key(key, 2).u16(static_cast<uint16_t>(v.u));
    } else {
      b.kv_u32(key, v.u);
    }
  }
  b.align();
  std::filesystem::create_directories(file.parent_path());
  b.write(file);
}

void write_llama(const std::filesystem::path& file, uint32_t file_type, const std::string& name) {
  Meta meta{{"general.architecture", str("llama")},
            {"general.file_type", u32(file_type)},
            {"llama.context_length", u32(4096)}};
  if (!name.empty()) meta["general.name"] = str(name);
  write_gguf(file, meta);
}

void RegistryTest::SetUp() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  dir_ = temp_dir(std::string("registry-") + info->name());
  models_ = dir_ / "models";
  std::filesystem::create_directories(models_);
  store_ = store::open_store((dir_ / "rmm.db").string());
  registry_ = std::make_unique<models::Registry>(*store_, models::RegistryOptions{{models_}, true});
}

void RegistryTest::TearDown() {
  registry_.reset();
  store_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

store::ModelRecord RegistryTest::named(const std::string& short_name) {
  for (auto& m : store_->list_models())
    if (m.short_name == short_name) return m;
  std::string names;
  for (auto& m : store_->list_models()) names += m.short_name + " ";
  ADD_FAILURE() << "no model named " << short_name << "; have: " << names;
  return {};
}

}  // namespace rmm::test
