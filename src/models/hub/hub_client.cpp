#include "models/hub/hub_client.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <regex>

#include "core/error.hpp"
#include "core/json_limits.hpp"
#include "models/download/http_client.hpp"
#include "models/hub/names.hpp"

namespace rmm::hub {
namespace {

using download::HttpRequest;
using download::HttpResponse;

constexpr size_t kMaxListingPages = 1000;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Repo ids go into URLs as they are ('/' between owner and name); each
// part is checked to need no escaping. Revisions may hold '/' (refs/pr/1).
std::string repo_api(const HubConfig& hub, const std::string& repo) {
  return hub.endpoint + "/api/models/" + repo;
}

std::string encode_path(const std::string& path) {
  std::string out;
  size_t start = 0;
  while (true) {
    const auto end = path.find('/', start);
    out +=
        download::url_encode(path.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    out += '/';
    start = end + 1;
  }
  return out;
}

HttpRequest api_request(const HubConfig& hub, const std::string& url) {
  HttpRequest r;
  r.url = url;
  r.bearer_token = hub.token;
  r.token_origin = hub.origin();
  r.stall_timeout_s = hub.stall_timeout_s;
  r.headers.emplace_back("Accept", "application/json");
  return r;
}

std::string strip_etag(std::string e) {
  if (e.rfind("W/", 0) == 0) e = e.substr(2);
  if (e.size() >= 2 && e.front() == '"' && e.back() == '"') e = e.substr(1, e.size() - 2);
  return e;
}

bool is_sha256(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c); });
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Turns a failed Hub response into an error that says what to do.
[[noreturn]] void throw_hub_error(const HubConfig& hub, const HttpResponse& r, const std::string& repo,
                                  const std::string& what) {
  if (!r.transport_error.empty())
    throw Error(ErrorKind::Internal,
                "cannot reach " + hub.endpoint + " (" + r.transport_error + ")" +
                    (hub.endpoint == "https://huggingface.co" ? "" : " [RMM_HF_ENDPOINT]"));
  const std::string code = r.header("x-error-code");
  const std::string message = r.header("x-error-message");
  const bool token = !hub.token.empty();
  if (code == "GatedRepo") {
    if (!token)
      throw Error(ErrorKind::InvalidArgument, "repo " + repo + " is gated: accept its terms at " +
                                                  hub.endpoint + "/" + repo +
                                                  " and set HF_TOKEN to an access token of that account");
    throw Error(ErrorKind::InvalidArgument, "the token in HF_TOKEN has no access to the gated repo " + repo +
                                                ": request access at " + hub.endpoint + "/" + repo);
  }
  if (r.status == 401 && message == "Invalid credentials in Authorization header")
    throw Error(ErrorKind::InvalidArgument, "the Hub rejected the token in HF_TOKEN (invalid credentials)");
  if (code == "RevisionNotFound")
    throw Error(ErrorKind::NotFound, "revision not found in " + repo + " (" + what + ")");
  if (code == "EntryNotFound") throw Error(ErrorKind::NotFound, what + " not found in " + repo);
  if (code == "RepoNotFound" || r.status == 401 || r.status == 404)
    throw Error(ErrorKind::NotFound, "repo " + repo + " not found on " + hub.endpoint +
                                         (token ? "" : " (if it is private, set HF_TOKEN)"));
  if (r.status == 403)
    throw Error(ErrorKind::InvalidArgument,
                "access to " + repo + " is forbidden" + (message.empty() ? "" : ": " + message));
  throw Error(ErrorKind::Internal, "the Hub answered HTTP " + std::to_string(r.status) + " for " + what +
                                       " of " + repo + (message.empty() ? "" : ": " + message));
}

// A failed search names no repo, so the repo errors above (private repos,
// HF_TOKEN) would mislead: a 404 here means the endpoint has no Hub API.
[[noreturn]] void throw_search_error(const HubConfig& hub, const HttpResponse& r) {
  const std::string message = r.header("x-error-message");
  if (!r.transport_error.empty() ||
      (r.status == 401 && message == "Invalid credentials in Authorization header"))
    throw_hub_error(hub, r, "", "search");
  std::string text = "the search at " + hub.endpoint + "/api/models failed: HTTP " +
                     std::to_string(r.status) + (message.empty() ? "" : " (" + message + ")");
  if (r.status == 404 || r.status == 405)
    text += "; " + hub.endpoint + " does not serve the Hugging Face Hub's API" +
            (hub.endpoint == "https://huggingface.co" ? "" : ": check RMM_HF_ENDPOINT");
  throw Error(ErrorKind::Internal, text);
}

nlohmann::json parse_json(const HttpResponse& r, const std::string& what) {
  try {
    // Bounded before nlohmann builds a value: a hostile endpoint could nest past the stack.
    return parse_json_bounded<nlohmann::json>(r.body, "the Hub's answer for " + what);
  } catch (const Error& e) {
    throw Error(ErrorKind::Internal, e.what());
  } catch (const std::exception& e) {
    throw Error(ErrorKind::Internal, "the Hub's answer for " + what + " is not JSON: " + e.what());
  }
}

// The rel="next" URL of a Link header, empty when none.
std::string next_link(const std::string& link) {
  static const std::regex re("<([^>]*)>\\s*;\\s*rel=\"?next\"?");
  std::smatch m;
  return std::regex_search(link, m, re) ? m[1].str() : std::string();
}

}  // namespace

