// The /proc parsers and llama.cpp's feature summary, on fixture texts taken
// from real machines (trimmed), plus the shapes that must not crash them.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "models/hardware.hpp"
#include "models/resource_monitor.hpp"

using namespace rmm::models;

namespace {

// Two sockets of two cores with two threads each (x86, hyper-threading).
std::string x86_cpuinfo() {
  std::string out;
  int n = 0;
  for (int socket = 0; socket < 2; ++socket)
    for (int core = 0; core < 2; ++core)
      for (int thread = 0; thread < 2; ++thread) {
        out += "processor\t: " + std::to_string(n++) +
               "\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n"
               "model name\t: Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz\n"
               "physical id\t: " +
               std::to_string(socket) + "\nsiblings\t: 4\ncore id\t\t: " + std::to_string(core) +
               "\ncpu cores\t: 2\nflags\t\t: fpu vme sse sse2 avx avx2\n\n";
      }
  return out;
}

const char* kArmCpuinfo =
    "processor\t: 0\nBogoMIPS\t: 48.00\nFeatures\t: fp asimd evtstrm aes\nCPU implementer\t: 0x41\n\n"
    "processor\t: 1\nBogoMIPS\t: 48.00\nFeatures\t: fp asimd evtstrm aes\nCPU implementer\t: 0x41\n\n"
    "processor\t: 2\nBogoMIPS\t: 48.00\n\nprocessor\t: 3\nBogoMIPS\t: 48.00\n\n"
    "Hardware\t: BCM2835\nRevision\t: c03111\n";

const char* kMeminfo =
    "MemTotal:       32614576 kB\n"
    "MemFree:         1234567 kB\n"
    "MemAvailable:   20000000 kB\n"
    "Buffers:          100000 kB\n"
    "Cached:          5000000 kB\n"
    "HugePages_Total:       0\n"
    "Hugepagesize:       2048 kB\n";

}  // namespace

TEST(CpuInfo, CountsCoresAcrossSocketsAndThreads) {
  const auto c = parse_cpuinfo(x86_cpuinfo());
  EXPECT_EQ(c.model, "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz");
  EXPECT_EQ(c.logical_threads, 8);
  EXPECT_EQ(c.physical_cores, 4);  // (socket, core) pairs, not core ids alone
}

TEST(CpuInfo, ArmWithoutCoreIdsFallsBackToThreadsAndHardware) {
  const auto c = parse_cpuinfo(kArmCpuinfo);
  EXPECT_EQ(c.logical_threads, 4);
  EXPECT_EQ(c.physical_cores, 4);
  EXPECT_EQ(c.model, "BCM2835");
}

TEST(CpuInfo, CpuCoresWithoutCoreIdsIsUsed) {
  const auto c = parse_cpuinfo(
      "processor : 0\nphysical id : 0\ncpu cores : 2\n\nprocessor : 1\nphysical id : 0\ncpu cores : 2\n\n"
      "processor : 2\nphysical id : 0\ncpu cores : 2\n\nprocessor : 3\nphysical id : 0\ncpu cores : 2\n");
  EXPECT_EQ(c.logical_threads, 4);
  EXPECT_EQ(c.physical_cores, 2);
  EXPECT_EQ(c.model, "unknown");
}

TEST(CpuInfo, EmptyOrGarbageGivesZeros) {
  for (const char* text : {"", "\n\n", "no colons here\nat all", ":::\n: :\n"}) {
    const auto c = parse_cpuinfo(text);
    EXPECT_EQ(c.logical_threads, 0) << text;
    EXPECT_EQ(c.physical_cores, 0) << text;
    EXPECT_EQ(c.model, "unknown") << text;
  }
}

TEST(CpuInfo, ThisMachine) {
  const auto c = parse_cpuinfo(read_small_file("/proc/cpuinfo"));
  EXPECT_GE(c.logical_threads, 1);
  EXPECT_GE(c.physical_cores, 1);
  EXPECT_LE(c.physical_cores, c.logical_threads);
}

