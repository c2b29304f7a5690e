// The model registry over real files: scans, kinds, split groups, short
// names, resolution, aliases, background sha256 and use counts.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/subprocess.hpp"
#include "models/model_kind.hpp"
#include "models/short_name.hpp"
#include "registry/registry_fixture.hpp"
#include "support/test_env.hpp"

using namespace rmm;
using namespace rmm::test;
namespace fs = std::filesystem;

namespace {

ErrorKind error_of(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.kind();
  }
  ADD_FAILURE() << "no error";
  return ErrorKind::Internal;
}

nlohmann::json meta_of(const store::ModelRecord& m) { return nlohmann::json::parse(m.metadata_json); }

TEST(ShortName, FromFileNameAndQuantization) {
  using models::short_name_candidate;
  EXPECT_EQ(short_name_candidate("Qwen2.5 0.5B Instruct", "Qwen2.5-0.5B-Instruct-Q4_K_M", "Q4_K_M"),
            "qwen2.5-0.5b-instruct:q4_k_m");
  EXPECT_EQ(short_name_candidate("", "stories260K", "F32"), "stories260k:f32");
  EXPECT_EQ(short_name_candidate("My Model", "model", "Q8_0"), "my-model:q8_0");  // generic stem
  EXPECT_EQ(short_name_candidate("", "a b..c__d", ""), "a-b.c__d");
  EXPECT_EQ(short_name_candidate("", "vision", "F16", "mmproj"), "vision-mmproj:f16");
  EXPECT_EQ(short_name_candidate("", "mmproj-x", "F16", "mmproj"), "mmproj-x:f16");
  EXPECT_EQ(short_name_candidate("", "...", ""), "model");
  auto taken = [](const std::string& n) { return n == "x:q4_k_m" || n == "x-2:q4_k_m"; };
  EXPECT_EQ(models::unique_short_name("x:q4_k_m", taken), "x-3:q4_k_m");
  EXPECT_EQ(models::unique_short_name("y:q4_k_m", taken), "y:q4_k_m");
}

TEST(ShortName, PathLikeNamesAreRejected) {
  for (const char* bad : {"a/b", "a\\b", "..", "x..y", "", "with space", "tab\there"})
    EXPECT_EQ(error_of([&] { models::check_name(bad, "alias"); }), ErrorKind::InvalidArgument) << bad;
  models::check_name("qwen2.5-0.5b:q4_k_m", "alias");
}

TEST_F(RegistryTest, ScanAddsUpdatesAndRemoves) {
  write_llama(models_ / "a-Q4_K_M.gguf");
  write_llama(models_ / "deep" / "er" / "b.gguf", 7);  // Q8_0
  auto r = registry_->scan();
  EXPECT_EQ(r.added, 2);
  EXPECT_EQ(named("a:q4_k_m").kind, "chat");
  EXPECT_EQ(meta_of(named("b:q8_0"))["context_length"], 4096);

  r = registry_->scan();
  EXPECT_EQ(r.unchanged, 2);
  EXPECT_EQ(r.added + r.updated + r.removed, 0);

  // Replaced with a different file: re-read, same name, hash forgotten.
  registry_->wait_for_hashes();
  const auto before = named("a:q4_k_m");
  EXPECT_FALSE(before.sha256.empty());
  write_gguf(models_ / "a-Q4_K_M.gguf", {{"general.architecture", str("bert")},
                                         {"general.file_type", u32(15)},
                                         {"general.name", str("Another one")}});
  r = registry_->scan();
  EXPECT_EQ(r.updated, 1);
  const auto after = named("a:q4_k_m");
  EXPECT_EQ(after.id, before.id);
  EXPECT_EQ(after.kind, "embedding");

  fs::remove(models_ / "deep" / "er" / "b.gguf");
  write_llama(models_ / "c.gguf", 1);
  r = registry_->scan();
  EXPECT_EQ(r.removed, 1);
  EXPECT_EQ(r.added, 1);
  auto all = registry_->list();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].short_name, "a:q4_k_m");
  EXPECT_EQ(all[1].short_name, "c:f16");
}