HubConfig HubConfig::from_env() {
  HubConfig c;
  std::string ep = env("RMM_HF_ENDPOINT");
  if (ep.empty()) ep = env("HF_ENDPOINT");
  if (!ep.empty()) c.endpoint = ep;
  while (!c.endpoint.empty() && c.endpoint.back() == '/') c.endpoint.pop_back();
  if (c.endpoint.rfind("http://", 0) != 0 && c.endpoint.rfind("https://", 0) != 0)
    throw Error(ErrorKind::InvalidArgument, "RMM_HF_ENDPOINT '" + ep + "' is not an http(s) URL");
  c.token = env("HF_TOKEN");
  return c;
}

std::string HubConfig::origin() const { return download::url_origin(endpoint); }

std::vector<SearchHit> search_models(const HubConfig& hub, const std::string& query, int limit) {
  if (limit < 1 || limit > 1000)
    throw Error(ErrorKind::InvalidArgument, "--limit must be between 1 and 1000");
  const std::string url = hub.endpoint + "/api/models?search=" + download::url_encode(query) +
                          "&filter=gguf&sort=downloads&direction=-1&limit=" + std::to_string(limit) +
                          "&expand%5B%5D=downloads&expand%5B%5D=likes&expand%5B%5D=lastModified";
  const HttpResponse r = download::http_perform(api_request(hub, url));
  if (!r.transport_error.empty() || r.status != 200) throw_search_error(hub, r);
  const auto j = parse_json(r, "search");
  if (!j.is_array()) throw Error(ErrorKind::Internal, "the Hub's search answer is not a list");
  std::vector<SearchHit> hits;
  for (const auto& m : j) {
    if (!m.is_object() || !m.contains("id") || !m["id"].is_string()) continue;
    SearchHit h;
    h.id = m["id"].get<std::string>();
    if (m.contains("downloads") && m["downloads"].is_number()) h.downloads = m["downloads"].get<uint64_t>();
    if (m.contains("likes") && m["likes"].is_number()) h.likes = m["likes"].get<uint64_t>();
    if (m.contains("lastModified") && m["lastModified"].is_string())
      h.last_modified = m["lastModified"].get<std::string>();
    hits.push_back(std::move(h));
  }
  return hits;
}

