#pragma once
// One HTTP exchange over libcurl, with redirects followed by hand so that a
// bearer token only ever goes to the origin it was meant for (a Hub token
// must never reach the CDN a `resolve` URL redirects to).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rmm::download {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD or POST
  std::string url;
  std::string body;  // sent with POST
  Headers headers;
  // `Authorization: Bearer <token>` is added only while the request's URL has
  // this origin ("scheme://host:port"); empty origin = never.
  std::string bearer_token;
  std::string token_origin;
  bool follow_redirects = true;
  int max_redirects = 10;
  long connect_timeout_s = 20;
  long stall_timeout_s = 60;  // abort when no byte arrives for this long
  // Streams the body of the final response (2xx only) when set; returning
  // false aborts the transfer (a write error or a cancellation).
  std::function<bool(const char* data, size_t size)> on_body;
  // Called when the final response's headers are in, before its body.
  // Returning false aborts (e.g. an unexpected status).
  std::function<bool(long status, const Headers& headers)> on_headers;
  // Polled during the transfer; false aborts it.
  std::function<bool()> keep_going;
};

struct HttpResponse {
  long status = 0;
  std::string url;   // the URL that answered last (after redirects)
  Headers headers;   // of the last response, names lower-cased
  std::string body;  // the body, when the request had no on_body (or the status was not 2xx)
  // Transport failure (no HTTP status or a cut transfer): empty when none.
  std::string transport_error;
  bool aborted = false;  // a callback stopped it

  // The value of a header (case-insensitive name), empty when absent.
  std::string header(std::string_view name) const;
};

// Performs the request; never throws for HTTP or transport failures (see
// the fields), only for programming errors.
HttpResponse http_perform(const HttpRequest& request);

// "scheme://host:port" of a URL (lower-cased, default port filled in), or
// empty when it cannot be parsed.
std::string url_origin(const std::string& url);

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string url_encode(std::string_view s);

}  // namespace rmm::download
