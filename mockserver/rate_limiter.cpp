#include "mockserver/rate_limiter.hpp"

namespace harness::mock {

rate_limiter::rate_limiter(clock const& time_source) : clock_{time_source} {}

bool rate_limiter::has_room(window& w, mono_duration span, std::size_t limit, mono_time now,
                            std::chrono::seconds& wait) const {
    while (!w.hits.empty() && now - w.hits.front() >= span) w.hits.pop_front();
    if (w.hits.size() < limit) return true;
    auto const left = span - (now - w.hits.front());
    wait = std::max(std::chrono::seconds{1}, std::chrono::ceil<std::chrono::seconds>(left));
    return false;
}

std::optional<std::chrono::seconds> rate_limiter::admit(std::string const& company, rate_bucket bucket) {
    auto const now = clock_.now();
    std::size_t const minute_limit =
        bucket == rate_bucket::websocket_create ? 250 : bucket == rate_bucket::webhook_create ? 100 : 1200;
    auto& second = per_second_[company];
    auto& minute = per_minute_[{company, bucket}];
    std::chrono::seconds wait{0};
    if (!has_room(second, std::chrono::seconds{1}, 20, now, wait)) return wait;
    if (!has_room(minute, std::chrono::minutes{1}, minute_limit, now, wait)) return wait;
    second.hits.push_back(now);
    minute.hits.push_back(now);
    return std::nullopt;
}

void rate_limiter::clear() {
    per_second_.clear();
    per_minute_.clear();
}

}  // namespace harness::mock
