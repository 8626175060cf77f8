#include "core/replay/replay_speed.hpp"

#include <doctest/doctest.h>

#include <limits>
#include <stdexcept>

using namespace std::chrono_literals;
using harness::replay::paced_offset;
using harness::replay::parse_speed;

TEST_CASE("replay::parse_speed: max, or a number from 0.001 up") {
    CHECK_FALSE(parse_speed("max").has_value());
    CHECK(parse_speed("1") == 1.0);
    CHECK(parse_speed("0.001") == 0.001);
    CHECK(parse_speed("1e6") == 1e6);
    for (auto const* bad : {"0", "-1", "0.0009", "1e-300", "inf", "nan", "", "fast", "2x", " 1", "MAX"})
        CHECK_THROWS_AS(parse_speed(bad), std::invalid_argument);
}

TEST_CASE("replay::paced_offset: divides by the speed, held between zero and a century") {
    CHECK(paced_offset(10s, 1.0) == 10s);
    CHECK(paced_offset(10s, 10.0) == 1s);
    CHECK(paced_offset(1s, 0.001) == 1000s);
    CHECK(paced_offset(-5s, 1.0) == 0s);
    auto const century = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::years{100});
    // An archive may hold any offset: the slowest speed times the largest
    // offset would be past int64 nanoseconds.
    CHECK(paced_offset(std::chrono::nanoseconds::max(), 0.001) == century);
    CHECK(paced_offset(std::chrono::nanoseconds::max(), std::numeric_limits<double>::min()) == century);
    CHECK(paced_offset(std::chrono::nanoseconds::max(), 1e300) == 0s);
}
