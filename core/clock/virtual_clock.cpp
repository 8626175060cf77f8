#include "core/clock/virtual_clock.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace harness {
namespace {

void check_scale(double scale) {
    if (!(scale >= 0.0 && scale <= virtual_clock::k_max_scale))
        throw std::invalid_argument{"clock scale must be a number from 0 to 1e6"};
}

}  // namespace

virtual_clock::virtual_clock(double scale, std::optional<wall_time> wall_start)
    : anchor_real_{real_clock::now()},
      scale_{scale},
      wall_start_{wall_start ? *wall_start : system_clock_instance().wall_now()},
      latest_{std::max(mono_duration::zero(), std::chrono::duration_cast<mono_duration>(k_latest_wall - wall_start_))} {
    check_scale(scale);
}

mono_time virtual_clock::now_locked(real_clock::time_point real_now) const {
    if (scale_ == 0.0) return anchor_virtual_;
    auto const real_elapsed = std::chrono::duration<double, std::nano>(real_now - anchor_real_);
    // Compared in double before converting: the product may be past int64.
    auto const room = std::chrono::duration<double, std::nano>(latest_ - anchor_virtual_);
    auto const virtual_elapsed = real_elapsed * scale_;
    if (!(virtual_elapsed < room)) return latest_;
    return anchor_virtual_ + std::chrono::duration_cast<mono_duration>(virtual_elapsed);
}

mono_time virtual_clock::now() const {
    std::lock_guard lock{mutex_};
    return now_locked(real_clock::now());
}

wall_time virtual_clock::wall_now() const {
    return wall_start_ + now().time_since_epoch();
}

std::optional<mono_duration> virtual_clock::real_delay_until(mono_time deadline) const {
    std::lock_guard lock{mutex_};
    auto const current = now_locked(real_clock::now());
    if (deadline <= current) return mono_duration::zero();
    // Paused, or stopped at the end of time: only a jump can bring it.
    if (scale_ == 0.0 || current == latest_) return std::nullopt;
    auto const real_left = std::chrono::duration<double, std::nano>(deadline - current) / scale_;
    // Past a century of real time (a tiny scale) is never, as far as anyone waiting can tell.
    if (!(real_left < std::chrono::duration<double, std::nano>(std::chrono::years{100}))) return std::nullopt;
    // Round up so a waiter never wakes a hair before its deadline and spins.
    return std::chrono::ceil<mono_duration>(real_left);
}

void virtual_clock::advance(mono_duration delta) {
    if (delta < mono_duration::zero())
        throw std::invalid_argument{"a clock cannot be advanced by a negative duration"};
    {
        std::lock_guard lock{mutex_};
        auto const real_now = real_clock::now();
        auto const current = now_locked(real_now);
        anchor_virtual_ = delta < latest_ - current ? current + delta : latest_;
        anchor_real_ = real_now;
    }
    notify_jump();
}

void virtual_clock::advance_to(mono_time target) {
    {
        std::lock_guard lock{mutex_};
        auto const real_now = real_clock::now();
        auto const current = now_locked(real_now);
        if (target <= current) return;
        anchor_virtual_ = std::min(target, latest_);
        anchor_real_ = real_now;
    }
    notify_jump();
}

void virtual_clock::set_scale(double scale) {
    check_scale(scale);
    {
        std::lock_guard lock{mutex_};
        auto const real_now = real_clock::now();
        anchor_virtual_ = now_locked(real_now);
        anchor_real_ = real_now;
        scale_ = scale;
    }
    notify_jump();
}

double virtual_clock::scale() const {
    std::lock_guard lock{mutex_};
    return scale_;
}

}  // namespace harness
