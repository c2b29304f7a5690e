#pragma once
// Logging goes to stderr through spdlog; quiet (warnings only) by default so
// that stdout stays clean for piping. llama.cpp's own log is routed here too.
#include <spdlog/spdlog.h>

namespace rmm::log {

enum class Level { Debug, Info, Warn, Error, Off };

// Sets our level and llama.cpp's (llama.cpp logs only from Debug, since it is chatty).
void set_level(Level level);
Level level();
// Sends llama.cpp's log through ours (done by the engine at start-up, so even
// a caller that never sets a level gets a quiet llama.cpp).
void route_llama_log();
// Parses "debug", "info", "warn", "error", "off"; throws rmm::Error otherwise.
Level parse_level(const std::string& name);
const char* level_name(Level level);  // the inverse

}  // namespace rmm::log
