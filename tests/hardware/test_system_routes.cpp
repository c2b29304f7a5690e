// GET /api/system/usage on an in-process server whose monitor samples every
// 50 ms, then /api/system/info and /api/system/usage through a real
// `rmm serve` (no model: the routes do not need one).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <thread>

#include "models/resource_monitor.hpp"
#include "server/http_server.hpp"
#include "server/native/system_routes.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/test_env.hpp"

using namespace rmm::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

class UsageRoute : public ::testing::Test {
 protected:
  void SetUp() override {
    rmm::models::ResourceMonitor::Options o;
    o.interval = 50ms;
    o.capacity = 20;
    o.gpus = true;
    monitor = std::make_unique<rmm::models::ResourceMonitor>(o);
    rmm::server::Router router;
    monitor->start();
    rmm::server::native::add_usage_route(router, *monitor);
    rmm::server::ServerOptions opts;
    opts.port = 0;
    server = std::make_unique<rmm::server::HttpServer>(opts, std::move(router));
    port = server->listen();
    thread = std::thread([this] { server->run(); });
  }
  void TearDown() override {
    server->stop(200ms);
    thread.join();
  }
  // Waits for `n` samples, then GETs `target`.
  HttpResponse get_after(size_t n, const std::string& target) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (monitor->history(n).size() < n && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
    return http_get(port, target);
  }

  std::unique_ptr<rmm::models::ResourceMonitor> monitor;
  std::unique_ptr<rmm::server::HttpServer> server;
  std::thread thread;
  int port = 0;
};

// The shape of one sample as the routes write it.
void expect_sample(const json& s) {
  ASSERT_TRUE(s.is_object()) << s;
  EXPECT_TRUE(s.at("time_ms").is_number_integer()) << s;
  EXPECT_GT(s.at("interval_ms").get<double>(), 0) << s;
  const int cpus = s.at("cpus").get<int>();
  EXPECT_GE(cpus, 1);
  const auto& p = s.at("process");
  EXPECT_GE(p.at("cpu_percent").get<double>(), 0);
  EXPECT_LE(p.at("cpu_percent").get<double>(), 100.0 * cpus);
  EXPECT_GE(p.at("cpu_percent_total").get<double>(), 0);
  EXPECT_LE(p.at("cpu_percent_total").get<double>(), 100.0);
  EXPECT_GT(p.at("rss").get<uint64_t>(), 0u);
  const auto& sys = s.at("system");
  EXPECT_GE(sys.at("cpu_percent").get<double>(), 0);
  EXPECT_LE(sys.at("cpu_percent").get<double>(), 100.0);
  EXPECT_EQ(sys.at("cpu_percent_per_core").size(), static_cast<size_t>(cpus));
  EXPECT_GT(sys.at("ram_total").get<uint64_t>(), 0u);
  EXPECT_EQ(sys.at("ram_used").get<uint64_t>() + sys.at("ram_available").get<uint64_t>(),
            sys.at("ram_total").get<uint64_t>());
  EXPECT_TRUE(s.at("gpus").is_array());
}

uint64_t vm_rss_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

}  // namespace

TEST_F(UsageRoute, NewestSamplesOldestFirst) {
  const auto r = get_after(6, "/api/system/usage?history=5");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto j = r.json();
  EXPECT_EQ(j.at("interval_ms"), 50);
  EXPECT_EQ(j.at("capacity"), 20);
  const auto& samples = j.at("samples");
  ASSERT_EQ(samples.size(), 5u) << j;
  for (size_t i = 0; i < samples.size(); ++i) {
    expect_sample(samples[i]);
    if (i > 0) {
      EXPECT_LE(samples[i - 1]["time_ms"].get<int64_t>(), samples[i]["time_ms"].get<int64_t>());
    }
  }
}

TEST_F(UsageRoute, DefaultZeroAndTheWholeBuffer) {
  auto r = get_after(3, "/api/system/usage");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_GE(r.json().at("samples").size(), 3u);  // default 60, capped by what is kept
  r = http_get(port, "/api/system/usage?history=0");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.json().at("samples").empty());
  r = get_after(20, "/api/system/usage?history=20");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json().at("samples").size(), 20u);
}

TEST_F(UsageRoute, BadHistoryIs400NamingIt) {
  for (const char* q : {"abc", "-1", "21", "1.5", "", "99999999999999999999999"}) {
    const auto r = http_get(port, std::string("/api/system/usage?history=") + q);
    EXPECT_EQ(r.status, 400) << q << ": " << r.body;
    const auto j = r.json();
    EXPECT_EQ(j.at("error").at("param"), "history") << r.body;
    EXPECT_NE(j.at("error").at("message").get<std::string>().find("history"), std::string::npos);
  }
}

