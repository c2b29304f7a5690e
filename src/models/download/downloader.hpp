#pragma once
// A resumable, verified download of one file. Bytes go to DEST.part, with a
// sidecar DEST.part.json recording what they belong to (sha256, size, ETag),
// so that a later run resumes only the same file, with `Range: bytes=N-`.
// The file is hashed as it is written; it is renamed to DEST only once its
// size and sha256 match, so DEST is either absent or verified.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace rmm::download {

struct Expected {
  uint64_t size = 0;   // 0 = unknown (taken from the response)
  std::string sha256;  // lower-case hex; empty = unknown (size alone is checked)
  std::string etag;    // identifies the content when no sha256 is known
};

struct Progress {
  uint64_t done = 0;          // bytes in the file so far (resumed ones included)
  uint64_t total = 0;         // 0 when unknown
  uint64_t resumed_from = 0;  // bytes that were already there when this run started
  double bytes_per_second = 0;
  double eta_seconds = -1;  // -1 when unknown
};

struct DownloadOptions {
  // Sent as a bearer token to this origin only (see HttpRequest).
  std::string bearer_token;
  std::string token_origin;
  int max_retries = 5;      // transient failures in a row (a retry that made progress resets the count)
  int retry_base_ms = 500;  // backoff: base, 2x base, 4x base ... capped at 10 s
  bool check_free_space = true;
  long stall_timeout_s = 60;
  std::function<void(const Progress&)> on_progress;
  std::function<bool()> keep_going;  // false: stop, keep the .part for a later resume
};

struct DownloadResult {
  std::filesystem::path path;
  uint64_t size = 0;
  std::string sha256;
  bool already_present = false;  // DEST was there and matched
  uint64_t resumed_from = 0;
  int attempts = 0;  // HTTP requests made for the body
};

// Downloads `url` to `dest`. Throws rmm::Error: InvalidArgument (not enough
// space), NotFound / InvalidArgument (HTTP 4xx, with the status),
// BadFile (size or sha256 mismatch: the partial file is deleted),
// Internal (write errors such as a full disk: the partial file is deleted;
// retries exhausted: the partial file is kept), Cancelled (kept).
DownloadResult download_file(const std::string& url, const std::filesystem::path& dest,
                             const Expected& expected, const DownloadOptions& options);

// Paths of the partial file and its sidecar for `dest`.
std::filesystem::path part_path(const std::filesystem::path& dest);
std::filesystem::path sidecar_path(const std::filesystem::path& dest);

}  // namespace rmm::download
