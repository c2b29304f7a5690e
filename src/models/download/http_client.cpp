#include "models/download/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

namespace rmm::download {
namespace {

constexpr size_t kMaxErrorBody = 64 * 1024;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// State of one hop (one curl_easy_perform).
struct Hop {
  const HttpRequest* request = nullptr;
  CURL* curl = nullptr;
  HttpResponse* response = nullptr;
  bool follow = false;  // this hop's 3xx will be followed: its body is ignored
  long status = 0;
  bool headers_done = false;
  bool abort = false;

  bool passes_body() const { return request->on_body && status >= 200 && status < 300; }
};

size_t on_header_line(char* data, size_t size, size_t n, void* user) {
  auto* hop = static_cast<Hop*>(user);
  const size_t len = size * n;
  std::string_view line(data, len);
  if (line.rfind("HTTP/", 0) == 0) {  // a new status line (also after 100 Continue)
    hop->response->headers.clear();
    hop->headers_done = false;
    return len;
  }
  if (trim(line).empty()) {
    curl_easy_getinfo(hop->curl, CURLINFO_RESPONSE_CODE, &hop->status);
    if (hop->status >= 200 && !hop->headers_done) {
      hop->headers_done = true;
      const bool redirect = hop->status >= 300 && hop->status < 400 && hop->follow;
      if (!redirect && hop->request->on_headers &&
          !hop->request->on_headers(hop->status, hop->response->headers)) {
        hop->abort = true;
        return 0;
      }
    }
    return len;
  }
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    hop->response->headers.emplace_back(lower(trim(line.substr(0, colon))), trim(line.substr(colon + 1)));
  }
  return len;
}

size_t on_body_data(char* data, size_t size, size_t n, void* user) {
  auto* hop = static_cast<Hop*>(user);
  const size_t len = size * n;
  if (hop->status == 0) curl_easy_getinfo(hop->curl, CURLINFO_RESPONSE_CODE, &hop->status);
  if (hop->passes_body()) {
    if (!hop->request->on_body(data, len)) {
      hop->abort = true;
      return 0;
    }
    return len;
  }
  auto& body = hop->response->body;
  if (body.size() < kMaxErrorBody || !hop->request->on_body) body.append(data, len);
  return len;
}

int on_xfer(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* hop = static_cast<Hop*>(user);
  if (hop->request->keep_going && !hop->request->keep_going()) {
    hop->abort = true;
    return 1;
  }
  return 0;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

std::string HttpResponse::header(std::string_view name) const {
  const std::string key = lower(std::string(name));
  for (const auto& [k, v] : headers)
    if (k == key) return v;
  return {};
}

std::string url_origin(const std::string& url) {
  global_init();
  CURLU* u = curl_url();
  if (!u) return {};
  std::string out;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    char *scheme = nullptr, *host = nullptr, *port = nullptr;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
      out = lower(scheme) + "://" + lower(host) + ":" + port;
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
  }
  curl_url_cleanup(u);
  return out;
}

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

HttpResponse http_perform(const HttpRequest& request) {
  global_init();
  HttpResponse response;
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) {
    response.transport_error = "cannot start libcurl";
    return response;
  }
  std::string url = request.url;
  for (int hop_index = 0;; ++hop_index) {
    curl_easy_reset(curl.get());
    response = HttpResponse{};
    response.url = url;
    Hop hop;
    hop.request = &request;
    hop.curl = curl.get();
    hop.response = &response;
    hop.follow = request.follow_redirects && hop_index < request.max_redirects;

    std::unique_ptr<curl_slist, SlistDeleter> list;
    auto add = [&](const std::string& h) { list.reset(curl_slist_append(list.release(), h.c_str())); };
    for (const auto& [k, v] : request.headers) add(k + ": " + v);
    if (!request.bearer_token.empty() && !request.token_origin.empty() &&
        url_origin(url) == request.token_origin)
      add("Authorization: Bearer " + request.bearer_token);

    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());
    curl_easy_setopt(c, CURLOPT_USERAGENT, "rmm/" RMM_VERSION);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, request.connect_timeout_s);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, request.stall_timeout_s);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header_line);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hop);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &hop);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_xfer);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &hop);
    if (request.method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (request.method == "POST" && hop_index == 0) {
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.c_str());
    }

    const CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
    if (rc != CURLE_OK) {
      response.aborted = hop.abort;
      response.transport_error = curl_easy_strerror(rc);
      return response;
    }
    const bool redirect = response.status >= 300 && response.status < 400 && response.status != 304;
    if (!redirect || !hop.follow) return response;
    char* next = nullptr;
    curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &next);
    if (!next) return response;  // a 3xx without Location: the caller sees it as is
    url = next;
  }
}

}  // namespace rmm::download