TEST_F(RegistryTest, KindsAreDetected) {
  write_llama(models_ / "chat.gguf");
  write_gguf(models_ / "bert.gguf", {{"general.architecture", str("bert")}, {"bert.pooling_type", u32(1)}});
  write_gguf(models_ / "qwen3-embed.gguf",
             {{"general.architecture", str("qwen3")}, {"qwen3.pooling_type", u32(3)}});
  write_gguf(models_ / "rank.gguf", {{"general.architecture", str("qwen3")}, {"qwen3.pooling_type", u32(4)}});
  write_gguf(models_ / "proj.gguf", {{"general.architecture", str("clip")}, {"general.type", str("mmproj")}});
  std::ofstream(models_ / "weights.safetensors") << "not really";
  std::ofstream(models_ / "pytorch_model.bin") << "not really";
  std::ofstream(models_ / "broken.gguf") << "GGUF but not really";
  std::ofstream(models_ / "notes.txt") << "ignored";
  std::ofstream(models_ / ".hidden.gguf") << "ignored";
  std::ofstream(models_ / "partial.gguf.part") << "ignored";
  registry_->scan();
  EXPECT_EQ(registry_->list().size(), 8u);
  EXPECT_EQ(named("chat:q4_k_m").kind, "chat");
  EXPECT_EQ(named("bert").kind, "embedding");
  EXPECT_EQ(named("qwen3-embed").kind, "embedding");
  EXPECT_EQ(named("rank-reranker").kind, "reranker");
  EXPECT_EQ(named("proj-mmproj").kind, "mmproj");
  const auto st = named("weights:safetensors");
  EXPECT_EQ(st.kind, "needs-conversion");
  EXPECT_NE(meta_of(st)["error"].get<std::string>().find("convert"), std::string::npos);
  EXPECT_EQ(named("pytorch_model:pytorch").kind, "needs-conversion");
  const auto broken = named("broken");
  EXPECT_EQ(broken.kind, "invalid");
  EXPECT_FALSE(meta_of(broken)["error"].get<std::string>().empty());
}

TEST_F(RegistryTest, SplitFilesAreOneModel) {
  for (uint32_t i = 1; i <= 3; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "big-Q4_K_M-%05u-of-00003.gguf", i);
    write_gguf(models_ / name, {{"general.architecture", str("llama")},
                                {"general.file_type", u32(15)},
                                {"split.no", u16(static_cast<uint16_t>(i - 1))},
                                {"split.count", u16(3)}});
  }
  registry_->scan();
  auto all = registry_->list();
  ASSERT_EQ(all.size(), 1u);
  const auto m = all[0];
  EXPECT_EQ(m.short_name, "big:q4_k_m");
  EXPECT_FALSE(m.split_group.empty());
  const auto parts = models::Registry::parts_of(m);
  ASSERT_EQ(parts.size(), 3u);
  int64_t total = 0;
  for (const auto& p : parts) total += static_cast<int64_t>(fs::file_size(p));
  EXPECT_EQ(m.size, total);
  EXPECT_EQ(m.path, parts[0].string());
  // The hash covers every part, in order.
  registry_->wait_for_hashes();
  const std::string hashes = store_->get_model(m.id)->sha256;
  EXPECT_EQ(std::count(hashes.begin(), hashes.end(), ','), 2) << hashes;
  // Resolvable by the name without the split suffix.
  EXPECT_EQ(registry_->resolve("big-Q4_K_M").id, m.id);

  fs::remove(parts[1]);
  registry_->scan();
  const auto broken = named("big:q4_k_m");
  EXPECT_EQ(broken.kind, "invalid");
  EXPECT_NE(meta_of(broken)["error"].get<std::string>().find("missing part(s) 2 of 3"), std::string::npos);
}

TEST_F(RegistryTest, ShortNameClashesGetSuffixes) {
  write_llama(models_ / "one" / "same-Q4_K_M.gguf");
  write_llama(models_ / "two" / "same-Q4_K_M.gguf");
  write_llama(models_ / "three" / "same.gguf");
  registry_->scan();
  EXPECT_EQ(named("same:q4_k_m").path, (models_ / "one" / "same-Q4_K_M.gguf").string());
  EXPECT_EQ(named("same-2:q4_k_m").path, (models_ / "three" / "same.gguf").string());
  EXPECT_EQ(named("same-3:q4_k_m").path, (models_ / "two" / "same-Q4_K_M.gguf").string());
  // Names stay put across rescans.
  registry_->scan(true);
  EXPECT_EQ(named("same-3:q4_k_m").path, (models_ / "two" / "same-Q4_K_M.gguf").string());
}

