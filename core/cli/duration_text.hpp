#pragma once
// Durations on the command line: 2h, 90m, 30s, 250ms, or plain seconds.

#include <chrono>
#include <optional>
#include <string_view>

namespace harness::cli {

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text);

}  // namespace harness::cli
