#include "core/clock/virtual_clock.hpp"

#include <doctest/doctest.h>

#include <limits>
#include <stdexcept>

using namespace std::chrono_literals;
using harness::mono_duration;
using harness::mono_time;
using harness::virtual_clock;
using harness::wall_time;

namespace {
// 2026-01-01T00:00:00Z
wall_time const k_new_year{std::chrono::seconds{1767225600}};
}  // namespace

TEST_CASE("clock::virtual_clock: paused, it moves only when advanced") {
    virtual_clock clock{0.0, k_new_year};
    CHECK(clock.now() == mono_time{});
    CHECK(clock.now() == mono_time{});
    CHECK(clock.wall_now() == k_new_year);
    CHECK(harness::unix_millis(clock.wall_now()) == 1767225600000);

    clock.advance(90min);
    CHECK(clock.now() == mono_time{90min});
    CHECK(clock.wall_now() == k_new_year + 90min);

    clock.advance_to(mono_time{2h});
    CHECK(clock.now() == mono_time{2h});
    clock.advance_to(mono_time{1h});  // the past: no effect
    CHECK(clock.now() == mono_time{2h});

    CHECK_THROWS_AS(clock.advance(-1ns), std::invalid_argument);
}

TEST_CASE("clock::virtual_clock: a paused clock has no real delay until a future time") {
    virtual_clock clock{0.0, k_new_year};
    CHECK_FALSE(clock.real_delay_until(mono_time{1s}).has_value());
    CHECK(clock.real_delay_until(mono_time{}) == mono_duration::zero());
    clock.advance(5s);
    CHECK(clock.real_delay_until(mono_time{3s}) == mono_duration::zero());
}

TEST_CASE("clock::virtual_clock: a scaled clock shortens real delays by its scale") {
    virtual_clock clock{0.0, k_new_year};
    clock.set_scale(3600.0);  // an hour per second
    auto const delay = clock.real_delay_until(clock.now() + 1h);
    REQUIRE(delay.has_value());
    CHECK(*delay <= 1s);
    CHECK(*delay > 900ms);  // only the instants between the two calls may pass
    CHECK(clock.scale() == 3600.0);
}

TEST_CASE("clock::virtual_clock: changing the scale never moves time backwards") {
    virtual_clock clock{1000.0, k_new_year};
    mono_time previous = clock.now();
    for (double scale : {0.0, 1.0, 50.0, 0.0, 2.5, 1000.0, 0.0}) {
        clock.set_scale(scale);
        auto const current = clock.now();
        CHECK(current >= previous);
        previous = current;
    }
    // Paused again: frozen.
    CHECK(clock.now() == previous);
}

TEST_CASE("clock::virtual_clock: rejects a negative or non-finite scale") {
    CHECK_THROWS_AS(virtual_clock{-1.0}, std::invalid_argument);
    virtual_clock clock;
    CHECK_THROWS_AS(clock.set_scale(-0.5), std::invalid_argument);
    CHECK_THROWS_AS(clock.set_scale(std::numeric_limits<double>::infinity()), std::invalid_argument);
    CHECK_THROWS_AS(clock.set_scale(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
}

TEST_CASE("clock::virtual_clock: listeners hear jumps and rate changes until removed") {
    virtual_clock clock{0.0, k_new_year};
    int calls = 0;
    auto const id = clock.on_jump([&] { ++calls; });
    clock.advance(1s);
    clock.set_scale(2.0);
    clock.advance_to(clock.now() + 1h);
    CHECK(calls == 3);
    clock.advance_to(mono_time{});  // not a jump: already past
    CHECK(calls == 3);
    clock.remove_listener(id);
    clock.advance(1s);
    CHECK(calls == 3);
}

TEST_CASE("clock::system_clock_source: monotonic and close to the real wall clock") {
    auto& clock = harness::system_clock_instance();
    auto const a = clock.now();
    auto const b = clock.now();
    CHECK(b >= a);
    auto const real = std::chrono::system_clock::now();
    auto const difference = real - clock.wall_now();
    CHECK(std::chrono::abs(difference) < 5s);
    CHECK(clock.real_delay_until(a) == mono_duration::zero());
}

TEST_CASE("clock::virtual_clock: scales outside 0..1e6 are refused") {
    CHECK_THROWS_AS(virtual_clock(-1.0, k_new_year), std::invalid_argument);
    CHECK_THROWS_AS(virtual_clock(2e6, k_new_year), std::invalid_argument);
    virtual_clock clock{0.0, k_new_year};
    CHECK_THROWS_AS(clock.set_scale(std::numeric_limits<double>::infinity()), std::invalid_argument);
    CHECK_THROWS_AS(clock.set_scale(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
    CHECK_NOTHROW(clock.set_scale(virtual_clock::k_max_scale));
}

TEST_CASE("clock::virtual_clock: time stops at the year 2200 instead of overflowing") {
    auto const latest = mono_time{virtual_clock::k_latest_wall - k_new_year};
    virtual_clock clock{0.0, k_new_year};
    clock.advance(latest.time_since_epoch() - 1h);
    clock.advance(2h);
    CHECK(clock.now() == latest);
    CHECK(clock.wall_now() == virtual_clock::k_latest_wall);
    clock.advance(std::chrono::nanoseconds::max());
    CHECK(clock.now() == latest);

    // A fast clock left running reaches the end and stays there; waiting for
    // anything later is waiting for ever, not a busy loop.
    virtual_clock fast{virtual_clock::k_max_scale, k_new_year};
    fast.advance_to(latest - 10s);
    auto previous = fast.now();
    while (fast.now() < latest) {  // 10 s at 1e6: 10 microseconds of real time
        auto const current = fast.now();
        REQUIRE(current >= previous);
        previous = current;
    }
    CHECK(fast.now() == latest);
    CHECK_FALSE(fast.real_delay_until(latest + 1s).has_value());
    CHECK(fast.real_delay_until(latest) == mono_duration::zero());
}

TEST_CASE("clock::virtual_clock: a tiny scale makes far deadlines never, not an overflow") {
    virtual_clock clock{1e-300, k_new_year};
    CHECK_FALSE(clock.real_delay_until(clock.now() + 1h).has_value());
    clock.set_scale(1e-9);
    auto const delay = clock.real_delay_until(clock.now() + 1ms);  // 1e6 s of real time
    REQUIRE(delay.has_value());
    CHECK(*delay > std::chrono::hours{277});
}
