#include "models/resource_monitor.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>

#include "core/log.hpp"
#include "engine/backend.hpp"
#include "models/hardware.hpp"

namespace rmm::models {
namespace {

// Reads unsigned decimal fields separated by spaces from the front of `s`.
std::vector<uint64_t> numbers(std::string_view s, size_t max) {
  std::vector<uint64_t> out;
  size_t i = 0;
  while (out.size() < max) {
    while (i < s.size() && s[i] == ' ') ++i;
    if (i >= s.size() || s[i] < '0' || s[i] > '9') break;
    uint64_t v = 0;
    const auto [ptr, ec] = std::from_chars(s.data() + i, s.data() + s.size(), v);
    if (ec != std::errc()) break;
    out.push_back(v);
    i = static_cast<size_t>(ptr - s.data());
  }
  return out;
}

std::optional<CpuTicks> cpu_line(std::string_view rest) {
  // user nice system idle iowait irq softirq steal [guest guest_nice]; old kernels stop after idle.
  const auto v = numbers(rest, 8);
  if (v.size() < 4) return std::nullopt;
  auto at = [&](size_t i) { return i < v.size() ? v[i] : 0; };
  CpuTicks t;
  t.busy = at(0) + at(1) + at(2) + at(5) + at(6) + at(7);
  t.total = t.busy + at(3) + at(4);
  return t;
}

int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint64_t process_ticks_now() { return parse_process_ticks(read_small_file("/proc/self/stat")).value_or(0); }

SystemTicks system_ticks_now() {
  return parse_proc_stat(read_small_file("/proc/stat")).value_or(SystemTicks{});
}

}  // namespace

std::optional<SystemTicks> parse_proc_stat(std::string_view text) {
  SystemTicks out;
  bool has_all = false;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.rfind("cpu", 0) != 0) continue;
    const auto space = line.find(' ');
    if (space == std::string_view::npos) continue;
    const auto ticks = cpu_line(line.substr(space));
    if (!ticks) continue;
    if (space == 3) {
      out.all = *ticks;
      has_all = true;
    } else {
      out.cores.push_back(*ticks);
    }
  }
  if (!has_all) return std::nullopt;
  return out;
}

std::optional<uint64_t> parse_process_ticks(std::string_view text) {
  const auto paren = text.rfind(')');
  if (paren == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(paren + 1);
  // Field 3 (state) is a letter; utime and stime are fields 14 and 15.
  size_t field = 2;
  std::optional<uint64_t> utime, stime;
  while (!rest.empty() && field < 15) {
    const auto start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    const auto end = std::min(rest.find(' '), rest.size());
    const auto token = rest.substr(0, end);
    rest.remove_prefix(end);
    ++field;
    if (field == 14 || field == 15) {
      uint64_t v = 0;
      const auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), v);
      if (ec != std::errc() || ptr != token.data() + token.size()) return std::nullopt;
      (field == 14 ? utime : stime) = v;
    }
  }
  if (!utime || !stime) return std::nullopt;
  return *utime + *stime;
}

std::optional<uint64_t> parse_vm_rss(std::string_view text) {
  const auto at = text.find("VmRSS:");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(at + 6);
  rest = rest.substr(0, rest.find('\n'));
  const auto start = rest.find_first_not_of(" \t");
  if (start == std::string_view::npos) return std::nullopt;
  rest.remove_prefix(start);
  uint64_t kib = 0;
  const auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), kib);
  if (ec != std::errc()) return std::nullopt;
  return kib * 1024;  // the kernel always reports it in kB (KiB)
}

double busy_percent(const CpuTicks& before, const CpuTicks& after) {
  if (after.total <= before.total || after.busy < before.busy) return 0;
  const double pct =
      100.0 * static_cast<double>(after.busy - before.busy) / static_cast<double>(after.total - before.total);
  return std::clamp(pct, 0.0, 100.0);
}

UsageSampler::UsageSampler(bool gpus, std::function<std::vector<int>()> workers)
    : gpus_(gpus),
      workers_(std::move(workers)),
      last_time_(std::chrono::steady_clock::now()),
      last_process_ticks_(process_ticks_now()),
      last_system_(system_ticks_now()) {}

