#pragma once
// The recording engine behind dialpad-record. One session in the archive;
// connections follow one another:
//
//   set up (create or find the websocket) -> GET a fresh websocket_url ->
//   connect -> read every frame into the archive -> ahead of the token's
//   expiry and of the hourly cut, GET a fresh URL and open the next
//   connection -> keep the old one for an overlap (frames seen on both are
//   stored once) -> close it.
//
// An unexpected drop opens a gap (archived with its bounds) and reconnects
// with capped exponential backoff and jitter. Service time (token lifetime,
// the cut) runs on the injected clock; retry waits on real time.

#include "core/clock/clock.hpp"
#include "core/net/asio_fwd.hpp"
#include "core/web/http_client.hpp"
#include "recorder/subscription_spec.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace harness::redact {
class redactor;
}

namespace harness::recorder {

enum class source_mode { create, websocket_id, url };

struct recorder_config {
    std::string archive_path;
    std::string session_name;
    std::string api_base = "https://sandbox.dialpad.com";
    std::string api_key;  // memory only: never logged, stored or put in argv
    source_mode mode = source_mode::create;
    std::int64_t websocket_id = 0;         // source_mode::websocket_id
    std::string url;                       // source_mode::url: wss://…/events/<token>
    std::optional<std::string> secret;     // signing secret (create: set it; else: verify with it)
    std::vector<subscription_spec> subscriptions;  // source_mode::create
    std::optional<std::chrono::nanoseconds> duration;  // on the injected clock
    std::optional<std::uint64_t> max_events;
    std::chrono::milliseconds durability_window{100};
    web::client_options tls;
    std::shared_ptr<redact::redactor const> redactor;  // --redact

    // How the service behaves (dialpad-api.md): tokens live an hour from
    // issue (read from the token when it says), connections are cut an hour
    // after they open.
    std::chrono::nanoseconds connection_ttl = std::chrono::hours{1};
    std::chrono::nanoseconds token_lifetime = std::chrono::hours{1};
    // The next connection opens this long before the earlier of the two.
    std::chrono::nanoseconds refresh_lead = std::chrono::minutes{2};
    // The old connection is closed this long after the next one opened.
    std::chrono::nanoseconds overlap = std::chrono::seconds{20};
    // Identical frames on two connections this close together (real time) are one.
    std::chrono::milliseconds dedup_window{5000};
    // Reconnect waits (real time): first, cap, and attempts during set-up.
    std::chrono::milliseconds backoff_first{250};
    std::chrono::milliseconds backoff_cap{30'000};
    int setup_attempts = 5;
    // Frames received and not yet committed, at most: past it the recorder
    // stops reading (TCP holds the rest) until the disk catches up.
    std::uint64_t max_backlog_bytes = 64u << 20;
    std::chrono::seconds status_interval{10};
    bool status_on_terminal = false;  // a live status line on stderr instead of log lines
};

struct recorder_stats {
    std::uint64_t frames = 0;        // stored
    std::uint64_t copies_dropped = 0;  // overlap copies not stored twice
    std::uint64_t bytes = 0;
    std::uint64_t connections = 0;
    std::uint64_t connections_ended = 0;  // read to their end and archived with how they ended
    std::uint64_t gaps = 0;
    std::uint64_t refreshes = 0;     // GETs of a fresh URL
    std::uint64_t bad_signatures = 0;
    std::uint64_t disk_waits = 0;    // times reading paused for the archive to catch up
    // Event frames stored per family: call, sms, contact, agent_status, changelog, unknown.
    std::array<std::uint64_t, 6> per_family{};
};

class recorder {
public:
    recorder(net::any_io_executor executor, recorder_config config, clock& time_source);
    ~recorder();
    recorder(recorder const&) = delete;
    recorder& operator=(recorder const&) = delete;

    // Records until the duration or event count is reached, stop() is
    // called, or a permanent failure; returns the exit code (0 or 1). The
    // archive is closed cleanly in every case.
    net::awaitable<int> run();
    // Ends the recording (SIGINT/SIGTERM); call on the executor.
    void stop();

    recorder_stats stats() const;  // safe from any thread
    // Runs once the recording is live (first connection open); for tests.
    void on_live(std::function<void()> callback);

    struct state;  // the implementation's

private:
    std::shared_ptr<state> state_;
};

// wss://host[:port]/events/<token> with the token replaced: what may be stored.
std::string redact_ws_url(std::string const& url);

}  // namespace harness::recorder
