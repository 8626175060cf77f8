#include "core/replay/replay_speed.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string>

namespace harness::replay {

bool valid_speed(double speed) {
    return std::isfinite(speed) && speed >= k_min_speed;
}

std::optional<double> parse_speed(std::string_view text) {
    if (text == "max") return std::nullopt;
    double value = 0;
    auto const [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || !valid_speed(value))
        throw std::invalid_argument{"speed must be a number from 0.001 up or 'max', not '" + std::string{text} + "'"};
    return value;
}

std::chrono::nanoseconds paced_offset(std::chrono::nanoseconds recorded, double speed) {
    using double_ns = std::chrono::duration<double, std::nano>;
    constexpr auto k_longest = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::years{100});
    auto const paced = double_ns{double(recorded.count()) / speed};
    // Compared in double before converting: the quotient may be past int64.
    if (!(paced < double_ns{k_longest})) return k_longest;
    if (!(paced > double_ns::zero())) return std::chrono::nanoseconds::zero();
    return std::chrono::duration_cast<std::chrono::nanoseconds>(paced);
}

}  // namespace harness::replay
