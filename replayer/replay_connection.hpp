#pragma once
// One client of the replay server: a bounded queue of frames encoded ahead
// of time, a writer that sends as many of them as are waiting in one socket
// write, and a reader that answers the client's pings and closes. The
// replayer's producers (a per-client timeline or the shared broadcast one)
// only queue runs of frames; this class turns them into bytes on the wire
// and keeps the client's figures for the report.

#include "core/clock/clock.hpp"
#include "core/net/asio_fwd.hpp"
#include "core/web/ws_connection.hpp"
#include "replayer/lag_histogram.hpp"
#include "replayer/sequence_digest.hpp"

#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace harness::replayer {

// Consecutive frames for one client, and what the report needs about them.
struct outgoing_run {
    std::shared_ptr<void const> owner;  // keeps `wire` and `hashes` alive
    std::string_view wire;              // encoded websocket frames
    std::string_view hashes;            // the digest's hash of each frame
    std::uint64_t messages = 0;
    std::vector<mono_time> dues;  // each message's, when paced (none at --speed max)
    enum class then { go_on, close, cut } after = then::go_on;  // a replayed close or drop ends the run
};

class replay_connection {
public:
    replay_connection(net::any_io_executor executor, web::ws_connection ws, clock& time_source);

    // Reads and writes until the connection has ended.
    net::awaitable<void> run();

    // Queues a run; false once the connection takes no more.
    bool push(outgoing_run run);
    std::size_t queued_bytes() const { return queued_bytes_; }
    // No more frames will be taken (closing, closed, or gone).
    bool ended() const { return gone_ || closing_ || peer_closed_; }
    // Waits until fewer than `below` bytes are queued or the connection ended.
    net::awaitable<void> wait_for_room(std::size_t below);

    // After what is queued, a close frame with this code and reason.
    void finish(int code, std::string reason, bool delivered_all);
    // A client too far behind: closed with 1008 and `reason`, at once if it
    // is stuck in a write.
    void drop_slow(std::string reason);

    // Each runs on the executor: the queue fell below the room mark; the
    // connection ended (for producers waiting on a clock); the session was
    // delivered and the close handshake is over.
    std::function<void()> on_room, on_end, on_finished;

    // For the report.
    std::uint64_t messages() const { return messages_; }
    std::uint64_t bytes() const { return bytes_; }
    std::optional<std::int64_t> first_send_ns() const { return first_send_ns_; }
    std::optional<std::int64_t> last_send_ns() const { return last_send_ns_; }
    lag_histogram const& lags() const { return lags_; }
    std::string digest() const { return digest_.hex(); }
    bool finished() const { return finished_; }
    bool slow() const { return slow_; }
    std::string const& end_reason() const { return end_reason_; }
    std::string const& remote() const { return ws_.remote_address(); }

private:
    net::awaitable<void> reader();
    net::awaitable<void> writer();
    void set_end_reason(std::string reason);
    void ended_now();

    web::ws_connection ws_;
    clock& time_;
    net::steady_timer wake_;   // the writer waits here for work
    net::steady_timer room_;   // producers wait here for room
    std::deque<outgoing_run> queue_;
    std::deque<std::string> control_;  // pongs and the close reply, sent first
    std::size_t queued_bytes_ = 0;
    std::size_t room_mark_ = 0;
    bool writing_ = false, writer_idle_ = false;
    bool gone_ = false;         // the transport ended
    bool peer_closed_ = false;  // the client sent a close
    bool closing_ = false;      // finish() was called
    bool close_sent_ = false;
    bool finished_ = false, delivers_all_ = false, slow_ = false;
    std::optional<std::string> close_frame_;  // finish()'s
    std::string end_reason_;
    std::uint64_t messages_ = 0, bytes_ = 0;
    std::optional<std::int64_t> first_send_ns_, last_send_ns_;
    mono_time first_send_mono_{};  // when first_send_ns_ was taken
    lag_histogram lags_;
    sequence_digest digest_;
};

}  // namespace harness::replayer