TEST(SystemInfoServe, HardwareAndUsageOverHttp) {
  const auto home = temp_dir("system-info");
  ScopedEnv rmm_home("RMM_HOME", home.string());
  ServerProcess s({"--host", "127.0.0.1", "--port", "0", "-t", "1"});

  // The first sample comes a second after the start.
  json info;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  do {
    const auto r = http_get(s.port(), "/api/system/info");
    ASSERT_EQ(r.status, 200) << r.body;
    info = r.json();
    if (!info.at("usage").is_null()) break;
    std::this_thread::sleep_for(100ms);
  } while (std::chrono::steady_clock::now() < deadline);

  // The fields older clients read.
  const auto& cpu = info.at("cpu");
  EXPECT_FALSE(cpu.at("model").get<std::string>().empty());
  EXPECT_GE(cpu.at("threads").get<int>(), 1);
  EXPECT_TRUE(cpu.at("features").is_array());
  EXPECT_GT(info.at("memory").at("total").get<uint64_t>(), 0u);
  EXPECT_LE(info["memory"].at("available").get<uint64_t>(), info["memory"]["total"].get<uint64_t>());
  EXPECT_TRUE(info.at("gpus").is_array());
  EXPECT_NE(info.at("backends").dump().find("\"CPU\""), std::string::npos) << info;
  EXPECT_FALSE(info.at("llama_cpp").get<std::string>().empty());
  EXPECT_EQ(info.at("disk").at("path"), home.string());
  EXPECT_GT(info["disk"].at("total").get<uint64_t>(), 0u);
  // The probe's richer CPU data.
  EXPECT_GE(cpu.at("physical_cores").get<int>(), 1);
  EXPECT_EQ(cpu.at("logical_threads"), cpu.at("threads"));
  EXPECT_GE(cpu.at("usable_threads").get<int>(), 1);
  EXPECT_LE(cpu["usable_threads"].get<int>(), cpu["logical_threads"].get<int>());
  for (const auto& g : info["gpus"]) {
    for (const char* k : {"name", "description", "type", "memory_total", "memory_free", "memory_used"})
      EXPECT_TRUE(g.contains(k)) << k << " in " << g;
  }
  // The monitor's latest sample, about the server process.
  ASSERT_FALSE(info.at("usage").is_null()) << "no sample within 10 s: " << info;
  expect_sample(info["usage"]);
  const auto rss = info["usage"]["process"]["rss"].get<uint64_t>();
  const auto kernel_rss = vm_rss_of(s.pid());
  EXPECT_NEAR(static_cast<double>(rss), static_cast<double>(kernel_rss), 32.0 * 1024 * 1024)
      << "server VmRSS " << kernel_rss;

  const auto r = http_get(s.port(), "/api/system/usage?history=3");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto u = r.json();
  EXPECT_EQ(u.at("interval_ms"), 1000);
  EXPECT_EQ(u.at("capacity"), 300);
  ASSERT_GE(u.at("samples").size(), 1u);
  EXPECT_LE(u["samples"].size(), 3u);
  expect_sample(u["samples"].back());
  EXPECT_EQ(http_get(s.port(), "/api/system/usage?history=301").status, 400);
}

namespace rmm::test {
namespace {

TEST(SystemInfoServe, TheModelWorkersMemoryAndCpuAreSampled) {
  RMM_REQUIRE_SHARED_MODEL(model, "TinyStories-656K-Q8_0.gguf");
  const auto home = temp_dir("system-info-workers");
  ScopedEnv rmm_home("RMM_HOME", home.string());
  ServerProcess s({"--host", "127.0.0.1", "--port", "0", "-t", "1", "-m", model.string()});
  const json loaded = http_get(s.port(), "/api/models/loaded").json();
  ASSERT_EQ(loaded["models"].size(), 1u) << loaded;
  const int pid = loaded["models"][0]["worker"]["pid"].get<int>();
  // Samples come each second: wait for one that has seen the worker.
  json usage;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    usage = http_get(s.port(), "/api/system/info").json().at("usage");
    if (!usage.is_null() && usage["workers"]["count"] == 1) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(usage.at("workers").at("count"), 1) << usage;
  const auto rss = usage["workers"]["rss"].get<uint64_t>();
  EXPECT_NEAR(static_cast<double>(rss), static_cast<double>(vm_rss_of(pid)), 32.0 * 1024 * 1024)
      << "worker VmRSS " << vm_rss_of(pid);
  EXPECT_GE(usage["workers"]["cpu_percent"].get<double>(), 0.0);
}

}  // namespace
}  // namespace rmm::test