UsageSample UsageSampler::next() {
  static const double ticks_per_second = [] {
    const long hz = sysconf(_SC_CLK_TCK);
    return hz > 0 ? static_cast<double>(hz) : 100.0;
  }();
  UsageSample s;
  const auto now = std::chrono::steady_clock::now();
  const uint64_t process_ticks = process_ticks_now();
  const SystemTicks system = system_ticks_now();
  s.unix_ms = unix_ms_now();
  s.interval_ms = std::chrono::duration<double, std::milli>(now - last_time_).count();

  s.cpus = static_cast<int>(system.cores.size());
  if (s.cpus <= 0) s.cpus = std::max(1u, std::thread::hardware_concurrency());
  if (s.interval_ms > 0 && process_ticks >= last_process_ticks_) {
    const double cpu_seconds = static_cast<double>(process_ticks - last_process_ticks_) / ticks_per_second;
    // Tick counts are coarse (10 ms): a short interval can show a little more than is possible.
    s.process_cpu = std::clamp(100.0 * cpu_seconds / (s.interval_ms / 1000.0), 0.0, 100.0 * s.cpus);
    s.process_cpu_total = s.process_cpu / s.cpus;
  }
  s.system_cpu = busy_percent(last_system_.all, system.all);
  if (system.cores.size() == last_system_.cores.size()) {
    for (size_t i = 0; i < system.cores.size(); ++i)
      s.system_cpu_per_core.push_back(busy_percent(last_system_.cores[i], system.cores[i]));
  } else {
    s.system_cpu_per_core.assign(system.cores.size(), 0.0);  // a CPU came or went: no rate yet
  }

  s.process_rss = parse_vm_rss(read_small_file("/proc/self/status")).value_or(0);
  if (workers_) sample_workers(s, ticks_per_second);
  const RamInfo ram = parse_meminfo(read_small_file("/proc/meminfo"));
  s.ram_total = ram.total;
  s.ram_available = ram.available;
  s.ram_used = ram.total - ram.available;
  if (gpus_) {
    for (const auto& d : engine::devices()) {
      if (d.type == "cpu") continue;
      const uint64_t used = d.memory_total > d.memory_free ? d.memory_total - d.memory_free : 0;
      s.gpus.push_back({d.name, d.memory_total, d.memory_free, used});
    }
  }

  last_time_ = now;
  last_process_ticks_ = process_ticks;
  last_system_ = system;
  return s;
}

void UsageSampler::sample_workers(UsageSample& s, double ticks_per_second) {
  std::map<int, uint64_t> now;
  double cpu_seconds = 0;
  for (int pid : workers_()) {
    const std::string dir = "/proc/" + std::to_string(pid);
    const auto ticks = parse_process_ticks(read_small_file((dir + "/stat").c_str()));
    if (!ticks) continue;  // gone since it was listed
    now[pid] = *ticks;
    // A worker first seen now has no rate yet; one that went simply drops out.
    if (auto it = worker_ticks_.find(pid); it != worker_ticks_.end() && *ticks >= it->second)
      cpu_seconds += static_cast<double>(*ticks - it->second) / ticks_per_second;
    s.workers_rss += parse_vm_rss(read_small_file((dir + "/status").c_str())).value_or(0);
    ++s.workers;
  }
  if (s.interval_ms > 0)
    s.workers_cpu = std::clamp(100.0 * cpu_seconds / (s.interval_ms / 1000.0), 0.0, 100.0 * s.cpus);
  worker_ticks_.swap(now);
}

ResourceMonitor::ResourceMonitor() : ResourceMonitor(Options{}) {}

ResourceMonitor::ResourceMonitor(Options options) : options_(options) {
  if (options_.interval.count() <= 0) options_.interval = std::chrono::milliseconds(1000);
  if (options_.capacity == 0) options_.capacity = 1;
}

ResourceMonitor::~ResourceMonitor() { stop(); }

void ResourceMonitor::start() {
  std::lock_guard control(control_);
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { loop(); });
}

void ResourceMonitor::stop() {
  std::lock_guard control(control_);
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool ResourceMonitor::running() const {
  std::lock_guard control(control_);
  return thread_.joinable();
}

std::optional<UsageSample> ResourceMonitor::latest() const {
  std::lock_guard lock(mutex_);
  if (samples_.empty()) return std::nullopt;
  return samples_.back();
}

std::vector<UsageSample> ResourceMonitor::history(size_t n) const {
  std::lock_guard lock(mutex_);
  n = std::min(n, samples_.size());
  return {samples_.end() - static_cast<std::ptrdiff_t>(n), samples_.end()};
}

void ResourceMonitor::loop() {
  // The baseline is taken here, so the first rates cover exactly one interval.
  UsageSampler sampler(options_.gpus, options_.workers);
  auto next = std::chrono::steady_clock::now() + options_.interval;
  std::unique_lock lock(mutex_);
  while (!wake_.wait_until(lock, next, [this] { return stopping_; })) {
    lock.unlock();
    UsageSample s;
    try {
      s = sampler.next();
    } catch (const std::exception& e) {
      // A failing device query must not end the monitor: the next tick tries again.
      spdlog::warn("resource monitor: {}", e.what());
      lock.lock();
      next += options_.interval;
      continue;
    }
    lock.lock();
    samples_.push_back(std::move(s));
    while (samples_.size() > options_.capacity) samples_.pop_front();
    // Fixed rate, but a stalled thread (a suspended laptop) does not try to catch up.
    next += options_.interval;
    const auto now = std::chrono::steady_clock::now();
    if (next < now) next = now + options_.interval;
  }
}

}  // namespace rmm::models
