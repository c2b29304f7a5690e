#pragma once
// The Hugging Face Hub's HTTP API, the parts `rmm search` and `rmm pull` use:
//   GET  {endpoint}/api/models?search=Q&filter=gguf&sort=downloads&direction=-1&limit=N
//        &expand[]=downloads&expand[]=likes&expand[]=lastModified
//   GET  {endpoint}/api/models/{repo}/tree/{revision}?recursive=true   (paged by a Link: rel="next" header)
//   HEAD {endpoint}/{repo}/resolve/{revision}/{path}   (not followed: X-Linked-Etag, X-Linked-Size, Location)
// Errors are turned into messages naming the repo and what to do, from the
// Hub's X-Error-Code header (RepoNotFound, GatedRepo, RevisionNotFound, EntryNotFound).
#include <cstdint>
#include <string>
#include <vector>

#include "models/hub/quant_select.hpp"

namespace rmm::hub {

struct HubConfig {
  std::string endpoint = "https://huggingface.co";  // no trailing slash
  std::string token;                                // HF_TOKEN; sent to the endpoint's origin only
  long stall_timeout_s = 60;

  // RMM_HF_ENDPOINT (or HF_ENDPOINT) and HF_TOKEN from the environment.
  static HubConfig from_env();
  std::string origin() const;  // "scheme://host:port" of the endpoint
};

struct SearchHit {
  std::string id;  // "owner/name"
  uint64_t downloads = 0;
  uint64_t likes = 0;
  std::string last_modified;  // ISO 8601 as the Hub gives it; empty when absent
};

std::vector<SearchHit> search_models(const HubConfig& hub, const std::string& query, int limit);

// Every file of the repo at `revision` (directories walked).
std::vector<RepoFile> list_repo_files(const HubConfig& hub, const std::string& repo,
                                      const std::string& revision);

std::string resolve_url(const HubConfig& hub, const std::string& repo, const std::string& revision,
                        const std::string& path);

struct FileMeta {
  std::string url;     // where the bytes are: the redirect target, or the resolve URL itself
  uint64_t size = 0;   // X-Linked-Size, else Content-Length
  std::string sha256;  // from X-Linked-Etag when it is a sha256 (LFS files); empty otherwise
  std::string etag;    // X-Linked-Etag, else ETag (quotes and W/ removed)
  std::string commit;  // X-Repo-Commit
};

// HEAD of the resolve URL, redirects not followed (the Hub's own headers
// describe the file; the CDN's do not).
FileMeta file_meta(const HubConfig& hub, const std::string& repo, const std::string& revision,
                   const std::string& path);

}  // namespace rmm::hub
