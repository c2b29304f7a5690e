#include "models/download/downloader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/error.hpp"
#include "core/json_limits.hpp"
#include "core/sha256.hpp"
#include "models/download/disk_space.hpp"
#include "models/download/http_client.hpp"

namespace rmm::download {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { close(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// Writes everything or returns the errno of the failure.
int write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return 0;
}

void fsync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

struct Sidecar {
  std::string sha256, etag;
  uint64_t size = 0;
};

bool read_sidecar(const fs::path& path, Sidecar& out) {
  std::ifstream in(path);
  if (!in) return false;
  try {
    // Bounded like all JSON from outside: a deep sidecar is foreign too (start over), never a crash.
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    const auto j = parse_json_bounded<nlohmann::json>(text, path.string());
    out.sha256 = j.value("sha256", "");
    out.etag = j.value("etag", "");
    out.size = j.value("size", uint64_t{0});
    return true;
  } catch (const std::exception&) {
    return false;  // a torn or foreign sidecar: start over
  }
}

void write_sidecar(const fs::path& path, const Expected& e, const std::string& url) {
  const nlohmann::json j = {{"sha256", e.sha256}, {"size", e.size}, {"etag", e.etag}, {"url", url}};
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump() << "\n";
    if (!out) throw Error(ErrorKind::Internal, "cannot write " + tmp.string() + ": " + std::strerror(errno));
  }
  fs::rename(tmp, path);
}

// Whether the partial file on disk belongs to the file expected now.
bool same_download(const Sidecar& had, const Expected& want) {
  if (!want.sha256.empty()) return had.sha256 == want.sha256 && had.size == want.size;
  if (!want.etag.empty()) return had.etag == want.etag && had.size == want.size;
  return false;  // nothing identifies the content: never mix bytes of two versions
}

// Bytes per second over the last few seconds.
class RateMeter {
 public:
  void add(uint64_t bytes) {
    const auto now = Clock::now();
    if (samples_.empty() || now - samples_.back().first >= std::chrono::milliseconds(200))
      samples_.emplace_back(now, bytes);
    else
      samples_.back().second = bytes;
    while (samples_.size() > 2 && now - samples_.front().first > std::chrono::seconds(5))
      samples_.pop_front();
  }
  double rate() const {
    if (samples_.size() < 2) return 0;
    const double dt = std::chrono::duration<double>(samples_.back().first - samples_.front().first).count();
    return dt > 0 ? static_cast<double>(samples_.back().second - samples_.front().second) / dt : 0;
  }

