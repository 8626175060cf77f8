#pragma once
// Dialpad's documented rate limits, per company, on the injected clock:
// 20 requests per second overall; creating websockets 250 per minute,
// webhooks 100 per minute; other websocket, webhook and subscription
// operations 1200 per minute. Sliding windows.

#include "core/clock/clock.hpp"

#include <deque>
#include <map>
#include <optional>
#include <string>

namespace harness::mock {

enum class rate_bucket { websocket_create, webhook_create, other };

class rate_limiter {
public:
    explicit rate_limiter(clock const& time_source);
    // Counts one request; when a limit is exceeded, returns how long to wait
    // (for Retry-After) and does not count it.
    std::optional<std::chrono::seconds> admit(std::string const& company, rate_bucket bucket);
    void clear();

private:
    struct window {
        std::deque<mono_time> hits;
    };
    // True if the window has room (after dropping old hits); sets `wait`.
    bool has_room(window& w, mono_duration span, std::size_t limit, mono_time now, std::chrono::seconds& wait) const;

    clock const& clock_;
    std::map<std::string, window> per_second_;
    std::map<std::pair<std::string, rate_bucket>, window> per_minute_;
};

}  // namespace harness::mock
