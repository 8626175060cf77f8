#include "replayer/replay_connection.hpp"

#include "core/log/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <vector>

namespace harness::replayer {
namespace {

using namespace boost::asio::experimental::awaitable_operators;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// One socket write carries at most this much: big enough that a client at
// --speed max costs a few system calls per thousand frames, small enough
// that a write finishes quickly.
constexpr std::size_t k_write_max_bytes = 1u << 20;
constexpr std::size_t k_write_max_runs = 256;
// How long a client has to answer our close frame before the TCP connection ends.
constexpr auto k_close_wait = std::chrono::seconds{5};

}  // namespace

replay_connection::replay_connection(net::any_io_executor executor, web::ws_connection ws, clock& time_source)
    : ws_{std::move(ws)}, time_{time_source}, wake_{executor}, room_{executor} {
    ws_.enter_encoded_mode();
}

net::awaitable<void> replay_connection::run() { co_await (reader() && writer()); }

bool replay_connection::push(outgoing_run run) {
    if (ended()) return false;
    queued_bytes_ += run.wire.size();
    queue_.push_back(std::move(run));
    if (writer_idle_) wake_.cancel();
    return true;
}

net::awaitable<void> replay_connection::wait_for_room(std::size_t below) {
    while (queued_bytes_ >= below && !ended()) {
        room_mark_ = below;
        room_.expires_at(net::steady_timer::time_point::max());
        auto [ec] = co_await room_.async_wait(use_tuple);
        (void)ec;
    }
}

void replay_connection::set_end_reason(std::string reason) {
    if (end_reason_.empty()) end_reason_ = std::move(reason);
}

void replay_connection::ended_now() {
    room_.cancel();
    if (on_end) on_end();
}

void replay_connection::finish(int code, std::string reason, bool delivered_all) {
    if (ended()) return;
    closing_ = true;
    delivers_all_ = delivered_all;
    set_end_reason(delivered_all ? "finished" : reason);
    close_frame_ = web::server_frame(web::ws_opcode::close, web::close_payload(code, reason));
    if (writer_idle_) wake_.cancel();
    ended_now();
}

void replay_connection::drop_slow(std::string reason) {
    if (ended()) return;
    slow_ = true;
    HLOG(warn, "replay.slow_client").field("remote", remote()).field("reason", reason);
    set_end_reason("too slow: " + reason);
    queue_.clear();
    queued_bytes_ = 0;
    if (writing_) {
        // Stuck in a write: it could not read a close frame either.
        gone_ = true;
        ws_.abort();
        ended_now();
        return;
    }
    finish(1008, "client too slow: " + reason, false);
}

net::awaitable<void> replay_connection::reader() {
    for (;;) {
        auto frame = co_await ws_.read_client_frame();
        if (!frame) break;
        if (frame->opcode == web::ws_opcode::ping) {
            control_.push_back(web::server_frame(web::ws_opcode::pong, frame->payload));
        } else if (frame->opcode == web::ws_opcode::close) {
            if (!close_sent_ && !peer_closed_) {
                // Echo its code (RFC 6455 §5.5.1); no frame follows.
                auto const code = ws_.peer_close().code.value_or(1005);
                auto echo = code == 1005 ? std::string{} : web::close_payload(code, "");
                control_.push_back(web::server_frame(web::ws_opcode::close, echo));
                set_end_reason("client closed (" + std::to_string(code) + ")");
                peer_closed_ = true;
                queue_.clear();
                queued_bytes_ = 0;
                ended_now();
            }
            break;
        }
        // Dialpad ignores what clients send; so does the replay.
        if (writer_idle_) wake_.cancel();
    }
    if (!peer_closed_) {
        set_end_reason("client gone");
        gone_ = true;
        ended_now();
    }
    wake_.cancel();
}

net::awaitable<void> replay_connection::writer() {
    std::vector<std::string_view> views;
    std::vector<outgoing_run> written;
    for (;;) {
        while (queue_.empty() && control_.empty() && !(closing_ && !close_sent_) && !gone_ && !peer_closed_) {
            writer_idle_ = true;
            wake_.expires_at(net::steady_timer::time_point::max());
            auto [ec] = co_await wake_.async_wait(use_tuple);
            (void)ec;
            writer_idle_ = false;
        }
        if (gone_) break;
        views.clear();
        written.clear();
        std::size_t control_count = control_.size();
        for (auto const& c : control_) views.emplace_back(c);
        std::size_t bytes = 0;
        bool last = peer_closed_;  // after the close reply, nothing more
        while (!last && !queue_.empty() && written.size() < k_write_max_runs && bytes < k_write_max_bytes) {
            written.push_back(std::move(queue_.front()));
            queue_.pop_front();
            views.push_back(written.back().wire);
            bytes += written.back().wire.size();
            last = written.back().after != outgoing_run::then::go_on;
        }
        queued_bytes_ -= bytes;
        bool const sends_close = !last && queue_.empty() && closing_ && !close_sent_;
        if (sends_close) views.emplace_back(*close_frame_);
        // Before the write: a reply read while it is in flight is the answer to it.
        if (sends_close || (last && !peer_closed_ && written.back().after == outgoing_run::then::close)) close_sent_ = true;
        // Taken as the frames are handed to the socket, not when the write
        // completes (by then the client may have read them).
        auto const started = time_.now();
        writing_ = true;
        bool failed = false;
        try {
            co_await ws_.write_encoded(views);
        } catch (std::exception const&) {
            failed = true;
        }
        writing_ = false;
        control_.erase(control_.begin(), control_.begin() + static_cast<std::ptrdiff_t>(std::min(control_count, control_.size())));
        if (failed || gone_) {
            set_end_reason("client gone");
            gone_ = true;
            ended_now();
            break;
        }
        for (auto const& run : written) {
            for (auto const due : run.dues) lags_.add(started - due);
            messages_ += run.messages;
            bytes_ += run.wire.size();
            digest_.add_hashes(run.hashes);
            if (run.messages > 0) {
                // The wall clock is read once, at the first send; later sends
                // are placed from it on the monotonic clock the lags use, so
                // the report's span and its lags agree (no clock step or
                // preemption between two readings can set them apart).
                if (!first_send_ns_) {
                    first_send_ns_ = time_.wall_now().time_since_epoch().count();
                    first_send_mono_ = started;
                }
                last_send_ns_ = *first_send_ns_ + (started - first_send_mono_).count();
            }
        }
        if (queued_bytes_ < room_mark_) room_.cancel();
        if (on_room) on_room();
        if (peer_closed_) break;  // the close reply went out
        if (!written.empty() && written.back().after == outgoing_run::then::cut) {
            set_end_reason("replayed drop");
            break;
        }
        if (!written.empty() && written.back().after == outgoing_run::then::close) {
            set_end_reason("replayed close");
            closing_ = true;
            ended_now();
        }
        if (close_sent_) {
            // Give the client a moment to answer before the TCP connection ends.
            if (!gone_) {
                wake_.expires_after(k_close_wait);
                auto [ec] = co_await wake_.async_wait(use_tuple);
                (void)ec;
            }
            if (delivers_all_ && sends_close) finished_ = true;
            break;
        }
    }
    gone_ = true;
    ws_.abort();
    if (finished_ && on_finished) on_finished();
}

}  // namespace harness::replayer
