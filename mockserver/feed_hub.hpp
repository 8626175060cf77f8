#pragma once
// The event websocket, `/events/<token>`: checks each connection's token,
// keeps the live connections with their scope, routes every injected event
// to the connections whose subscriptions match, encodes it per websocket
// (plain JSON, or an HS256 JWT when the websocket has a secret), and cuts
// each connection an hour (configurable, on the injected clock) after it
// opened.
//
// Single-threaded: everything runs on the mock's executor.

#include "core/clock/clock.hpp"
#include "core/net/asio_fwd.hpp"
#include "core/web/http_server.hpp"
#include "mockserver/api_keys.hpp"
#include "mockserver/event_router.hpp"
#include "mockserver/fault_plan.hpp"
#include "mockserver/resource_store.hpp"
#include "mockserver/token_service.hpp"

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace harness::mock {

// What happens to a connection whose token is invalid, expired, foreign or
// missing. Dialpad's demo says such a connection "is immediately closed".
enum class bad_token_mode {
    reject,  // refuse the upgrade: HTTP 401 with a JSON error body
    close,   // accept, then close with 1008 (policy violation)
    legacy,  // the old service's in-band dialogue: prompt, the client sends its API key
};

// The old service's exact texts.
inline constexpr std::string_view k_legacy_prompt =
    "You are connected without a valid token, please send your api key for verification";
inline constexpr std::string_view k_legacy_refusal =
    "The api key is not valid or does not have access to this subscription.";
// How the hourly cut looks to the client.
enum class hour_cut_style {
    abrupt,       // TCP close, no close frame (what a Cloud Run cut is believed to be)
    close_frame,  // close frame 1001 "going away"
};
// Who receives an event when several connections share a websocket.
enum class fanout_mode { all, newest };

struct feed_options {
    bad_token_mode bad_token = bad_token_mode::close;
    std::chrono::seconds connection_ttl{3600};
    hour_cut_style hour_cut = hour_cut_style::abrupt;
    fanout_mode fanout = fanout_mode::all;
    std::size_t queue_limit = 4096;  // frames waiting for one slow consumer before it is closed
    // A connection with nothing to send is pinged after this long (real
    // time), and ended if the client has sent nothing, not even the pong, a
    // period later: a client that vanished without a close is noticed.
    std::chrono::milliseconds keepalive{150'000};
};

// One connection an event was queued for.
struct delivery {
    std::uint64_t connection = 0;
    std::int64_t websocket = 0;
    std::vector<std::int64_t> subscriptions;  // the matching ones
};

class feed_hub {
public:
    feed_hub(net::any_io_executor executor, resource_store& store, token_service const& tokens,
             api_keys const& keys, clock& time_source, feed_options options);
    ~feed_hub();

    static bool owns(std::string_view path);  // /events/...
    // The upgrade handler for /events/<token>.
    web::upgrade_decision upgrade(web::request const& request);

    // Routes an event of `family` (its exact JSON text) and queues it for
    // every matching connection. Returns who gets it.
    std::vector<delivery> deliver(subscription_kind family, std::string const& event_json);
    // The same with the event's routing facts already read (facts.family is its type).
    std::vector<delivery> deliver(event_facts const& facts, std::string event_json);

    // Delivers `events` over time, each at its offset from now on the
    // injected clock (a virtual clock delivers as it is advanced).
    void play(std::vector<std::pair<subscription_kind, std::string>> events, std::vector<mono_duration> offsets);

    // Faults on upcoming deliveries and upgrades (POST/DELETE /__admin/faults).
    void set_faults(fault_plan plan);
    void clear_faults();
    nlohmann::json faults_json() const;

    // Live connections, for GET /__admin/connections.
    nlohmann::json connections_json() const;
    // Closes connection `id` with a close frame, or abruptly. False if unknown.
    bool close_connection(std::uint64_t id, int code, std::string reason, bool abrupt);
    // What each connection was sent, in order (GET /__admin/deliveries).
    nlohmann::json deliveries_json() const;
    void clear_deliveries();
    // Closes every connection (server shutdown, reset).
    void close_all();

    // Called each time a connection with a valid token joins the feed.
    void on_connection_opened(std::function<void()> callback);
    // True while some connection has half its queue limit waiting: a producer
    // that could outrun the consumers (a replay at full speed) holds back
    // rather than have them closed as too slow.
    bool congested() const;
    // Calls `callback` once nothing is congested (at once if nothing is).
    void when_uncongested(std::function<void()> callback);

    struct state;  // the implementation's; opaque here

private:
    std::shared_ptr<state> state_;
};

}  // namespace harness::mock
