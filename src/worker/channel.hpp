#pragma once
// One end of the socket between `rmm serve` and a worker: whole frames out
// (from any thread, in order) and bytes in. Writes never raise SIGPIPE; a
// peer that is gone shows up as a failed send or end of file.
#include <mutex>
#include <string>

namespace rmm::worker {

class Channel {
 public:
  explicit Channel(int fd);  // takes ownership
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Writes all of `frame`; false when the peer is gone.
  bool send(const std::string& frame);
  // Writes what the socket takes now, without waiting: the bytes written, or kGone.
  static constexpr size_t kGone = static_cast<size_t>(-1);
  size_t send_some(const std::string& bytes);
  // Reads what is there (blocking); 0 at end of file or on error.
  size_t receive(char* buf, size_t cap);
  // Ends both directions, waking a receive() blocked on another thread.
  void shut();
  int fd() const { return fd_; }

 private:
  int fd_;
  std::mutex send_mutex_;
};

}  // namespace rmm::worker
