// Loads that take a while, with several models in one `rmm serve`: a stream
// from one model keeps going while another loads, and concurrent requests for
// a model that is loading share that one load. The slow model is forged
// (`rmm forge`, q8_0, ~130 MB) so that its load lasts long enough here to be
// seen from outside; the fast one is the tiny preset.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/subprocess.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/test_env.hpp"

namespace rmm::test {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

class ModelLoads : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("models_load");
    forge_model(dir_, "small", {"--seed", "1"});
    // 24 blocks of the 1b-like width 512: ~130 MB of q8_0, loads in a few hundred ms.
    forge_model(dir_, "big", {"--seed", "2", "--layers", "24", "--embd", "512", "--ffn", "2048"});
    server_ = std::make_unique<ServerProcess>(std::vector<std::string>{
        "--host", "127.0.0.1", "--port", "0", "-t", "1", "--models-dir", dir_.string(), "--parallel", "1",
        "--ctx-size", "2048", "--batch-size", "32", "--ubatch-size", "32", "--queue", "16"});
  }

  void TearDown() override {
    if (HasFailure() && server_) std::cerr << "server output:\n" << server_->output() << "\n";
  }

  json loaded() { return http_get(server_->port(), "/api/models/loaded").json(); }

  std::filesystem::path dir_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ModelLoads, AStreamFromOneModelKeepsGoingWhileAnotherLoads) {
  const int port = server_->port();
  ASSERT_EQ(http_post_json(port, "/api/models/load", {{"model", "small"}}).status, 200);

  // A long stream: end of text is banned, so it runs until the reader stops.
  std::mutex mutex;
  std::vector<Clock::time_point> arrivals;
  std::atomic<bool> stop{false};
  std::string reader_error;
  std::thread reader([&] {
    try {
      SseStream s(port, "/v1/completions",
                  {{"model", "small"},
                   {"prompt", "Once"},
                   {"max_tokens", 100000},
                   {"temperature", 0},
                   {"logit_bias", {{"2", -100}}},
                   {"stream", true}});
      if (s.head().status != 200) throw std::runtime_error("status " + std::to_string(s.head().status));
      while (!stop) {
        const auto ev = s.next_event();
        if (!ev) throw std::runtime_error("the stream ended before the load did");
        std::lock_guard lock(mutex);
        arrivals.push_back(Clock::now());
      }
      s.close();
    } catch (const std::exception& e) {
      std::lock_guard lock(mutex);
      reader_error = e.what();
    }
  });
  auto count = [&] {
    std::lock_guard lock(mutex);
    return arrivals.size();
  };
  const auto wait_end = Clock::now() + std::chrono::seconds(10);
  while (count() < 5 && Clock::now() < wait_end && reader_error.empty())
    std::this_thread::sleep_for(std::chrono::milliseconds(2));

  const auto load_start = Clock::now();
  const auto r = http_post_json(port, "/api/models/load", {{"model", "big"}});
  const auto load_end = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop = true;
  reader.join();
  ASSERT_TRUE(reader_error.empty()) << reader_error;
  ASSERT_EQ(r.status, 200) << r.body;

  // Chunks that arrived while the load ran, and the longest silence in that time.
  const double load_ms = ms_between(load_start, load_end);
  size_t during = 0;
  double longest_gap = 0;
  auto last = load_start;
  for (const auto& t : arrivals) {
    if (t <= load_start) continue;
    if (t >= load_end) break;
    ++during;
    longest_gap = std::max(longest_gap, ms_between(last, t));
    last = t;
  }
  longest_gap = std::max(longest_gap, ms_between(last, load_end));
  std::cout << "load of big: " << load_ms << " ms; " << during << " chunks of small meanwhile, longest gap "
            << longest_gap << " ms\n";
  EXPECT_GE(during, 3u) << "the stream stalled during the load";
  // Two cores and a load thread: gaps happen, but never one as long as most of the load.
  EXPECT_LT(longest_gap, load_ms / 2) << "the stream stalled during the load";
  EXPECT_EQ(loaded()["loads_started"], 2);
}

TEST_F(ModelLoads, ConcurrentRequestsForALoadingModelWaitForItsOneLoad) {
  const int port = server_->port();
  constexpr size_t kRequests = 5;
  std::vector<int> statuses(kRequests, 0);
  std::vector<Clock::time_point> started(kRequests), answered(kRequests);
  std::atomic<size_t> sent{0};
  std::vector<std::thread> threads;
  for (size_t i = 0; i < kRequests; ++i) {
    threads.emplace_back([&, i] {
      started[i] = Clock::now();
      ++sent;
      statuses[i] =
          http_post_json(port, "/v1/completions",
                         {{"model", "big"}, {"prompt", "Once"}, {"max_tokens", 2}, {"temperature", 0}})
              .status;
      answered[i] = Clock::now();
    });
  }
  while (sent < kRequests) std::this_thread::yield();
  // Every request is on its way; if the load still runs a little later, they all arrived during it.
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const json during = loaded();
  for (auto& t : threads) t.join();

  for (size_t i = 0; i < kRequests; ++i) EXPECT_EQ(statuses[i], 200) << "request " << i;
  const auto first_answer = *std::min_element(answered.begin(), answered.end());
  const auto last_start = *std::max_element(started.begin(), started.end());
  std::cout << "all sent " << ms_between(last_start, first_answer)
            << " ms before the first answer; loading 10 ms after: " << during["loading"] << "\n";
  EXPECT_TRUE(during["loading"].get<bool>())
      << "the load ended before the requests were all sent: " << during.dump();
  const json after = loaded();
  EXPECT_EQ(after["loads_started"], 1) << after.dump();
  ASSERT_EQ(after["models"].size(), 1u);
  EXPECT_EQ(after["models"][0]["id"], "big:q8_0");  // its registry short name
}

}  // namespace
}  // namespace rmm::test