 private:
  std::deque<std::pair<Clock::time_point, uint64_t>> samples_;
};

void sleep_unless_cancelled(int ms, const std::function<bool()>& keep_going) {
  const auto until = Clock::now() + std::chrono::milliseconds(ms);
  while (Clock::now() < until) {
    if (keep_going && !keep_going()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// "bytes START-END/TOTAL": START and TOTAL (0 when "*"); false when malformed.
bool parse_content_range(const std::string& v, uint64_t& start, uint64_t& total) {
  unsigned long long a = 0, b = 0, t = 0;
  if (std::sscanf(v.c_str(), "bytes %llu-%llu/%llu", &a, &b, &t) == 3) {
    start = a;
    total = t;
    return true;
  }
  if (std::sscanf(v.c_str(), "bytes %llu-%llu/*", &a, &b) == 2) {
    start = a;
    total = 0;
    return true;
  }
  return false;
}

std::string snippet(const std::string& body) {
  std::string s = body.substr(0, 200);
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

}  // namespace

fs::path part_path(const fs::path& dest) { return dest.string() + ".part"; }
fs::path sidecar_path(const fs::path& dest) { return dest.string() + ".part.json"; }

DownloadResult download_file(const std::string& url, const fs::path& dest, const Expected& expected,
                             const DownloadOptions& opt) {
  if (url.empty()) throw Error(ErrorKind::InvalidArgument, "no URL to download");
  if (dest.filename().empty()) throw Error(ErrorKind::InvalidArgument, "no file name to download to");
  const fs::path dir = dest.parent_path().empty() ? fs::path(".") : dest.parent_path();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(ErrorKind::Internal, "cannot create " + dir.string() + ": " + ec.message());
  auto keep_going = [&] { return !opt.keep_going || opt.keep_going(); };

  DownloadResult result;
  result.path = dest;
  // A finished file from an earlier run is kept when it still matches.
  if (!expected.sha256.empty() && fs::is_regular_file(dest, ec) &&
      (expected.size == 0 || fs::file_size(dest, ec) == expected.size) &&
      rmm::sha256_file_hex(dest, keep_going) == expected.sha256) {
    result.size = fs::file_size(dest, ec);
    result.sha256 = expected.sha256;
    result.already_present = true;
    return result;
  }

  const fs::path part = part_path(dest), side = sidecar_path(dest);
  Sidecar had;
  if (!(read_sidecar(side, had) && same_download(had, expected))) fs::remove(part, ec);
  uint64_t offset = fs::is_regular_file(part, ec) ? fs::file_size(part, ec) : 0;
  if (expected.size && offset > expected.size) {
    fs::remove(part, ec);
    offset = 0;
  }
  if (opt.check_free_space && expected.size) ensure_free_space(dir, expected.size - offset);
  write_sidecar(side, expected, url);

  Fd fd(::open(part.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  if (fd.get() < 0)
    throw Error(ErrorKind::Internal, "cannot open " + part.string() + ": " + std::strerror(errno));
  auto discard = [&] {
    fd.close();
    fs::remove(part, ec);
    fs::remove(side, ec);
  };
  // Resuming: the hash must cover the bytes already there.
  rmm::Sha256 hasher;
  if (offset > 0) {
    std::ifstream in(part, std::ios::binary);
    std::vector<char> buf(1 << 20);
    uint64_t left = offset;
    while (left > 0 && in) {
      if (!keep_going()) throw Error(ErrorKind::Cancelled, "download cancelled");
      in.read(buf.data(), static_cast<std::streamsize>(std::min<uint64_t>(left, buf.size())));
      hasher.update(buf.data(), static_cast<size_t>(in.gcount()));
      left -= static_cast<uint64_t>(in.gcount());
    }
    if (left > 0) throw Error(ErrorKind::Internal, "cannot read " + part.string());
  }
  if (::lseek(fd.get(), static_cast<off_t>(offset), SEEK_SET) < 0 ||
      ::ftruncate(fd.get(), static_cast<off_t>(offset)) != 0)
    throw Error(ErrorKind::Internal, "cannot seek in " + part.string() + ": " + std::strerror(errno));
  // Drops the bytes so far; returns 0 or the errno of the failure (no throw:
  // it also runs inside libcurl's callbacks).
  auto restart = [&]() -> int {
    if (::ftruncate(fd.get(), 0) != 0 || ::lseek(fd.get(), 0, SEEK_SET) < 0) return errno;
    hasher = rmm::Sha256();
    offset = 0;
    return 0;
  };

  result.resumed_from = offset;
  uint64_t total = expected.size;
  RateMeter meter;
  const auto started = Clock::now();
  auto last_report = Clock::now() - std::chrono::seconds(1);
  auto report = [&](bool force) {
    if (!opt.on_progress) return;
    meter.add(offset);
    const auto now = Clock::now();
    if (!force && now - last_report < std::chrono::milliseconds(100)) return;
    last_report = now;
    Progress p;
    p.done = offset;
    p.total = total;
    p.resumed_from = result.resumed_from;
    p.bytes_per_second = meter.rate();
    const double elapsed = std::chrono::duration<double>(now - started).count();
    if (p.bytes_per_second <= 0 && elapsed > 0)
      p.bytes_per_second = static_cast<double>(offset - result.resumed_from) / elapsed;
    if (total && p.bytes_per_second > 0)
      p.eta_seconds = static_cast<double>(total - offset) / p.bytes_per_second;
    opt.on_progress(p);
  };
  report(true);

  int failures = 0;
  std::string last_error;
  while (!(total && offset == total)) {
    if (!keep_going()) throw Error(ErrorKind::Cancelled, "download cancelled");
    const uint64_t before = offset;
    int write_errno = 0;
    std::string fatal;  // a response that must not be retried nor kept
    bool retry_from_zero = false;

    HttpRequest req;
    req.url = url;
    req.bearer_token = opt.bearer_token;
    req.token_origin = opt.token_origin;
    req.stall_timeout_s = opt.stall_timeout_s;
    req.keep_going = keep_going;
    if (offset > 0) req.headers.emplace_back("Range", "bytes=" + std::to_string(offset) + "-");
    req.on_headers = [&](long status, const Headers& hs) {
      auto get = [&](const char* name) {
        for (const auto& [k, v] : hs)
          if (k == name) return v;
        return std::string();
      };
      uint64_t length = 0;
      if (const auto cl = get("content-length"); !cl.empty()) length = std::strtoull(cl.c_str(), nullptr, 10);
      if (status == 206) {
        uint64_t start = 0, size = 0;
        if (!parse_content_range(get("content-range"), start, size) || start != offset) {
          retry_from_zero = true;  // not the bytes asked for: start over rather than mix
          return false;
        }
        if (size && total && size != total) {
          fatal = "the server has " + std::to_string(size) + " bytes, " + std::to_string(total) +
                  " were expected";
          return false;
        }
        if (!total && size) total = size;
      } else if (status == 200) {
        // The server ignored the Range: take the whole body again.
        if (offset > 0 && (write_errno = restart()) != 0) return false;
        if (length && total && length != total) {
          fatal = "the server has " + std::to_string(length) + " bytes, " + std::to_string(total) +
                  " were expected";
          return false;
        }
        if (!total) total = length;
      }
      return true;
    };
    req.on_body = [&](const char* data, size_t size) {
      if (total && offset + size > total) {
        fatal = "the server sent more than the expected " + std::to_string(total) + " bytes";
        return false;
      }
      if (const int err = write_all(fd.get(), data, size); err != 0) {
        write_errno = err;
        return false;
      }
      hasher.update(data, size);
      offset += size;
      report(false);
      return true;
    };
    ++result.attempts;
    const HttpResponse resp = http_perform(req);

    if (retry_from_zero && write_errno == 0) write_errno = restart();
    if (write_errno != 0) {
      discard();
      throw Error(ErrorKind::Internal, "cannot write " + part.string() + ": " + std::strerror(write_errno) +
                                           (write_errno == ENOSPC ? " (the disk is full)" : "") +
                                           "; the partial download was removed");
    }
    if (!fatal.empty()) {
      discard();
      throw Error(ErrorKind::BadFile, "download of " + dest.filename().string() + " failed: " + fatal +
                                          "; the partial download was removed");
    }
    if (resp.aborted && !keep_going()) throw Error(ErrorKind::Cancelled, "download cancelled");

    bool transient = false;
    if (!resp.transport_error.empty()) {
      transient = true;
      last_error = resp.transport_error;
    } else if (resp.status == 200 || resp.status == 206) {
      if (!total) total = offset;  // no length announced: the body's end is the file's end
      if (offset < total) {
        transient = true;
        last_error = "the connection closed after " + std::to_string(offset) + " of " +
                     std::to_string(total) + " bytes";
      }
    } else if (resp.status == 416) {
      // Nothing left to send from this offset: either complete (checked by the
      // loop) or the partial file is longer than the server's copy.
      if (const int err = restart(); err != 0)
        throw Error(ErrorKind::Internal, "cannot truncate " + part.string() + ": " + std::strerror(err));
      transient = true;
      last_error = "HTTP 416 (range not satisfiable)";
    } else if (resp.status == 429 || resp.status >= 500) {
      transient = true;
      last_error = "HTTP " + std::to_string(resp.status);
    } else {
      const ErrorKind kind =
          (resp.status == 404 || resp.status == 410) ? ErrorKind::NotFound : ErrorKind::InvalidArgument;
      throw Error(kind, "HTTP " + std::to_string(resp.status) + " for " + resp.url +
                            (resp.body.empty() ? "" : ": " + snippet(resp.body)));
    }
    if (!transient) break;
    failures = offset > before ? 1 : failures + 1;
    if (failures > opt.max_retries)
      throw Error(ErrorKind::Internal, "download of " + dest.filename().string() + " failed after " +
                                           std::to_string(result.attempts) + " attempts (" + last_error +
                                           "); " + std::to_string(offset) +
                                           " bytes are kept: run again to resume");
    const int backoff = std::min(10000, opt.retry_base_ms << std::min(failures - 1, 10));
    sleep_unless_cancelled(backoff, keep_going);
  }
  report(true);

  if (::fsync(fd.get()) != 0) {
    const int err = errno;
    discard();
    throw Error(ErrorKind::Internal, "cannot write " + part.string() + ": " + std::strerror(err));
  }
  fd.close();
  const std::string digest = rmm::to_hex(hasher.finish());
  if (expected.size && offset != expected.size) {
    discard();
    throw Error(ErrorKind::BadFile, dest.filename().string() + " has " + std::to_string(offset) + " bytes, " +
                                        std::to_string(expected.size) +
                                        " were expected; the download was removed");
  }
  if (!expected.sha256.empty() && digest != expected.sha256) {
    discard();
    throw Error(ErrorKind::BadFile, "sha256 mismatch for " + dest.filename().string() + ": expected " +
                                        expected.sha256 + ", got " + digest + "; the download was removed");
  }
  fs::rename(part, dest, ec);
  if (ec)
    throw Error(ErrorKind::Internal,
                "cannot rename " + part.string() + " to " + dest.string() + ": " + ec.message());
  fsync_dir(dir);
  fs::remove(side, ec);
  result.size = offset;
  result.sha256 = digest;
  return result;
}

}  // namespace rmm::download
