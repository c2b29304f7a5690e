#include "models/hub/pull.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.hpp"
#include "core/json_limits.hpp"
#include "models/download/disk_space.hpp"
#include "models/download/http_client.hpp"
#include "models/hub/names.hpp"

namespace rmm::hub {
namespace fs = std::filesystem;
namespace {

std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string url_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Bytes still to fetch for `f` given what is on disk (a finished file of the
// right size counts as done; a partial one as its length).
uint64_t bytes_left(const PulledFile& f) {
  std::error_code ec;
  if (f.size == 0) return 0;
  if (fs::is_regular_file(f.path, ec) && fs::file_size(f.path, ec) == f.size) return 0;
  const fs::path part = download::part_path(f.path);
  const uint64_t have = fs::is_regular_file(part, ec) ? fs::file_size(part, ec) : 0;
  return have < f.size ? f.size - have : f.size;
}

// rmm-pull.json in the repo's folder lists every pull into it (one entry per
// model file set), so two quantizations of one repo both stay described.
void write_manifest(const PullResult& r) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : r.files)
    files.push_back({{"role", f.role},
                     {"file", f.path.filename().string()},
                     {"source", f.source},
                     {"size", f.size},
                     {"sha256", f.sha256},
                     {"sha256_verified", f.verified_sha256}});
  const nlohmann::json entry = {
      {"revision", r.revision}, {"commit", r.commit}, {"quant", r.quant}, {"files", files}};
  const fs::path path = r.dir / "rmm-pull.json", tmp = r.dir / "rmm-pull.json.tmp";
  nlohmann::json pulls = nlohmann::json::array();
  try {
    std::ifstream in(path);
    if (in) {
      // Bounded like all JSON from outside: a foreign or hostile manifest is replaced, never a crash.
      const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
      const auto old = parse_json_bounded<nlohmann::json>(text, path.string());
      if (old.contains("pulls") && old["pulls"].is_array())
        for (const auto& p : old["pulls"])
          if (p.is_object() && p.value("files", nlohmann::json::array()) != nlohmann::json::array() &&
              p["files"][0].value("file", "") != r.files.front().path.filename().string())
            pulls.push_back(p);
    }
  } catch (const std::exception&) {
    // An unreadable manifest is replaced.
  }
  pulls.push_back(entry);
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << nlohmann::json{{"repo", r.repo}, {"pulls", pulls}}.dump(2) << "\n";
    if (!out) throw Error(ErrorKind::Internal, "cannot write " + tmp.string());
  }
  fs::rename(tmp, path);
}

// Holds an exclusive flock on a folder: two pulls (a CLI and a server, say)
// must never write the same .part files at once.
class DirLock {
 public:
  explicit DirLock(const fs::path& dir) : fd_(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    if (fd_ < 0) throw Error(ErrorKind::Internal, "cannot open " + dir.string());
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      throw Error(ErrorKind::InvalidArgument,
                  "another rmm pull is writing into " + dir.string() + ": wait for it to finish");
    }
  }
  ~DirLock() { ::close(fd_); }
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_;
};

struct Job {
  PulledFile file;
  std::string repo_path;  // empty for a plain URL
  std::string url;        // known up front for plain URLs
  std::string etag;
  bool resolved = false;  // the Hub's file metadata is in (url, etag, size, sha256)
};

// Asks the Hub where `job`'s bytes are and what they must hash to.
void resolve_job(const PullRequest& req, const PullOptions& opt, PullResult& result, Job& job) {
  const FileMeta meta = file_meta(opt.hub, result.repo, req.revision, job.repo_path);
  if (!job.file.sha256.empty() && !meta.sha256.empty() && job.file.sha256 != meta.sha256)
    throw Error(ErrorKind::BadFile, job.repo_path + " changed on the Hub during the pull (sha256 " +
                                        job.file.sha256 + " listed, " + meta.sha256 +
                                        " served); run it again");
  if (job.file.sha256.empty()) job.file.sha256 = meta.sha256;
  if (job.file.size == 0) job.file.size = meta.size;
  if (result.commit.empty()) result.commit = meta.commit;
  job.url = meta.url;
  job.etag = meta.etag;
  job.resolved = true;
}

