#pragma once
// The time source every component reads instead of std::chrono clocks
// directly, so token expiry, the hourly cut and replay pacing can run on a
// virtual clock in tests (an hour in milliseconds, no sleeps).

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace harness {

// Monotonic time: nanoseconds since the clock's own epoch. Only differences
// between two readings of the same clock mean anything.
using mono_duration = std::chrono::nanoseconds;
struct mono_clock_tag {};
using mono_time = std::chrono::time_point<mono_clock_tag, mono_duration>;

// Wall time: the Unix epoch, as Dialpad's `date_*` fields and JWT claims use.
using wall_time = std::chrono::time_point<std::chrono::system_clock, std::chrono::nanoseconds>;

// Milliseconds since the Unix epoch, the unit of every timestamp in events.
std::int64_t unix_millis(wall_time t);

// Thread-safe. Implementations: system_clock_source (real time) and
// virtual_clock (manual advance and a scale factor).
class clock {
public:
    using listener = std::function<void()>;
    using listener_id = std::uint64_t;

    virtual ~clock() = default;

    // Monotonic now; never goes backwards.
    virtual mono_time now() const = 0;
    // Wall-clock now.
    virtual wall_time wall_now() const = 0;
    // Real time to wait until now() reaches `deadline` at the current rate:
    // zero if already reached, nullopt if the clock is paused (it then moves
    // only when advanced by hand, and listeners are told).
    virtual std::optional<mono_duration> real_delay_until(mono_time deadline) const = 0;

    // Registers a callback run (on the thread that changed the clock, outside
    // any clock lock) whenever time jumps or the rate changes, so waiters
    // recompute their deadlines. The real clock never calls it.
    listener_id on_jump(listener callback);
    void remove_listener(listener_id id);

protected:
    // Calls every registered listener; for implementations after a jump.
    void notify_jump();

private:
    mutable std::mutex listeners_mutex_;
    std::unordered_map<listener_id, listener> listeners_;
    listener_id next_listener_id_ = 1;
};

// Real time: std::chrono::steady_clock and system_clock.
class system_clock_source final : public clock {
public:
    mono_time now() const override;
    wall_time wall_now() const override;
    std::optional<mono_duration> real_delay_until(mono_time deadline) const override;
};

// The process-wide real clock, for code that is handed no other.
clock& system_clock_instance();

}  // namespace harness
