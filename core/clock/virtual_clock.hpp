#pragma once
#include "core/clock/clock.hpp"

#include <mutex>

namespace harness {

// A clock tests and the mock's admin API steer. It runs at `scale` times real
// speed (0 = paused: it moves only through advance()), and advance() jumps it
// forward by hand. Wall time is `wall_start` plus the virtual time elapsed.
//
// Internally it is anchored: virtual = anchor_virtual + (real - anchor_real)
// * scale; every change of rate or jump re-anchors, so changing the scale
// never makes time jump or go backwards.
//
// Time stops at the year 2200 (k_latest_wall): times are int64 nanoseconds,
// which end in 2262, and a fast clock left running would otherwise reach
// them (at scale 1e6, in under two hours). Stopping there leaves a lifetime
// of room for deadlines computed from now().
class virtual_clock final : public clock {
public:
    static constexpr double k_max_scale = 1e6;
    static constexpr wall_time k_latest_wall{std::chrono::sys_days{std::chrono::year{2200} / 1 / 1}};

    // Starts at mono 0 and at `wall_start` (default: the real wall time now).
    explicit virtual_clock(double scale = 0.0, std::optional<wall_time> wall_start = std::nullopt);

    mono_time now() const override;
    wall_time wall_now() const override;
    std::optional<mono_duration> real_delay_until(mono_time deadline) const override;

    // Moves time forward by `delta` (negative values are rejected:
    // monotonic time never goes back). Wakes waiters.
    void advance(mono_duration delta);
    // Moves time forward to `target` if it is later than now.
    void advance_to(mono_time target);
    // Changes the rate; 0 pauses, 1 is real speed, 60 runs an hour a minute.
    // Values outside [0, k_max_scale] are rejected with std::invalid_argument.
    void set_scale(double scale);
    double scale() const;

private:
    using real_clock = std::chrono::steady_clock;
    mono_time now_locked(real_clock::time_point real_now) const;

    mutable std::mutex mutex_;
    real_clock::time_point anchor_real_;
    mono_time anchor_virtual_{};
    double scale_;
    wall_time wall_start_;
    mono_time latest_;  // k_latest_wall on this clock
};

}  // namespace harness