// The folders create_directories(dir) would make, deepest first.
std::vector<fs::path> missing_dirs(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::path p = dir; !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
    out.push_back(p);
    if (p == p.parent_path()) break;
  }
  return out;
}

// A failed pull leaves no empty folders of its own behind; one holding a
// .part to resume from stays.
void remove_if_empty(const std::vector<fs::path>& created) {
  std::error_code ec;
  for (const auto& d : created) {
    if (!fs::is_directory(d, ec) || !fs::is_empty(d, ec) || !fs::remove(d, ec)) break;
  }
}

PullResult fetch(const PullRequest& req, const PullOptions& opt, PullResult result, std::vector<Job> jobs,
                 bool from_hub) {
  std::set<std::string> names;
  for (const auto& j : jobs)
    if (!names.insert(j.file.path.filename().string()).second)
      throw Error(ErrorKind::InvalidArgument,
                  "two files to pull are both named " + j.file.path.filename().string());

  // A file named by URL has no listed size: ask for it first, so that the plan never says "0 B".
  if (from_hub)
    for (auto& j : jobs)
      if (j.file.size == 0) resolve_job(req, opt, result, j);

  PullPlan plan;
  plan.repo = result.repo;
  plan.quant = result.quant;
  plan.dir = result.dir;
  for (const auto& j : jobs) {
    plan.files.push_back(j.file);
    plan.bytes_to_fetch += bytes_left(j.file);
    if (j.file.size == 0) plan.sizes_known = false;
  }
  download::ensure_free_space(result.dir, plan.bytes_to_fetch);
  if (opt.on_plan) opt.on_plan(plan);

  for (size_t i = 0; i < jobs.size(); ++i) {
    Job& job = jobs[i];
    if (opt.keep_going && !opt.keep_going()) throw Error(ErrorKind::Cancelled, "pull cancelled");
    if (from_hub && !job.resolved) resolve_job(req, opt, result, job);
    job.file.verified_sha256 = !job.file.sha256.empty();
    if (opt.on_file) opt.on_file(i, job.file);

    download::DownloadOptions d;
    d.bearer_token = opt.hub.token;
    d.token_origin = opt.hub.origin();
    d.max_retries = opt.max_retries;
    d.retry_base_ms = opt.retry_base_ms;
    d.stall_timeout_s = opt.hub.stall_timeout_s;
    d.keep_going = opt.keep_going;
    if (opt.on_progress) d.on_progress = [&, i](const download::Progress& p) { opt.on_progress(i, p); };
    const auto got = download::download_file(job.url, job.file.path,
                                             download::Expected{job.file.size, job.file.sha256, job.etag}, d);
    job.file.size = got.size;
    job.file.sha256 = got.sha256;
    job.file.already_present = got.already_present;
    result.files.push_back(job.file);
  }
  if (from_hub) write_manifest(result);
  return result;
}

PullResult run(const PullRequest& req, const PullOptions& opt, PullResult result, std::vector<Job> jobs,
               bool from_hub) {
  const std::vector<fs::path> created = missing_dirs(result.dir);
  std::error_code ec;
  fs::create_directories(result.dir, ec);
  if (ec) throw Error(ErrorKind::Internal, "cannot create " + result.dir.string() + ": " + ec.message());
  const DirLock lock(result.dir);
  try {
    return fetch(req, opt, std::move(result), std::move(jobs), from_hub);
  } catch (...) {
    // Still under the lock, so that no other pull has started writing there.
    remove_if_empty(created);
    throw;
  }
}

PullResult pull_repo(const PullRequest& req, const PullOptions& opt, const RepoRef& ref,
                     const std::string& only_path) {
  PullResult result;
  result.repo = ref.repo;
  result.revision = req.revision;
  const auto owner = ref.repo.substr(0, ref.repo.find('/')), name = ref.repo.substr(ref.repo.find('/') + 1);
  result.dir = req.dir.empty() ? req.models_dir / owner / name : req.dir;

  std::vector<Job> jobs;
  auto add = [&](const RepoFile& f, const char* role) {
    check_repo_path(f.path);
    check_file_name(base_name(f.path));
    Job j;
    j.repo_path = f.path;
    j.file.role = role;
    j.file.source = ref.repo + "/" + f.path;
    j.file.path = result.dir / base_name(f.path);
    j.file.size = f.size;
    j.file.sha256 = f.sha256;
    jobs.push_back(std::move(j));
  };
  if (!only_path.empty()) {
    check_repo_path(only_path);
    add(RepoFile{only_path, 0, "", ""}, is_mmproj(only_path) ? "mmproj" : "model");
  } else {
    const auto files = list_repo_files(opt.hub, ref.repo, req.revision);
    const Selection sel = select_files(ref.repo, files, ref.quant);
    result.quant = sel.quant;
    for (const auto& f : sel.model) add(f, "model");
    if (sel.mmproj) add(*sel.mmproj, "mmproj");
  }
  return run(req, opt, std::move(result), std::move(jobs), true);
}

