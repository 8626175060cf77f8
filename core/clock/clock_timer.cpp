#include "core/clock/clock_timer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace harness {

struct clock_timer::state {
    explicit state(net::any_io_executor executor) : timer{std::move(executor)} {}
    net::steady_timer timer;
    bool cancelled = false;
};

clock_timer::clock_timer(net::any_io_executor executor, clock& source)
    : clock_(source), state_{std::make_shared<state>(executor)} {
    // A jump of the clock arrives on whatever thread moved it; hop to the
    // timer's executor and wake the wait so it recomputes its real delay.
    std::weak_ptr<state> weak = state_;
    listener_ = clock_.on_jump([weak, executor] {
        net::post(executor, [weak] {
            if (auto s = weak.lock()) s->timer.cancel();
        });
    });
}

clock_timer::~clock_timer() { clock_.remove_listener(listener_); }

net::awaitable<bool> clock_timer::wait_until(mono_time deadline) {
    auto s = state_;  // the coroutine keeps the state alive on its own
    s->cancelled = false;
    for (;;) {
        auto const cancel_state = co_await net::this_coro::cancellation_state;
        if (s->cancelled || cancel_state.cancelled() != net::cancellation_type::none) co_return false;
        auto const delay = clock_.real_delay_until(deadline);
        if (delay && *delay == mono_duration::zero()) co_return true;
        if (delay)
            s->timer.expires_after(*delay);
        else
            s->timer.expires_at(net::steady_timer::time_point::max());  // paused: wait for a jump
        // Expiry, a clock jump and cancel() all land here; the loop sorts
        // them out by asking the clock again.
        auto [ec] = co_await s->timer.async_wait(net::as_tuple(net::use_awaitable));
        (void)ec;
    }
}

net::awaitable<bool> clock_timer::wait_for(mono_duration delay) {
    auto const deadline = clock_.now() + delay;
    auto const reached = co_await wait_until(deadline);
    co_return reached;
}

void clock_timer::cancel() {
    state_->cancelled = true;
    state_->timer.cancel();
}

}  // namespace harness
