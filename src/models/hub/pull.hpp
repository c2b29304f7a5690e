#pragma once
// `rmm pull`: from "OWNER/REPO[:QUANT]" or a file URL to verified files in
// the models folder. A repo's files go to MODELS/OWNER/REPO/ (its split
// parts and mmproj beside the model); a plain URL's file goes to MODELS/.
// rmm-pull.json in the repo's folder records each pull into it, written only
// once every file is verified.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "models/download/downloader.hpp"
#include "models/hub/hub_client.hpp"

namespace rmm::hub {

struct PullRequest {
  std::string spec;  // OWNER/REPO[:QUANT] or an http(s) URL of one file
  std::string revision = "main";
  std::filesystem::path models_dir;  // where repo folders go
  std::filesystem::path dir;         // when set: exactly where the files go
};

struct PulledFile {
  std::string role;    // "model" or "mmproj"
  std::string source;  // repo path or URL
  std::filesystem::path path;
  uint64_t size = 0;
  std::string sha256;
  bool already_present = false;
  bool verified_sha256 = false;  // false only for plain URLs without a published hash
};

struct PullPlan {
  std::string repo;  // empty for a plain URL
  std::string quant;
  std::filesystem::path dir;
  std::vector<PulledFile> files;  // path, size, sha256 as expected
  uint64_t bytes_to_fetch = 0;    // not counting files already complete or partial bytes on disk
  bool sizes_known = true;        // false when a plain URL's server gave no length
};

struct PullOptions {
  HubConfig hub;
  int max_retries = 5;
  int retry_base_ms = 500;
  std::function<void(const PullPlan&)> on_plan;
  // Called as each file starts (index into the plan's files).
  std::function<void(size_t index, const PulledFile&)> on_file;
  std::function<void(size_t index, const download::Progress&)> on_progress;
  std::function<bool()> keep_going;
};

struct PullResult {
  std::string repo, revision, quant, commit;
  std::filesystem::path dir;
  std::vector<PulledFile> files;
  std::filesystem::path model_path() const;  // the first model file
};

// Throws rmm::Error; files that are not complete stay as .part for the next run,
// and folders the pull created that are still empty are removed.
PullResult pull(const PullRequest& request, const PullOptions& options);

bool is_url(const std::string& spec);

}  // namespace rmm::hub
