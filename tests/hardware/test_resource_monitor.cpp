// The resource monitor sampling every 50 ms: sane values, RSS matching the
// kernel's, CPU use that follows a spinning thread, the ring buffer, and a
// clean stop.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "models/hardware.hpp"
#include "models/resource_monitor.hpp"

using namespace rmm::models;
using namespace std::chrono_literals;

namespace {

ResourceMonitor::Options fast(size_t capacity = 300) {
  ResourceMonitor::Options o;
  o.interval = 50ms;
  o.capacity = capacity;
  return o;
}

// Waits until the monitor holds at least `n` samples taken after `since_ms`.
bool wait_samples(const ResourceMonitor& m, size_t n, int64_t since_ms, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto h = m.history(1000);
    const auto fresh =
        std::count_if(h.begin(), h.end(), [&](const UsageSample& s) { return s.unix_ms > since_ms; });
    if (static_cast<size_t>(fresh) >= n) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

TEST(ResourceMonitor, NothingBeforeTheFirstInterval) {
  ResourceMonitor m(fast());
  EXPECT_FALSE(m.latest());
  EXPECT_TRUE(m.history(10).empty());
  EXPECT_FALSE(m.running());
}

TEST(ResourceMonitor, SamplesAreSane) {
  ResourceMonitor m(fast());
  m.start();
  ASSERT_TRUE(wait_samples(m, 3, 0, 5s));
  const auto s = *m.latest();
  const auto expect_rss = parse_vm_rss(read_small_file("/proc/self/status")).value_or(0);
  m.stop();

  EXPECT_GE(s.cpus, 1);
  EXPECT_GT(s.interval_ms, 20);
  EXPECT_LT(s.interval_ms, 2000);
  EXPECT_GE(s.process_cpu, 0);
  EXPECT_LE(s.process_cpu, 100.0 * s.cpus);
  EXPECT_NEAR(s.process_cpu_total, s.process_cpu / s.cpus, 1e-9);
  EXPECT_GE(s.system_cpu, 0);
  EXPECT_LE(s.system_cpu, 100);
  EXPECT_EQ(s.system_cpu_per_core.size(), static_cast<size_t>(s.cpus));
  for (double c : s.system_cpu_per_core) {
    EXPECT_GE(c, 0);
    EXPECT_LE(c, 100);
  }
  EXPECT_GT(s.ram_total, 0u);
  EXPECT_LE(s.ram_available, s.ram_total);
  EXPECT_EQ(s.ram_used, s.ram_total - s.ram_available);
  // RSS: the kernel's own figure, read moments later, within 16 MiB.
  EXPECT_GT(s.process_rss, 0u);
  EXPECT_NEAR(static_cast<double>(s.process_rss), static_cast<double>(expect_rss), 16.0 * 1024 * 1024);
  for (const auto& g : s.gpus) EXPECT_EQ(g.memory_used, g.memory_total - g.memory_free) << g.name;
  EXPECT_LE(s.unix_ms, now_ms());
  EXPECT_GT(s.unix_ms, now_ms() - 10000);
}

TEST(ResourceMonitor, ProcessCpuRisesWhileAThreadSpins) {
  ResourceMonitor m(fast());
  m.start();
  ASSERT_TRUE(wait_samples(m, 4, 0, 5s));
  const auto idle = m.history(4);

  std::atomic<bool> stop{false};
  const int64_t spin_start = now_ms();
  const double cpu0 = process_cpu_seconds();
  const auto wall0 = std::chrono::steady_clock::now();
  std::thread spinner([&] {
    volatile uint64_t x = 0;
    while (!stop.load(std::memory_order_relaxed)) x = x + 1;
  });
  // Skip the sample whose interval straddles the start.
  const bool got = wait_samples(m, 8, spin_start + 60, 10s);
  stop = true;
  spinner.join();
  // What the process really got while spinning: on a loaded machine a spinning
  // thread gets less than a core, and the monitor must say the same.
  const double truth = 100.0 * (process_cpu_seconds() - cpu0) /
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  m.stop();
  ASSERT_TRUE(got);

  double idle_mean = 0;
  for (const auto& s : idle) idle_mean += s.process_cpu / idle.size();
  double busy_mean = 0;
  size_t busy_n = 0;
  for (const auto& s : m.history(1000)) {
    if (s.unix_ms <= spin_start + 60) continue;
    busy_mean += s.process_cpu;
    ++busy_n;
  }
  busy_mean /= static_cast<double>(busy_n);
  std::cout << "process cpu: idle " << idle_mean << " %, spinning " << busy_mean << " % of a core (getrusage "
            << truth << " %)\n";
  if (truth < 5)
    GTEST_SKIP() << "the spinning thread hardly ran (" << truth << " %): the machine is overloaded";
  EXPECT_GT(busy_mean, idle_mean + truth / 2);
  EXPECT_NEAR(busy_mean, truth, 20);
  // The spinning thread is some of the system's use too.
  double system_max = 0;
  for (const auto& s : m.history(1000))
    if (s.unix_ms > spin_start + 60) system_max = std::max(system_max, s.system_cpu);
  EXPECT_GT(system_max, 0);
}

TEST(ResourceMonitor, KeepsTheNewestSamplesOldestFirst) {
  ResourceMonitor m(fast(5));
  m.start();
  ASSERT_TRUE(wait_samples(m, 5, 0, 5s));
  std::this_thread::sleep_for(200ms);  // several more: the oldest must go
  m.stop();
  const auto all = m.history(100);
  ASSERT_EQ(all.size(), 5u);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_LE(all[i - 1].unix_ms, all[i].unix_ms);
  const auto two = m.history(2);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[1].unix_ms, all.back().unix_ms);
  EXPECT_EQ(two[0].unix_ms, all[3].unix_ms);
  EXPECT_TRUE(m.history(0).empty());
  EXPECT_EQ(m.latest()->unix_ms, all.back().unix_ms);
}

TEST(ResourceMonitor, StopsPromptlyAndRestarts) {
  ResourceMonitor::Options o = fast();
  o.interval = 10s;  // stop must not wait for the next tick
  ResourceMonitor m(o);
  m.start();
  m.start();  // a second start is a no-op
  EXPECT_TRUE(m.running());
  const auto t0 = std::chrono::steady_clock::now();
  m.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
  EXPECT_FALSE(m.running());
  m.stop();  // and so is a second stop

  ResourceMonitor fast_one(fast());
  fast_one.start();
  ASSERT_TRUE(wait_samples(fast_one, 1, 0, 5s));
  fast_one.stop();
  const auto count = fast_one.history(1000).size();
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ(fast_one.history(1000).size(), count);  // nothing after stop
  fast_one.start();
  EXPECT_TRUE(wait_samples(fast_one, count + 1, 0, 5s));
}  // the destructor stops a running monitor

TEST(ResourceMonitor, ReadersDuringSamplingAreSafe) {
  ResourceMonitor m(fast(8));
  m.start();
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done) {
      (void)m.latest();
      (void)m.history(8);
    }
  });
  ASSERT_TRUE(wait_samples(m, 4, 0, 5s));
  done = true;
  reader.join();
}

TEST(UsageSampler, ConsecutiveCallsCoverTheTimeBetween) {
  UsageSampler sampler(false);
  std::this_thread::sleep_for(30ms);
  const auto a = sampler.next();
  std::this_thread::sleep_for(30ms);
  const auto b = sampler.next();
  EXPECT_GE(a.interval_ms, 25);
  EXPECT_GE(b.interval_ms, 25);
  EXPECT_LT(b.interval_ms, 1000);
  EXPECT_GE(b.unix_ms, a.unix_ms);
  EXPECT_TRUE(b.gpus.empty());  // not asked for
}
