#pragma once
#include "core/clock/clock.hpp"
#include "core/net/asio_fwd.hpp"

#include <memory>

namespace harness {

// Lets a coroutine sleep until a time of a harness::clock. On a virtual clock
// the wait follows the scale and wakes at once when time is advanced by hand,
// so waiting an hour takes as long as the test says. One wait at a time; use
// it (and destroy it) on its executor.
class clock_timer {
public:
    clock_timer(net::any_io_executor executor, clock& source);
    clock_timer(clock_timer const&) = delete;
    clock_timer& operator=(clock_timer const&) = delete;
    ~clock_timer();

    // Completes with true once the clock reaches `deadline`, or false if
    // cancel() was called or the awaiting coroutine was cancelled first.
    net::awaitable<bool> wait_until(mono_time deadline);
    // Same as wait_until(now + delay).
    net::awaitable<bool> wait_for(mono_duration delay);
    // Ends a pending wait with false.
    void cancel();

private:
    struct state;
    clock& clock_;
    std::shared_ptr<state> state_;
    clock::listener_id listener_;
};

}  // namespace harness
