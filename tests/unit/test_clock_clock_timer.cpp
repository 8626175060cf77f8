#include "core/clock/clock_timer.hpp"
#include "core/clock/virtual_clock.hpp"

#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>
#include <optional>

using namespace std::chrono_literals;
using harness::clock_timer;
using harness::virtual_clock;
namespace net = boost::asio;

namespace {

// Records how a spawned wait ended; rethrows nothing silently.
struct wait_result {
    std::optional<bool> reached;
    std::exception_ptr error;
};

void spawn_wait(net::io_context& ioc, clock_timer& timer, harness::mono_duration delay, wait_result& result) {
    net::co_spawn(
        ioc,
        [&timer, delay]() -> net::awaitable<bool> {
            auto const reached = co_await timer.wait_for(delay);
            co_return reached;
        },
        [&result](std::exception_ptr error, bool reached) {
            result.error = error;
            if (!error) result.reached = reached;
        });
}

}  // namespace

TEST_CASE("clock::clock_timer: an hour on a paused clock passes when the test says so") {
    net::io_context ioc;
    virtual_clock clock{0.0};
    clock_timer timer{ioc.get_executor(), clock};
    wait_result result;
    spawn_wait(ioc, timer, 1h, result);

    ioc.poll();
    CHECK_FALSE(result.reached.has_value());

    clock.advance(59min);
    ioc.poll();
    CHECK_FALSE(result.reached.has_value());

    clock.advance(1min);
    ioc.poll();
    REQUIRE(result.reached.has_value());
    CHECK(*result.reached);
    CHECK_FALSE(result.error);
}

TEST_CASE("clock::clock_timer: cancel ends a pending wait with false") {
    net::io_context ioc;
    virtual_clock clock{0.0};
    clock_timer timer{ioc.get_executor(), clock};
    wait_result result;
    spawn_wait(ioc, timer, 10s, result);
    ioc.poll();
    timer.cancel();
    ioc.poll();
    REQUIRE(result.reached.has_value());
    CHECK_FALSE(*result.reached);
}

TEST_CASE("clock::clock_timer: a deadline already reached completes at once") {
    net::io_context ioc;
    virtual_clock clock{0.0};
    clock_timer timer{ioc.get_executor(), clock};
    wait_result result;
    spawn_wait(ioc, timer, 0s, result);
    ioc.poll();
    REQUIRE(result.reached.has_value());
    CHECK(*result.reached);
}

TEST_CASE("clock::clock_timer: a scaled clock runs an hour in a fraction of a second") {
    net::io_context ioc;
    virtual_clock clock{36000.0};  // an hour per 100 ms
    clock_timer timer{ioc.get_executor(), clock};
    wait_result result;
    auto const start = clock.now();
    spawn_wait(ioc, timer, 1h, result);
    ioc.run_for(10s);  // a bound against hanging, not a timing assertion
    REQUIRE(result.reached.has_value());
    CHECK(*result.reached);
    CHECK(clock.now() - start >= 1h);
}

TEST_CASE("clock::clock_timer: speeding a clock up mid-wait shortens the wait") {
    net::io_context ioc;
    virtual_clock clock{1.0};
    clock_timer timer{ioc.get_executor(), clock};
    wait_result result;
    spawn_wait(ioc, timer, 24h, result);  // at real speed this would take a day
    ioc.poll();
    clock.set_scale(24.0 * 3600.0 * 10.0);  // a day per 100 ms
    ioc.run_for(10s);
    REQUIRE(result.reached.has_value());
    CHECK(*result.reached);
}

TEST_CASE("clock::clock_timer: works on the real clock") {
    net::io_context ioc;
    clock_timer timer{ioc.get_executor(), harness::system_clock_instance()};
    wait_result result;
    auto const start = harness::system_clock_instance().now();
    spawn_wait(ioc, timer, 5ms, result);
    ioc.run_for(10s);
    REQUIRE(result.reached.has_value());
    CHECK(*result.reached);
    CHECK(harness::system_clock_instance().now() - start >= 5ms);
}
