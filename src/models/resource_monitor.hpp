#pragma once
// How busy the machine and this process are: a background thread samples CPU
// use (the process's and the system's), the process's resident memory, the
// system's RAM and every GPU's VRAM once a second and keeps the last few
// minutes for GET /api/system/info, /api/system/usage and the dashboard.
//
// CPU percentages are rates over the time between two samples, from tick
// counters in /proc (USER_HZ, 100 per second on Linux): at a 1 s interval they
// are good to about one percent of a core. A sample costs four small /proc
// reads and one free-memory query per GPU, well under a millisecond.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace rmm::models {

struct GpuUsage {
  std::string name;  // ggml's device name, "CUDA0"
  uint64_t memory_total = 0;
  uint64_t memory_free = 0;
  uint64_t memory_used = 0;  // total - free: every process's allocations, not only ours
};

struct UsageSample {
  int64_t unix_ms = 0;           // when it was taken (wall clock)
  double interval_ms = 0;        // the time the rates below cover
  int cpus = 0;                  // logical CPUs online (the cpuN lines of /proc/stat)
  double process_cpu = 0;        // this process, in % of one core (top's convention): 0 .. 100 × cpus
  double process_cpu_total = 0;  // this process, in % of the whole machine: 0 .. 100
  uint64_t process_rss = 0;      // bytes resident (VmRSS)
  // The model worker processes (rmm serve's), together: where the models' memory is.
  int workers = 0;
  double workers_cpu = 0;                   // % of one core, summed over them
  uint64_t workers_rss = 0;                 // bytes resident, summed
  double system_cpu = 0;                    // every process, in % of the whole machine: 0 .. 100
  std::vector<double> system_cpu_per_core;  // 0 .. 100 each, in cpuN order
  uint64_t ram_total = 0;
  uint64_t ram_available = 0;
  uint64_t ram_used = 0;  // total - available
  std::vector<GpuUsage> gpus;
};

// Jiffies of one "cpu" line of /proc/stat.
struct CpuTicks {
  uint64_t busy = 0;   // user + nice + system + irq + softirq + steal (guest is inside user)
  uint64_t total = 0;  // busy + idle + iowait
};
struct SystemTicks {
  CpuTicks all;                 // the aggregate "cpu " line
  std::vector<CpuTicks> cores;  // "cpu0", "cpu1", ...
};
// nullopt when the text has no aggregate "cpu" line.
std::optional<SystemTicks> parse_proc_stat(std::string_view text);

// utime + stime of /proc/self/stat, in ticks; nullopt when malformed. The
// command name (field 2) may hold spaces and parentheses, so fields are
// counted from the last ')'.
std::optional<uint64_t> parse_process_ticks(std::string_view text);

// VmRSS of /proc/self/status in bytes; nullopt when absent.
std::optional<uint64_t> parse_vm_rss(std::string_view text);

// Busy share of the interval between two readings, 0..100; 0 when no time passed.
double busy_percent(const CpuTicks& before, const CpuTicks& after);

// Turns consecutive readings into samples; the first sample's rates cover the
// time since construction. Not thread-safe: one caller at a time.
class UsageSampler {
 public:
  // `workers` lists the model worker processes to add up (optional).
  explicit UsageSampler(bool gpus = true, std::function<std::vector<int>()> workers = {});
  UsageSample next();

 private:
  void sample_workers(UsageSample& s, double ticks_per_second);
  bool gpus_;
  std::function<std::vector<int>()> workers_;
  std::map<int, uint64_t> worker_ticks_;  // per pid, at the last sample
  std::chrono::steady_clock::time_point last_time_;
  uint64_t last_process_ticks_ = 0;
  SystemTicks last_system_;
};

class ResourceMonitor {
 public:
  struct Options {
    std::chrono::milliseconds interval{1000};
    size_t capacity = 300;                      // samples kept: five minutes at 1 s
    bool gpus = true;                           // ask ggml's devices for free memory
    std::function<std::vector<int>()> workers;  // model worker pids (rmm serve's ModelHost)
  };

  ResourceMonitor();
  explicit ResourceMonitor(Options options);
  ~ResourceMonitor();  // stops the thread
  ResourceMonitor(const ResourceMonitor&) = delete;
  ResourceMonitor& operator=(const ResourceMonitor&) = delete;

  // Starts sampling (again); the first sample arrives one interval later.
  void start();
  // Stops the thread within one wake-up; the samples stay readable.
  void stop();
  bool running() const;

  // The newest sample; nullopt before the first.
  std::optional<UsageSample> latest() const;
  // The newest `n` samples (all when n exceeds what is kept), oldest first.
  std::vector<UsageSample> history(size_t n) const;
  const Options& options() const { return options_; }

 private:
  void loop();

  Options options_;
  mutable std::mutex control_;  // start, stop and running
  mutable std::mutex mutex_;    // stopping_ and samples_
  std::condition_variable wake_;
  bool stopping_ = false;
  std::deque<UsageSample> samples_;
  std::thread thread_;
};

}  // namespace rmm::models
