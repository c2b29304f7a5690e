#pragma once
// The web UI's files, compiled into the binary (web/scripts/embed.mjs writes
// the table from the npm build; without Node the table is empty).
#include <cstddef>
#include <string_view>
#include <vector>

namespace rmm::server {

struct WebAsset {
  std::string_view path;  // "/index.html", "/assets/index-HASH.js"
  std::string_view content_type;
  std::string_view gzipped;  // the file, gzip-compressed
  size_t size = 0;           // uncompressed bytes
  std::string_view etag;     // quoted, from the file's SHA-256
  bool immutable = false;    // named by content hash: cached for a year
};

const std::vector<WebAsset>& web_assets();

}  // namespace rmm::server