std::vector<RepoFile> list_repo_files(const HubConfig& hub, const std::string& repo,
                                      const std::string& revision) {
  check_repo_id(repo);
  check_revision(revision);
  std::string url = repo_api(hub, repo) + "/tree/" + download::url_encode(revision) + "?recursive=true";
  std::vector<RepoFile> files;
  for (size_t page = 0; !url.empty(); ++page) {
    if (page >= kMaxListingPages)
      throw Error(ErrorKind::Internal, "the listing of " + repo + " does not end");
    const HttpResponse r = download::http_perform(api_request(hub, url));
    if (!r.transport_error.empty() || r.status != 200) throw_hub_error(hub, r, repo, "revision " + revision);
    const auto j = parse_json(r, "the file listing of " + repo);
    if (!j.is_array()) throw Error(ErrorKind::Internal, "the file listing of " + repo + " is not a list");
    for (const auto& e : j) {
      if (!e.is_object() || e.value("type", "") != "file" || !e.contains("path") || !e["path"].is_string())
        continue;
      RepoFile f;
      f.path = e["path"].get<std::string>();
      if (e.contains("size") && e["size"].is_number()) f.size = e["size"].get<uint64_t>();
      if (e.contains("oid") && e["oid"].is_string()) f.git_oid = e["oid"].get<std::string>();
      if (e.contains("lfs") && e["lfs"].is_object()) {
        const auto& lfs = e["lfs"];
        if (lfs.contains("oid") && lfs["oid"].is_string()) f.sha256 = lower(lfs["oid"].get<std::string>());
        if (lfs.contains("size") && lfs["size"].is_number()) f.size = lfs["size"].get<uint64_t>();
        if (!is_sha256(f.sha256))
          throw Error(ErrorKind::Internal,
                      "the listing of " + repo + " gives " + f.path + " a malformed sha256");
      }
      files.push_back(std::move(f));
    }
    url = next_link(r.header("link"));
    // A next page elsewhere would carry our token to another host: refuse it.
    if (!url.empty() && download::url_origin(url) != hub.origin())
      throw Error(ErrorKind::Internal, "the listing of " + repo + " continues on another host: " + url);
  }
  return files;
}

std::string resolve_url(const HubConfig& hub, const std::string& repo, const std::string& revision,
                        const std::string& path) {
  return hub.endpoint + "/" + repo + "/resolve/" + download::url_encode(revision) + "/" + encode_path(path);
}

FileMeta file_meta(const HubConfig& hub, const std::string& repo, const std::string& revision,
                   const std::string& path) {
  check_repo_id(repo);
  check_revision(revision);
  check_repo_path(path);
  std::string url = resolve_url(hub, repo, revision, path);
  for (int hop = 0; hop < 5; ++hop) {
    HttpRequest req = api_request(hub, url);
    req.headers.clear();
    req.method = "HEAD";
    req.follow_redirects = false;
    const HttpResponse r = download::http_perform(req);
    if (!r.transport_error.empty() || r.status >= 400) throw_hub_error(hub, r, repo, "file " + path);
    FileMeta m;
    m.commit = r.header("x-repo-commit");
    const std::string linked = strip_etag(r.header("x-linked-etag"));
    m.etag = linked.empty() ? strip_etag(r.header("etag")) : linked;
    if (is_sha256(linked)) m.sha256 = lower(linked);
    std::string size = r.header("x-linked-size");
    if (size.empty()) size = r.header("content-length");
    m.size = size.empty() ? 0 : std::strtoull(size.c_str(), nullptr, 10);
    if (r.status >= 300 && r.status < 400) {
      // The resolve URL's own redirect to the CDN names the file (X-Linked-*);
      // one without them is a move inside the Hub (a renamed repo): ask there.
      const std::string location = r.header("location");
      if (location.empty()) throw Error(ErrorKind::Internal, "the Hub redirected " + path + " nowhere");
      std::string next = location;
      if (location.find("://") == std::string::npos) {
        const auto origin_end = url.find('/', url.find("://") + 3);
        next = location.front() == '/' ? url.substr(0, origin_end) + location : location;
      }
      if (r.header("x-linked-etag").empty() && download::url_origin(next) == hub.origin()) {
        url = next;
        continue;
      }
      m.url = next;
    } else {
      m.url = url;
    }
    return m;
  }
  throw Error(ErrorKind::Internal, "too many redirects for " + path + " in " + repo);
}

}  // namespace rmm::hub
