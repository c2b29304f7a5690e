// The worker wire format (src/worker/wire.cpp) on arbitrary bytes: frames are
// split from the stream in chunks of varying size and decoded by their type.
// A bad frame must raise rmm::Error; a frame that decodes whole must encode
// back to the same bytes (nothing is dropped or invented on the way).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "worker/wire.hpp"

using namespace rmm;
using namespace rmm::worker;

namespace {

std::string framed(MsgType type, const std::string& payload) {
  const auto n = static_cast<uint32_t>(payload.size());
  std::string out(reinterpret_cast<const char*>(&n), sizeof n);
  out.push_back(static_cast<char>(type));
  return out + payload;
}

// Decodes one payload; returns its re-encoding, or "" for types without a decoder.
std::string roundtrip(MsgType type, const std::string& payload) {
  Reader r(payload);
  std::string again;
  switch (type) {
    case MsgType::Init: again = encode(decode_load(r)); break;
    case MsgType::Ready: again = encode(decode_info(r)); break;
    case MsgType::Submit: {
      const uint64_t id = r.u64();
      again = encode_submit(id, decode_request(r));
      break;
    }
    case MsgType::Token: {
      const uint64_t id = r.u64();
      again = encode_token(id, decode_token(r));
      break;
    }
    case MsgType::Done: {
      const uint64_t id = r.u64();
      again = encode_done(id, decode_done(r));
      break;
    }
    case MsgType::LoadFailed: {
      const Error e = decode_error(r);
      again = encode_error(type, e.kind(), e.what());
      break;
    }
    default: return "";
  }
  r.end();
  return again;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t chunk = 1 + data[0] % 64;  // how the stream arrives
  FrameReader frames;
  MsgType type;
  std::string payload;
  try {
    for (size_t at = 1; at < size; at += chunk) {
      frames.feed(reinterpret_cast<const char*>(data) + at, std::min(chunk, size - at));
      while (frames.next(type, payload)) {
        std::string again;
        try {
          again = roundtrip(type, payload);
        } catch (const Error&) {
          continue;  // refused, as it should be; the stream goes on
        }
        if (!again.empty() && again != framed(type, payload)) std::abort();
      }
    }
  } catch (const Error&) {
    // an impossible frame length: the channel is closed in real use
  }
  return 0;
}
