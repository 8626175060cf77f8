#pragma once
// How fast a replay plays a recording: a factor of the recorded timing
// (dialpad-replay serve --speed, the mock's --replay-speed and its admin
// replay's "speed"), or as fast as the consumers read ("max").

#include <chrono>
#include <optional>
#include <string_view>

namespace harness::replay {

// The slowest replay: a thousand times slower than recorded. Slower ones
// put a session's later events beyond any wait anyone means.
inline constexpr double k_min_speed = 0.001;

// Whether `speed` is a number replays accept: finite, k_min_speed or more.
bool valid_speed(double speed);

// "max" (nullopt), or a number valid_speed accepts; otherwise throws
// std::invalid_argument saying what is accepted.
std::optional<double> parse_speed(std::string_view text);

// When an event `recorded` after the start of a session is due, played at
// `speed`: recorded / speed, held at a century so that no offset an archive
// may hold overflows the nanoseconds it is counted in.
std::chrono::nanoseconds paced_offset(std::chrono::nanoseconds recorded, double speed);

}  // namespace harness::replay
