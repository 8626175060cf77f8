#pragma once
// `dialpad-replay serve`: serves one archived session on /events/<anything>
// exactly as it was received. In per-client mode each client gets the whole
// session from its start; in broadcast mode all share one live timeline, as
// with Dialpad. Pacing follows the recorded receive offsets on the injected
// clock: every frame is due at start + offset / speed, scheduled against the
// start, so no drift builds up; --speed max sends as fast as the client
// reads. Frames are encoded once (frame_source) and each client has its own
// bounded queue (replay_connection). A report gives each client's frames,
// bytes, lag behind schedule and a SHA-256 digest of what it was sent.

#include "core/archive/frame_reader.hpp"
#include "core/clock/clock.hpp"
#include "core/net/asio_fwd.hpp"
#include "core/web/http_server.hpp"

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace harness::replayer {

enum class replay_mode { per_client, broadcast };

struct replay_options {
    std::string archive_path;
    archive::session_id session = 0;
    std::optional<double> speed = 1.0;  // nullopt: as fast as the client reads
    std::optional<std::chrono::nanoseconds> max_gap;  // idle gaps longer than this are cut to it
    int loops = 1;
    std::optional<std::string> require_token;  // else any /events/<token> is served
    std::size_t wait_clients = 0;  // no client starts before this many are connected
    bool rebase_time = false;  // shift event times so each client's first event reads "now"
    std::optional<std::string> sign_secret;  // re-sign every event as an HS256 JWT with it
    replay_mode mode = replay_mode::per_client;
    archive::frame_filter filter{};  // which events are served
    // Reproduce the service's closes and drops where they happened. In
    // per-client mode a client that reconnects with the same token goes on
    // from the cut; in broadcast mode it rejoins the live timeline.
    bool replay_closes = false;
    // A client with more than this queued is disconnected as too slow
    // (broadcast; in per-client mode a client only gets what it reads).
    std::size_t client_queue_limit = 16u << 20;
    // The report lists at most this many clients whose connection has ended
    // (the latest ones); its totals count every client. What it keeps of
    // each is its report entry, not its connection.
    std::size_t report_ended_clients = 10'000;
};

class replay_server {
public:
    replay_server(net::any_io_executor executor, web::server_options server_options, replay_options options,
                  clock& time_source);
    ~replay_server();
    replay_server(replay_server const&) = delete;
    replay_server& operator=(replay_server const&) = delete;

    void start();
    std::uint16_t port() const;
    void stop();  // closes every client; call on the executor

    // Per client (frames, bytes, first/last send, lag p50/p99/max, kept up,
    // digest) and totals. Call on the executor.
    nlohmann::json report() const;
    std::size_t clients_finished() const;
    // Runs on the executor each time a client has received the whole session.
    void on_client_finished(std::function<void()> callback);

    struct state;

private:
    std::shared_ptr<state> state_;
};

}  // namespace harness::replayer
