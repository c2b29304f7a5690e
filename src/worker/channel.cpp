#include "worker/channel.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace rmm::worker {

Channel::Channel(int fd) : fd_(fd) {
  // Token events are small and many; a roomy buffer lets a burst go in one write.
  const int size = 1 << 20;
  setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

Channel::~Channel() { ::close(fd_); }

bool Channel::send(const std::string& frame) {
  std::lock_guard lock(send_mutex_);
  size_t done = 0;
  while (done < frame.size()) {
    const ssize_t n = ::send(fd_, frame.data() + done, frame.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

size_t Channel::send_some(const std::string& bytes) {
  std::lock_guard lock(send_mutex_);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) return kGone;
    done += static_cast<size_t>(n);
  }
  return done;
}

size_t Channel::receive(char* buf, size_t cap) {
  for (;;) {
    const ssize_t n = ::recv(fd_, buf, cap, 0);
    if (n < 0 && errno == EINTR) continue;
    return n > 0 ? static_cast<size_t>(n) : 0;
  }
}

void Channel::shut() { ::shutdown(fd_, SHUT_RDWR); }

}  // namespace rmm::worker