// rmm pull writes OWNER/REPO/FILE with an rmm-pull.json naming the repo: the
// name comes from the repo (as Ollama's hf.co names do), the owner is added on
// a clash, never a "-2" that reads like another model family.
TEST_F(RegistryTest, PulledFilesAreNamedForTheirRepo) {
  auto pulled = [&](const std::string& repo, const std::string& file) {
    const auto dir = models_ / repo;
    fs::create_directories(dir);
    std::ofstream(dir / "rmm-pull.json")
        << nlohmann::json{{"repo", repo}, {"pulls", nlohmann::json::array()}};
    write_llama(dir / file, 15, "Llama");
    return (dir / file).string();
  };
  const auto a = pulled("bartowski/Llama-3.2-1B-Instruct-GGUF", "model-Q4_K_M.gguf");
  const auto b = pulled("unsloth/Llama-3.2-1B-Instruct-GGUF", "Llama-3.2-1B-Instruct-Q4_K_M.gguf");
  const auto c = pulled("someone/Tiny_GGUF", "ggml-model.gguf");
  write_llama(models_ / "loose" / "model-Q4_K_M.gguf", 15, "Llama");  // no manifest: named as before
  std::ofstream(models_ / "loose" / "rmm-pull.json") << "{\"repo\": 5}";
  registry_->scan();
  EXPECT_EQ(named("llama-3.2-1b-instruct:q4_k_m").path, a);
  EXPECT_EQ(named("unsloth-llama-3.2-1b-instruct:q4_k_m").path, b);
  EXPECT_EQ(named("tiny:q4_k_m").path, c);
  EXPECT_EQ(named("llama:q4_k_m").path, (models_ / "loose" / "model-Q4_K_M.gguf").string());
}

TEST_F(RegistryTest, ResolveByNameAliasFileAndBase) {
  write_llama(models_ / "Qwen2.5-0.5B-Instruct-Q4_K_M.gguf", 15);
  write_llama(models_ / "Qwen2.5-0.5B-Instruct-Q8_0.gguf", 7);
  write_llama(models_ / "solo-F16.gguf", 1);
  registry_->scan();
  const auto q4 = named("qwen2.5-0.5b-instruct:q4_k_m");
  EXPECT_EQ(registry_->resolve("qwen2.5-0.5b-instruct:q4_k_m").id, q4.id);
  EXPECT_EQ(registry_->resolve("Qwen2.5-0.5B-Instruct:Q4_K_M").id, q4.id);       // any case
  EXPECT_EQ(registry_->resolve("Qwen2.5-0.5B-Instruct-Q4_K_M.gguf").id, q4.id);  // file name
  EXPECT_EQ(registry_->resolve("Qwen2.5-0.5B-Instruct-Q4_K_M").id, q4.id);       // stem
  EXPECT_EQ(registry_->resolve("solo").short_name, "solo:f16");                  // the only quant of its base
  registry_->set_alias("qwen2.5-0.5b-instruct:q4_k_m", "qw");
  EXPECT_EQ(registry_->resolve("qw").id, q4.id);

  std::string message;
  EXPECT_EQ(error_of([&] { registry_->resolve("qwen2.5-0.5b-instruct"); }, &message),
            ErrorKind::InvalidArgument);
  EXPECT_NE(message.find("ambiguous"), std::string::npos) << message;
  EXPECT_NE(message.find("qwen2.5-0.5b-instruct:q4_k_m"), std::string::npos) << message;
  EXPECT_NE(message.find("qwen2.5-0.5b-instruct:q8_0"), std::string::npos) << message;
  EXPECT_EQ(error_of([&] { registry_->resolve("nothing"); }), ErrorKind::NotFound);
  for (const std::string& bad : std::vector<std::string>{"../models/solo-F16.gguf",
                                                         (models_ / "solo-F16.gguf").string(), "a\\b", ".."})
    EXPECT_EQ(error_of([&] { registry_->resolve(bad); }), ErrorKind::InvalidArgument) << bad;
}

