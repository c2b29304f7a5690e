#pragma once
// The worker side: `rmm worker --fd N`, started by `rmm serve` for one model.
// It reads the load request from the socket, loads the model, then runs the
// engine and streams every token back until the server closes the socket.
// A crash here (llama.cpp abort, GPU driver fault) takes down only this
// process; the server sees the socket close and fails its requests cleanly.
namespace rmm::worker {

// Serves on the connected socket `fd` (taken over). Returns the exit code.
int run_worker(int fd);

}  // namespace rmm::worker