TEST(MemInfo, ReadsTotalAndAvailableInBytes) {
  const auto m = parse_meminfo(kMeminfo);
  EXPECT_EQ(m.total, 32614576ULL * 1024);
  EXPECT_EQ(m.available, 20000000ULL * 1024);
}

TEST(MemInfo, OldKernelsWithoutMemAvailableSumFreeBuffersCached) {
  const auto m = parse_meminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 20 kB\nCached: 300 kB\n");
  EXPECT_EQ(m.total, 1000ULL * 1024);
  EXPECT_EQ(m.available, 420ULL * 1024);
}

TEST(MemInfo, GarbageGivesZerosAndAvailableNeverExceedsTotal) {
  const auto g = parse_meminfo("MemTotal: lots\nMemAvailable: -3 kB\n");
  EXPECT_EQ(g.total, 0u);
  EXPECT_EQ(g.available, 0u);
  const auto m = parse_meminfo("MemTotal: 10 kB\nMemAvailable: 20 kB\n");
  EXPECT_EQ(m.available, m.total);
}

TEST(SystemFeatures, CpuGroupOnFlagsOnly) {
  const auto f = parse_system_features(
      "CPU : SSE3 = 1 | AVX = 1 | AVX512 = 0 | LLAMAFILE = 1 | OPENMP = 1 | "
      "CUDA : ARCHS = 1 | USE_GRAPHS = 1 | PEER_MAX_BATCH_SIZE = 128 | ");
  ASSERT_EQ(f.size(), 8u);
  EXPECT_EQ(f[0].backend, "CPU");
  EXPECT_EQ(f[0].name, "SSE3");
  EXPECT_EQ(f[2].value, "0");
  EXPECT_EQ(f[5].backend, "CUDA");
  EXPECT_EQ(f[5].name, "ARCHS");
  EXPECT_EQ(f[7].value, "128");
  EXPECT_EQ(cpu_feature_names(f), (std::vector<std::string>{"SSE3", "AVX", "LLAMAFILE", "OPENMP"}));
}

TEST(SystemFeatures, EmptyAndOddTexts) {
  EXPECT_TRUE(parse_system_features("").empty());
  EXPECT_TRUE(parse_system_features(" | | ").empty());
  EXPECT_TRUE(parse_system_features("CPU : ").empty());
  // A flag before any group has no backend and is not a CPU feature.
  const auto f = parse_system_features("AVX = 1");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_TRUE(cpu_feature_names(f).empty());
}

