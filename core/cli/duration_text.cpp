#include "core/cli/duration_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

namespace harness::cli {

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) {
    double value = 0;
    auto const [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    // from_chars also reads "inf" and "nan", which are no durations.
    if (error != std::errc{} || !std::isfinite(value) || value < 0) return std::nullopt;
    std::string_view const unit{end, static_cast<std::size_t>(text.data() + text.size() - end)};
    double seconds = 0;
    if (unit.empty() || unit == "s") seconds = value;
    else if (unit == "ms") seconds = value / 1000;
    else if (unit == "m" || unit == "min") seconds = value * 60;
    else if (unit == "h") seconds = value * 3600;
    else if (unit == "d") seconds = value * 86400;
    else return std::nullopt;
    // Nanoseconds in an int64 reach about 292 years; a longer duration is
    // refused rather than converted out of range (undefined behaviour).
    constexpr double k_limit = static_cast<double>(std::numeric_limits<std::int64_t>::max());  // 2^63
    if (!(seconds * 1e9 < k_limit)) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(seconds));
}

}  // namespace harness::cli