TEST_F(RegistryTest, ResolveNoticesDeletedAndReplacedFiles) {
  write_llama(models_ / "gone.gguf");
  write_llama(models_ / "swapped.gguf", 15);
  registry_->scan();
  fs::remove(models_ / "gone.gguf");
  std::string message;
  EXPECT_EQ(error_of([&] { registry_->resolve("gone:q4_k_m"); }, &message), ErrorKind::NotFound);
  EXPECT_NE(message.find("file is gone"), std::string::npos) << message;

  const auto before = named("swapped:q4_k_m");
  write_gguf(models_ / "swapped.gguf", {{"general.architecture", str("clip")},
                                        {"general.type", str("mmproj")},
                                        {"general.file_type", u32(1)},
                                        {"clip.extra", str("makes the file longer")}});
  const auto after = registry_->resolve("swapped:q4_k_m");
  EXPECT_EQ(after.id, before.id);
  EXPECT_EQ(after.kind, "mmproj");  // re-read before use
  EXPECT_NE(after.size, before.size);
  EXPECT_EQ(meta_of(after)["quantization"], "F16");
}

TEST_F(RegistryTest, AliasesAreCheckedAndMove) {
  write_llama(models_ / "a.gguf");
  write_llama(models_ / "b.gguf");
  registry_->scan();
  EXPECT_EQ(error_of([&] { registry_->set_alias("a:q4_k_m", "b:q4_k_m"); }), ErrorKind::InvalidArgument);
  EXPECT_EQ(error_of([&] { registry_->set_alias("a:q4_k_m", "x/y"); }), ErrorKind::InvalidArgument);
  EXPECT_EQ(error_of([&] { registry_->set_alias("nope", "x"); }), ErrorKind::NotFound);
  registry_->set_alias("a:q4_k_m", "fav");
  registry_->set_alias("b:q4_k_m", "fav");
  EXPECT_EQ(registry_->resolve("fav").short_name, "b:q4_k_m");
  EXPECT_TRUE(named("a:q4_k_m").aliases.empty());
  EXPECT_TRUE(registry_->remove_alias("fav"));
  EXPECT_EQ(error_of([&] { registry_->resolve("fav"); }), ErrorKind::NotFound);
  registry_->add_tag("a", "small");
  EXPECT_EQ(named("a:q4_k_m").tags, std::vector<std::string>{"small"});
}

// `rmm alias stories260k tinystories-656k` used to succeed, and then the other model's name ran this one.
TEST_F(RegistryTest, AnAliasNeverShadowsAnotherModelsNameAndResolvesInAnyCase) {
  write_llama(models_ / "a.gguf");
  write_llama(models_ / "b.gguf");
  registry_->scan();
  std::string why;
  for (const char* other : {"b", "B", "b.gguf", "B:Q4_K_M"}) {
    EXPECT_EQ(error_of([&] { registry_->set_alias("a:q4_k_m", other); }, &why), ErrorKind::InvalidArgument)
        << other;
    EXPECT_NE(why.find("b:q4_k_m"), std::string::npos) << why;
  }
  EXPECT_EQ(registry_->resolve("b").short_name, "b:q4_k_m");
  registry_->set_alias("a:q4_k_m", "a");  // its own file name: harmless
  registry_->set_alias("a:q4_k_m", "Fav");
  EXPECT_EQ(registry_->resolve("fav").short_name, "a:q4_k_m");
  EXPECT_EQ(registry_->resolve("FAV").short_name, "a:q4_k_m");
  registry_->set_alias("b:q4_k_m", "fav");  // an alias moves, whatever its case
  EXPECT_EQ(registry_->resolve("Fav").short_name, "b:q4_k_m");
}

