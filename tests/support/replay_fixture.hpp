#pragma once
// What the replay server's integration tests share: sessions built frame by
// frame in an archive, a replay_server running on its own io_context thread,
// and a bare Beast websocket client for what ws_test_client does not do
// (send pings and closes, or connect and then never read).

#include "core/archive/archive.hpp"
#include "core/clock/clock.hpp"
#include "core/web/ws_connection.hpp"
#include "replayer/replay_server.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace harness::test {

// One session in an archive file, built by hand: connections with the way
// they ended, and frames (events indexed as the recorder indexes them, so
// filters see them). Offsets are from the session's start.
class session_builder {
public:
    explicit session_builder(std::string const& path, std::string const& name = "replay");

    archive::session_id session() const { return session_; }
    archive::connection_id open_connection(std::int64_t opened_offset_ns = 0);
    // `code` absent: the connection ended abruptly, with no close frame.
    void close_connection(archive::connection_id connection, std::int64_t closed_offset_ns,
                          archive::end_reason ended_by, std::optional<int> code, std::string const& reason = {});

    struct timed_text {
        std::int64_t offset_ns = 0;
        std::string text;
    };
    // Event frames, in one transaction.
    void add_events(archive::connection_id connection, std::vector<timed_text> const& events);
    void add_event(archive::connection_id connection, std::int64_t offset_ns, std::string const& text);

private:
    archive::archive store_;
    archive::session_id session_ = 0;
    std::map<archive::connection_id, archive::connection_info> connections_;
};

// Options that serve session `session` of `path`, otherwise the defaults.
replayer::replay_options replay_options_for(std::string const& path, archive::session_id session = 1);

// A replay_server on 127.0.0.1, port 0, run by its own thread.
class running_replay {
public:
    running_replay(replayer::replay_options options, harness::clock& time);
    running_replay(running_replay const&) = delete;
    running_replay& operator=(running_replay const&) = delete;
    ~running_replay();

    std::uint16_t port() const;
    std::string url(std::string const& token = "any-token") const;
    nlohmann::json report();
    // Asks for the report until `done` holds or `limit` passes, and returns
    // the last one. A bounded poll: each try is a round trip through the
    // server's io_context, never a sleep.
    nlohmann::json wait_for_report(std::function<bool(nlohmann::json const&)> const& done,
                                   std::chrono::milliseconds limit = std::chrono::seconds{20});
    // Waits until `count` clients received the whole session and finished
    // the close handshake (the server's on_client_finished); false after `limit`.
    bool wait_finished(std::size_t count, std::chrono::milliseconds limit = std::chrono::seconds{20});

private:
    std::unique_ptr<boost::asio::io_context> ioc_;
    replayer::replay_server server_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::size_t finished_ = 0;
    std::thread thread_;
};

// A websocket client on Beast directly, driven from the calling thread:
// each call runs the client's own io_context until its operation completes
// or the limit passes, so nothing can hang the test.
class beast_ws_client {
public:
    // Connects to ws://127.0.0.1:<port><path>. A `receive_buffer` above 0
    // sets SO_RCVBUF before connecting: a client that never reads then
    // stalls the server after a few kilobytes.
    beast_ws_client(std::uint16_t port, std::string const& path, int receive_buffer = 0);
    beast_ws_client(beast_ws_client const&) = delete;
    beast_ws_client& operator=(beast_ws_client const&) = delete;
    ~beast_ws_client();

    // The next message, or nullopt once the connection ended (see ended()).
    std::optional<std::string> read(std::chrono::milliseconds limit = std::chrono::seconds{10});
    // Sends a ping, then reads (keeping any message for read()) until a pong
    // with the same payload comes back; false if none did within `limit`.
    bool ping_and_wait_pong(std::string const& payload, std::chrono::milliseconds limit = std::chrono::seconds{10});
    // Sends a close frame and waits for the server's; returns what it said.
    web::close_status close(int code, std::chrono::milliseconds limit = std::chrono::seconds{10});
    bool ended() const { return ended_; }
    web::close_status const& end() const { return end_; }

private:
    struct impl;
    bool run_until(std::function<bool()> const& done, std::chrono::milliseconds limit);
    void start_read();

    std::unique_ptr<impl> impl_;
    std::deque<std::string> messages_;
    std::vector<std::string> pongs_;
    bool reading_ = false;
    bool ended_ = false;
    web::close_status end_;
};

}  // namespace harness::test
