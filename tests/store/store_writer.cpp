// Appends chat messages to a store until killed, printing after each commit
// what is now durable: "C <conversation id>" and "M <conversation id> <message id>".
// The kill -9 test checks that everything printed survives.
//   store_writer LOCATION
#include <chrono>
#include <cstdio>
#include <exception>
#include <random>

#include "store/store.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: store_writer LOCATION\n");
    return 2;
  }
  try {
    auto store = rmm::store::open_store(argv[1]);
    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> size(0, 6000);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);  // if never killed
    std::string conversation;
    for (int i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
      if (i % 20 == 0) {
        rmm::store::Conversation c;
        c.title = "writer " + std::to_string(i);
        conversation = store->create_conversation(c).id;
        std::printf("C %s\n", conversation.c_str());
        std::fflush(stdout);
      }
      rmm::store::ChatMessage m;
      m.role = i % 2 ? "assistant" : "user";
      m.content = std::string(static_cast<size_t>(size(rng)), static_cast<char>('a' + i % 26));
      const auto saved = store->append_message(conversation, m);
      std::printf("M %s %lld\n", conversation.c_str(), static_cast<long long>(saved.id));
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "store_writer: %s\n", e.what());
    return 1;
  }
  return 0;
}
