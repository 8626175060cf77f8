#include "core/clock/clock.hpp"

#include <vector>

namespace harness {

std::int64_t unix_millis(wall_time t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

clock::listener_id clock::on_jump(listener callback) {
    std::lock_guard lock{listeners_mutex_};
    auto const id = next_listener_id_++;
    listeners_.emplace(id, std::move(callback));
    return id;
}

void clock::remove_listener(listener_id id) {
    std::lock_guard lock{listeners_mutex_};
    listeners_.erase(id);
}

void clock::notify_jump() {
    // Copy first: a listener may remove itself (or others) while it runs.
    std::vector<listener> to_call;
    {
        std::lock_guard lock{listeners_mutex_};
        to_call.reserve(listeners_.size());
        for (auto const& [id, callback] : listeners_) to_call.push_back(callback);
    }
    for (auto const& callback : to_call) callback();
}

mono_time system_clock_source::now() const {
    auto const since = std::chrono::steady_clock::now().time_since_epoch();
    return mono_time{std::chrono::duration_cast<mono_duration>(since)};
}

wall_time system_clock_source::wall_now() const {
    return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
}

std::optional<mono_duration> system_clock_source::real_delay_until(mono_time deadline) const {
    auto const left = deadline - now();
    return left > mono_duration::zero() ? left : mono_duration::zero();
}

clock& system_clock_instance() {
    static system_clock_source instance;
    return instance;
}

}  // namespace harness
