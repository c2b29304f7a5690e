#pragma once
// The model registry: the models dirs indexed into the store (path, size,
// mtime, sha256, kind, GGUF metadata, split groups, a unique short name,
// aliases, tags, use counts and measured speeds), and name resolution for
// every front end. scan() brings the index up to date by (path, size,
// mtime); resolve() turns a short name, alias or file name into a model.
// Thread-safe: one mutex serializes scans and resolutions.
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "models/file_hasher.hpp"
#include "store/store.hpp"

namespace rmm::models {

struct ScanReport {
  int added = 0;
  int updated = 0;
  int removed = 0;
  int unchanged = 0;
};

struct RegistryOptions {
  std::vector<std::filesystem::path> dirs;  // the first is the main models dir
  bool hash_in_background = true;           // sha256 of new and changed files on a thread
};

class Registry {
 public:
  Registry(store::ModelStore& store, RegistryOptions options);
  ~Registry();

  // Adds new files, re-reads changed ones (size or mtime differ; `force`:
  // all of them), and drops models whose files are gone: those under a
  // scanned dir, and any whose files no longer exist at all.
  ScanReport scan(bool force = false);
  // Tracks `file`, a model outside the dirs (the one `rmm serve --model PATH`
  // was started with), like the files in them: it gets an entry and a short
  // name now, and scans keep it up to date. Returns the entry (nullopt when
  // the file is gone).
  std::optional<store::ModelRecord> add_file(const std::filesystem::path& file);
  std::vector<store::ModelRecord> list();

  // The models folders: the options' dirs (the main one first, then the
  // configured ones), then those added with add_folder (kept in the store, so
  // every process on this database sees them).
  struct Folder {
    std::filesystem::path path;
    std::string source;  // "main", "config" or "added"
  };
  std::vector<Folder> folders();
  std::vector<std::filesystem::path> dirs();  // folders()' paths
  // Adds a folder of model files as it is laid out (scanned like the main
  // one, nothing moved). `dir` must be an absolute path to an existing folder
  // (symbolic links resolved), not the file system's root nor a system folder
  // (/proc, /sys, /dev), not a models folder already or inside one, and hold
  // at least one model file within the scan's depth. InvalidArgument,
  // NotFound or Forbidden otherwise, naming the path as given. Returns the
  // folder as stored and the models found in it.
  std::pair<Folder, std::vector<store::ModelRecord>> add_folder(const std::string& dir);
  // Forgets an added folder and the models that were found only through it
  // (their files stay where they are). NotFound when `dir` is not an added
  // folder (the main and configured ones are changed in config.toml).
  // Returns the models forgotten.
  std::vector<store::ModelRecord> remove_folder(const std::string& dir);

  // The model named `name`: its short name, an alias, its file name (with or
  // without extension), its short name in another case, or its short name
  // without the ":quant" part when only one model has that base. Names with
  // '/', '\\' or ".." are InvalidArgument (paths are the front end's
  // business); several matches are InvalidArgument listing them; none is
  // NotFound. A match whose file is gone is NotFound saying so; one whose
  // file changed is re-read first.
  store::ModelRecord resolve(const std::string& name);
  // Like resolve, but nullopt instead of NotFound for an unknown name.
  std::optional<store::ModelRecord> find(const std::string& name);
  std::optional<store::ModelRecord> find_by_path(const std::filesystem::path& path);

  // Points `alias` at the model named `name`. An alias may not be another
  // model's short name; one that points elsewhere is moved. Returns the model.
  store::ModelRecord set_alias(const std::string& name, const std::string& alias);
  bool remove_alias(const std::string& alias);
  store::ModelRecord add_tag(const std::string& name, const std::string& tag);
  bool remove_tag(const std::string& name, const std::string& tag);
  // Deletes the model's files (every part) and its row; returns the files deleted.
  std::vector<std::filesystem::path> remove(const store::ModelRecord& model);
  void record_use(int64_t id, const std::optional<store::ModelSpeed>& speed = std::nullopt);
  // The measured speeds per backend: the average of the kept runs (the store keeps the last few).
  struct Speed {
    std::string backend;  // "CPU", "CUDA"
    double prompt_tokens_per_second = 0;
    double generation_tokens_per_second = 0;
    size_t runs = 0;
    int64_t measured_at = 0;  // the newest run (unix ms)
  };
  std::vector<Speed> speeds(int64_t id);

  // The parts of a model (one path for a single file).
  static std::vector<std::filesystem::path> parts_of(const store::ModelRecord& model);
  // The sha256 of the model file at `path` (of every part, comma-joined, for a split model) when it
  // is known for the file as it is now: what the response cache keys answers by. Otherwise nullopt,
  // and the hash is queued first on the background hasher (unless it is queued or running, or
  // failed for this version of the file): a registered model's goes to the store (one replaced on
  // disk is re-read first, as resolve() does), a file outside the models dirs (a --model path,
  // --allow-model-paths) is hashed too and kept in memory. Always nullopt without a hasher
  // (hash_in_background off) and for invalid models.
  std::optional<std::string> model_sha256(const std::filesystem::path& path);
  // Waits for background hashing to finish (tests, `rmm models --hash`).
  void wait_for_hashes();
  size_t hashes_pending();
  const RegistryOptions& options() const { return options_; }

 private:
  std::optional<store::ModelRecord> find_locked(const std::string& name);
  store::ModelRecord refresh_locked(const store::ModelRecord& model);
  void queue_hash(const store::ModelRecord& model);

  store::ModelStore& store_;
  RegistryOptions options_;
  std::mutex mutex_;
  std::vector<std::filesystem::path> files_;  // add_file's, absolute; guarded by mutex_
  // Hashes model_sha256 answered, by path: its parts, their stamp, the hash (one stat per request).
  struct KnownHash {
    std::vector<std::filesystem::path> parts;
    FileStamp stamp;
    std::string sha256;
  };
  std::mutex known_mutex_;
  std::map<std::filesystem::path, KnownHash> known_;
  std::unique_ptr<FileHasher> hasher_;  // last: its thread stops first
};

// The models dirs: `main_dir` (normally $RMM_HOME/models), then the extra
// dirs from [models] extra_dirs in config.toml or RMM_EXTRA_DIRS, separated
// by ':'.
std::vector<std::filesystem::path> model_dirs(const Config& config, const std::filesystem::path& main_dir);

}  // namespace rmm::models
