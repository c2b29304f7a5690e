#include "core/log.hpp"

#include <ggml.h>
#include <llama.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <atomic>
#include <string>

#include "core/error.hpp"

namespace rmm::log {
namespace {

std::atomic<Level> g_level{Level::Warn};

spdlog::level::level_enum to_spdlog(Level l) {
  switch (l) {
    case Level::Debug: return spdlog::level::debug;
    case Level::Info: return spdlog::level::info;
    case Level::Warn: return spdlog::level::warn;
    case Level::Error: return spdlog::level::err;
    case Level::Off: return spdlog::level::off;
  }
  return spdlog::level::warn;
}

void llama_log_to_spdlog(ggml_log_level level, const char* text, void*) {
  // llama.cpp's warnings are mostly about its own internals; we surface them at debug level.
  if (g_level.load() != Level::Debug || level == GGML_LOG_LEVEL_CONT) return;
  std::string line(text);
  while (!line.empty() && line.back() == '\n') line.pop_back();
  if (!line.empty()) spdlog::debug("llama: {}", line);
}

}  // namespace

void set_level(Level level) {
  static const bool installed = [] {
    auto logger = spdlog::stderr_color_mt("rmm");
    logger->set_pattern("%^%l%$: %v");
    spdlog::set_default_logger(logger);
    return true;
  }();
  (void)installed;
  g_level = level;
  spdlog::set_level(to_spdlog(level));
  route_llama_log();
}

void route_llama_log() { llama_log_set(llama_log_to_spdlog, nullptr); }

Level level() { return g_level.load(); }

const char* level_name(Level level) {
  switch (level) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warn";
    case Level::Error: return "error";
    case Level::Off: return "off";
  }
  return "warn";
}

Level parse_level(const std::string& name) {
  if (name == "debug") return Level::Debug;
  if (name == "info") return Level::Info;
  if (name == "warn") return Level::Warn;
  if (name == "error") return Level::Error;
  if (name == "off") return Level::Off;
  throw Error(ErrorKind::InvalidArgument, "unknown log level '" + name + "' (debug, info, warn, error, off)");
}

}  // namespace rmm::log