TEST(ProcStat, AggregateAndPerCoreTicks) {
  const auto s = parse_proc_stat(
      "cpu  100 10 50 800 40 0 5 5 0 0\n"
      "cpu0 60 5 25 390 20 0 3 2 0 0\n"
      "cpu1 40 5 25 410 20 0 2 3 0 0\n"
      "intr 1234 0 0\nctxt 999\nbtime 1700000000\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->all.busy, 100u + 10 + 50 + 0 + 5 + 5);
  EXPECT_EQ(s->all.total, s->all.busy + 800 + 40);
  ASSERT_EQ(s->cores.size(), 2u);
  EXPECT_EQ(s->cores[0].busy, 60u + 5 + 25 + 3 + 2);
}

TEST(ProcStat, PairOfReadingsGivesBusyPercent) {
  const auto a = parse_proc_stat("cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 100 0 100 800 0 0 0 0 0 0\n");
  const auto b = parse_proc_stat("cpu  175 0 125 850 0 0 0 0 0 0\ncpu0 175 0 125 850 0 0 0 0 0 0\n");
  ASSERT_TRUE(a && b);
  EXPECT_DOUBLE_EQ(busy_percent(a->all, b->all), 100.0 * 100 / 150);
  EXPECT_DOUBLE_EQ(busy_percent(b->all, b->all), 0.0);  // no time passed
  EXPECT_DOUBLE_EQ(busy_percent(b->all, a->all), 0.0);  // counters going back (a CPU went offline)
}

TEST(ProcStat, OldKernelWithFourFieldsAndMissingAggregate) {
  const auto s = parse_proc_stat("cpu 1 2 3 4\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->all.busy, 6u);
  EXPECT_EQ(s->all.total, 10u);
  EXPECT_FALSE(parse_proc_stat("cpu0 1 2 3 4\n"));
  EXPECT_FALSE(parse_proc_stat(""));
  EXPECT_FALSE(parse_proc_stat("cpu x y z\n"));
}

TEST(ProcSelfStat, UtimePlusStimeEvenWithParenthesesInTheName) {
  // Fields 14 and 15 are 1234 and 56; the name holds spaces and a ')'.
  const std::string tail =
      " R 1 2 3 4 5 4194304 99 0 0 0 1234 56 0 0 20 0 3 0 1485619 3133440 380 18446744073709551615\n";
  EXPECT_EQ(parse_process_ticks("42 (rmm)" + tail), 1290u);
  EXPECT_EQ(parse_process_ticks("42 (a b) c)" + tail), 1290u);
  EXPECT_FALSE(parse_process_ticks(""));
  EXPECT_FALSE(parse_process_ticks("42 (rmm) R 1 2 3"));  // cut short
  EXPECT_FALSE(parse_process_ticks("42 (rmm) R 1 2 3 4 5 6 7 8 9 10 x 56 0"));
}

TEST(ProcSelfStat, ThisProcess) { EXPECT_TRUE(parse_process_ticks(read_small_file("/proc/self/stat"))); }

TEST(ProcSelfStatus, VmRssInBytes) {
  EXPECT_EQ(parse_vm_rss("Name:\trmm\nVmPeak:\t  9999 kB\nVmRSS:\t    2136 kB\nRssAnon:\t 100 kB\n"),
            2136ULL * 1024);
  EXPECT_FALSE(parse_vm_rss("Name:\tkthreadd\nState:\tS\n"));  // kernel threads have none
  EXPECT_FALSE(parse_vm_rss("VmRSS:\n"));
  EXPECT_FALSE(parse_vm_rss("VmRSS:\tmany kB\n"));
  const auto self = parse_vm_rss(read_small_file("/proc/self/status"));
  ASSERT_TRUE(self);
  EXPECT_GT(*self, 0u);
}

TEST(Probe, ThisMachineIsSane) {
  const auto hw = probe();
  EXPECT_FALSE(hw.cpu.model.empty());
  EXPECT_GE(hw.cpu.logical_threads, 1);
  EXPECT_GE(hw.cpu.physical_cores, 1);
  EXPECT_GE(hw.cpu.usable_threads, 1);
  EXPECT_LE(hw.cpu.usable_threads, hw.cpu.logical_threads);
  EXPECT_GT(hw.ram.total, 0u);
  EXPECT_GT(hw.ram.available, 0u);
  EXPECT_LE(hw.ram.available, hw.ram.total);
  EXPECT_NE(std::find(hw.backends.begin(), hw.backends.end(), "CPU"), hw.backends.end());
  for (const auto& g : hw.gpus) {
    EXPECT_FALSE(g.name.empty());
    EXPECT_NE(g.type, "cpu");
    EXPECT_LE(g.memory_free, g.memory_total) << g.name;
  }
#if defined(__x86_64__)
  // Every x86-64 CPU has SSE3 and llama.cpp's CPU backend lists it when built for it.
  EXPECT_FALSE(hw.cpu.features.empty());
#endif
}

TEST(Probe, IsCheapAfterTheFirstCall) {
  probe();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) probe();
  const auto per_call = (std::chrono::steady_clock::now() - t0) / 100;
  EXPECT_LT(per_call, std::chrono::milliseconds(5));
  std::cout << "probe(): " << std::chrono::duration<double, std::micro>(per_call).count() << " us\n";
}
