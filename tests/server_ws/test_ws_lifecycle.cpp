// Connections that end mid-generation, and clients too slow to read: the
// server frees the slots and stays responsive for everyone else.
#include <thread>

#include "ws_fixture.hpp"

using namespace rmm::test;

namespace {

// A generation that, left alone, fills the whole context of the only slot (seconds on one thread).
json endless(const std::string& id) {
  return {{"type", "generate"}, {"id", id}, {"prompt", "Once upon a time"}, {"params", {{"max_tokens", -1}}}};
}

}  // namespace

TEST_F(WsTest, ClosingTheSocketCancelsItsGenerationsAndFreesTheSlot) {
  auto& srv = server(1);
  for (const bool clean : {true, false}) {
    const std::string id = clean ? "closed-long" : "dropped-long";
    {
      auto a = connect();
      a->send(endless(id));
      a->until([](const json& m) { return m["type"] == "token"; });
      if (clean) {
        a->close();
      } else {
        a->drop();
      }
    }
    // The server logs each generation's end; this one must have been cancelled, not run out.
    EXPECT_TRUE(srv.wait_for_output("generation '" + id + "' cancelled", 5s)) << srv.output();
    // The only slot is free: a new client's generation completes at once.
    auto b = connect();
    const auto start = std::chrono::steady_clock::now();
    b->send(generate("next", "Once upon a time", 24, 0));
    const auto msgs = until_complete(*b, "next", 10s);
    EXPECT_EQ(msgs.back()["finish_reason"], "length");
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  }
}

TEST_F(WsTest, AClientThatDoesNotReadIsDisconnectedAndOthersCarryOn) {
  auto& srv = server(4);
  WsClient::Options tiny;
  tiny.receive_buffer = 4096;  // so that the server's queue, not the kernel's buffers, fills up
  auto slow = connect(tiny);
  // Many long generations with 20 alternatives each: far more than the 4 MiB queue bound.
  for (int i = 0; i < 40; ++i) {
    std::string id = "s";  // appended, not "s" + ...: GCC 12 warns wrongly (-Wrestrict) about that
    id += std::to_string(i);
    slow->send(generate(id, "Once upon a time", 500, 20));
  }
  // Meanwhile another client is served normally.
  auto other = connect();
  other->send(generate("fine", "Once upon a time", 24, 3));
  EXPECT_EQ(until_complete(*other, "fine").back()["finish_reason"], "length");

  ASSERT_TRUE(srv.wait_for_output("reads too slowly", 20s)) << srv.output();
  const auto got = slow->until_closed(20s);
  EXPECT_EQ(slow->close_code(), 1008) << got.size() << " messages before the end";

  // Its generations were cancelled: the slots serve new work promptly.
  other->send(generate("fine2", "Once upon a time", 24, 0));
  EXPECT_EQ(until_complete(*other, "fine2", 5s).back()["finish_reason"], "length");
}

TEST_F(WsTest, ShutdownClosesSocketsWithGoingAway) {
  auto& srv = server(2);
  auto a = connect();
  auto idle = connect();
  a->send(endless("until-shutdown"));
  a->until([](const json& m) { return m["type"] == "token"; });
  srv.signal(SIGTERM);
  // Both sockets, busy and idle, get a close frame with 1001 (going away), and the server exits in time.
  a->until_closed(5s);
  EXPECT_EQ(a->close_code(), 1001);
  idle->until_closed(5s);
  EXPECT_EQ(idle->close_code(), 1001);
  const auto status = srv.wait(5s);
  ASSERT_TRUE(status.has_value()) << srv.output();
  EXPECT_TRUE(status->exited && status->code == 0) << srv.output();
  EXPECT_LT(status->took, 2s);
}