TEST_F(RegistryTest, Sha256IsComputedInTheBackgroundOnce) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  fs::copy_file(model, models_ / "stories260K.gguf");
  registry_->scan();
  registry_->wait_for_hashes();
  const auto m = named("stories260k:f32");
  auto r = run_process({"/usr/bin/sha256sum", (models_ / "stories260K.gguf").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(m.sha256, r.out.substr(0, 64));
  // An unchanged file is not hashed again.
  store_->set_model_sha256(m.id, m.size, m.mtime, "kept");
  registry_->scan();
  registry_->wait_for_hashes();
  EXPECT_EQ(named("stories260k:f32").sha256, "kept");
}

// What the response cache keys answers by: the registry's hash, computed once by
// its one background hasher, for registered models and for files loaded by path.
TEST_F(RegistryTest, ModelSha256ForTheResponseCache) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  auto sha256sum = [](const fs::path& p) {
    auto r = run_process({"/usr/bin/sha256sum", p.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, 64);
  };
  auto append = [](const fs::path& p) { std::ofstream(p, std::ios::binary | std::ios::app) << "more"; };

  // A registered model: its stored hash, once computed.
  const fs::path registered = models_ / "stories260K.gguf";
  fs::copy_file(model, registered);
  registry_->scan();
  registry_->wait_for_hashes();
  EXPECT_EQ(registry_->model_sha256(registered), sha256sum(registered));
  EXPECT_EQ(named("stories260k:f32").sha256, sha256sum(registered));
  // Replaced on disk: unknown until the new version is re-read and hashed (and stored).
  append(registered);
  EXPECT_EQ(registry_->model_sha256(registered), std::nullopt);
  registry_->wait_for_hashes();
  EXPECT_EQ(registry_->model_sha256(registered), sha256sum(registered));
  EXPECT_EQ(named("stories260k:f32").sha256, sha256sum(registered));

  // A file outside the models dirs is hashed by the same hasher, kept in memory, not registered.
  const fs::path loose = dir_ / "elsewhere" / "loose.gguf";
  fs::create_directories(loose.parent_path());
  fs::copy_file(model, loose);
  EXPECT_EQ(registry_->model_sha256(loose), std::nullopt);
  registry_->wait_for_hashes();
  EXPECT_EQ(registry_->model_sha256(loose), sha256sum(loose));
  EXPECT_EQ(registry_->list().size(), 1u);
  append(loose);
  EXPECT_EQ(registry_->model_sha256(loose), std::nullopt);
  registry_->wait_for_hashes();
  EXPECT_EQ(registry_->model_sha256(loose), sha256sum(loose));

  // No hash for what is not there or not a model; a file that cannot be read is not retried.
  EXPECT_EQ(registry_->model_sha256(dir_ / "missing.gguf"), std::nullopt);
  std::ofstream(models_ / "broken.gguf") << "GGUF but not really";
  registry_->scan();
  EXPECT_EQ(registry_->model_sha256(models_ / "broken.gguf"), std::nullopt);
  EXPECT_EQ(registry_->hashes_pending(), 0u);
  if (::geteuid() != 0) {  // root reads any file
    const fs::path unreadable = dir_ / "unreadable.gguf";
    fs::copy_file(model, unreadable);
    fs::permissions(unreadable, fs::perms::none);
    EXPECT_EQ(registry_->model_sha256(unreadable), std::nullopt);
    registry_->wait_for_hashes();
    EXPECT_EQ(registry_->model_sha256(unreadable), std::nullopt);
    EXPECT_EQ(registry_->hashes_pending(), 0u) << "a failed hash is not queued again for the same file";
  }
}

TEST_F(RegistryTest, UsesAndSpeedsAreRecorded) {
  write_llama(models_ / "a.gguf");
  registry_->scan();
  const auto a = named("a:q4_k_m");
  registry_->record_use(a.id, store::ModelSpeed{"CPU", 120.5, 33.25, 0});
  registry_->record_use(a.id);
  const auto used = named("a:q4_k_m");
  EXPECT_EQ(used.use_count, 2);
  EXPECT_GT(used.first_used, 0);
  EXPECT_GE(used.last_used, used.first_used);
  const auto speeds = store_->model_speeds(a.id);
  ASSERT_EQ(speeds.size(), 1u);
  EXPECT_DOUBLE_EQ(speeds[0].generation_tokens_per_second, 33.25);
}

TEST_F(RegistryTest, RemoveDeletesEveryPart) {
  write_llama(models_ / "x-00001-of-00002.gguf");
  write_llama(models_ / "x-00002-of-00002.gguf");
  registry_->scan();
  const auto m = registry_->resolve("x");
  const auto deleted = registry_->remove(m);
  EXPECT_EQ(deleted.size(), 2u);
  EXPECT_FALSE(fs::exists(models_ / "x-00001-of-00002.gguf"));
  EXPECT_FALSE(fs::exists(models_ / "x-00002-of-00002.gguf"));
  EXPECT_TRUE(registry_->list().empty());
}

TEST_F(RegistryTest, ModelsOutsideTheScannedDirsStayWhileTheirFilesExist) {
  const fs::path other = dir_ / "other";
  write_llama(other / "far.gguf");
  {
    models::Registry wide(*store_, models::RegistryOptions{{models_, other}, false});
    wide.scan();
  }
  registry_->scan();  // only models_ now
  EXPECT_EQ(registry_->resolve("far").short_name, "far:q4_k_m");
  fs::remove(other / "far.gguf");
  registry_->scan();
  EXPECT_TRUE(registry_->list().empty());
}

}  // namespace
