#include <gtest/gtest.h>

#include <fstream>

#include "core/error.hpp"
#include "engine/engine_fixture.hpp"

using namespace rmm;
using namespace rmm::test;

namespace {

ErrorKind load_error(const std::filesystem::path& p) {
  engine::LoadParams lp;
  lp.path = p;
  try {
    engine::Model::load(lp);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
    return e.kind();
  }
  ADD_FAILURE() << "loaded " << p;
  return ErrorKind::Internal;
}

}  // namespace

TEST(ModelLoad, MissingFileDirectoryAndTextFileAreClearErrors) {
  const auto dir = temp_dir("load");
  EXPECT_EQ(load_error(dir / "nope.gguf"), ErrorKind::NotFound);
  EXPECT_EQ(load_error(dir), ErrorKind::BadFile);
  std::ofstream(dir / "text.gguf") << "hello, I am not a model\n";
  EXPECT_EQ(load_error(dir / "text.gguf"), ErrorKind::BadFile);
}

TEST(ModelLoad, TruncatedModelIsRefusedNotCrashed) {
  const auto src = shared_model("stories260K.gguf");
  if (src.empty()) GTEST_SKIP() << "stories260K.gguf is absent";
  const auto dir = temp_dir("trunc");
  std::ifstream in(src, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (size_t cut : {size_t{16}, bytes.size() / 3, bytes.size() - 100}) {
    const auto p = dir / ("cut" + std::to_string(cut) + ".gguf");
    std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(cut));
    EXPECT_EQ(load_error(p), ErrorKind::BadFile) << cut;
  }
}

TEST(ModelLoad, ProgressIsReportedAndCanCancel) {
  const auto src = shared_model("stories260K.gguf");
  if (src.empty()) GTEST_SKIP() << "stories260K.gguf is absent";
  engine::LoadParams lp;
  lp.path = src;
  std::vector<float> seen;
  lp.progress = [&](float p) {
    seen.push_back(p);
    return true;
  };
  auto m = engine::Model::load(lp);
  ASSERT_FALSE(seen.empty());
  EXPECT_FLOAT_EQ(seen.back(), 1.0f);
  EXPECT_EQ(m->n_vocab(), 512);
  EXPECT_EQ(m->n_layer(), 5);
  EXPECT_EQ(m->n_ctx_train(), 2048);

  lp.progress = [](float) { return false; };
  try {
    engine::Model::load(lp);
    FAIL() << "cancelled load returned a model";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Cancelled);
  }
}