PullResult pull_url(const PullRequest& req, const PullOptions& opt) {
  // A file URL on the Hub itself: {endpoint}/OWNER/NAME/(resolve|blob)/REV/PATH.
  const std::string& url = req.spec;
  const std::string origin = download::url_origin(url);
  if (origin.empty()) throw Error(ErrorKind::InvalidArgument, "'" + url + "' is not a valid URL");
  const std::string no_query = url.substr(0, url.find_first_of("?#"));
  if (origin == opt.hub.origin() && no_query.rfind(opt.hub.endpoint + "/", 0) == 0) {
    const std::string rest = no_query.substr(opt.hub.endpoint.size() + 1);
    std::vector<std::string> parts;
    for (size_t s = 0;;) {
      const auto e = rest.find('/', s);
      parts.push_back(url_decode(rest.substr(s, e == std::string::npos ? std::string::npos : e - s)));
      if (e == std::string::npos) break;
      s = e + 1;
    }
    if (parts.size() >= 5 && (parts[2] == "resolve" || parts[2] == "blob")) {
      PullRequest r = req;
      r.revision = parts[3];
      check_revision(r.revision);
      std::string path = parts[4];
      for (size_t i = 5; i < parts.size(); ++i) path += "/" + parts[i];
      RepoRef ref{parts[0] + "/" + parts[1], ""};
      check_repo_id(ref.repo);
      return pull_repo(r, opt, ref, path);
    }
  }
  // Any other URL: one file into the models folder; the token stays home.
  const std::string name = url_decode(base_name(no_query.substr(no_query.find("://") + 3)));
  check_file_name(name);
  if (name.size() < 6 || name.substr(name.size() - 5) != ".gguf")
    throw Error(ErrorKind::InvalidArgument, "URL '" + url + "' does not name a .gguf file");
  download::HttpRequest head;
  head.method = "HEAD";
  head.url = url;
  const auto r = download::http_perform(head);
  if (!r.transport_error.empty())
    throw Error(ErrorKind::Internal, "cannot reach " + url + " (" + r.transport_error + ")");
  if (r.status >= 400)
    throw Error(r.status == 404 ? ErrorKind::NotFound : ErrorKind::InvalidArgument,
                "HTTP " + std::to_string(r.status) + " for " + url);
  PullResult result;
  result.revision = "";
  result.dir = req.dir.empty() ? req.models_dir : req.dir;
  Job j;
  j.url = r.url;
  j.file.role = "model";
  j.file.source = url;
  j.file.path = result.dir / name;
  const std::string cl = r.header("content-length");
  j.file.size = cl.empty() ? 0 : std::strtoull(cl.c_str(), nullptr, 10);
  j.etag = r.header("etag");
  PullOptions o = opt;
  o.hub.token.clear();
  std::vector<Job> jobs;
  jobs.push_back(std::move(j));
  return run(req, o, std::move(result), std::move(jobs), false);
}

}  // namespace

bool is_url(const std::string& spec) {
  return spec.rfind("http://", 0) == 0 || spec.rfind("https://", 0) == 0;
}

fs::path PullResult::model_path() const {
  for (const auto& f : files)
    if (f.role == "model") return f.path;
  return {};
}

PullResult pull(const PullRequest& request, const PullOptions& options) {
  if (request.models_dir.empty() && request.dir.empty())
    throw Error(ErrorKind::InvalidArgument, "no folder to pull into");
  if (is_url(request.spec)) return pull_url(request, options);
  const RepoRef ref = parse_repo_ref(request.spec);
  check_revision(request.revision);
  return pull_repo(request, options, ref, "");
}

}  // namespace rmm::hub
