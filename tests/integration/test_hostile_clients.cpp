// Slow and hostile clients against dialpad-mock and, where it is cheap,
// dialpad-replay: headers dribbled a byte at a time, a frame header
// announcing 100 MB, malformed upgrade requests and noise, thousands of
// connections that never send a byte, a client of a per-client replay that
// never reads, and a server out of file descriptors. Each must cost bounded
// memory and time, and none may slow a healthy client. (test_mock_server.cpp
// already covers a request that stops half-way, a garbage request line,
// oversized headers and a mock consumer that stops reading; the replay's
// fan-out tests a broadcast client that stops reading.)
//
// Every wait is bounded, on a socket or a server's answer; servers are on
// port 0.

#include "core/clock/virtual_clock.hpp"
#include "core/web/http_client.hpp"
#include "tests/support/mock_fixture.hpp"
#include "tests/support/replay_fixture.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/ws_test_client.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

using namespace harness;
using namespace std::chrono_literals;
using harness::test::beast_ws_client;
using harness::test::mock_fixture;
using harness::test::running_replay;
using harness::test::session_builder;
using harness::test::temp_dir;
using harness::test::ws_test_client;
using nlohmann::json;
using steady = std::chrono::steady_clock;

namespace {

// --- raw TCP clients ----------------------------------------------------------

// A TCP connection to 127.0.0.1:port, for clients no library would be.
// Nothing here blocks without a bound.
class raw_client {
public:
    explicit raw_client(std::uint16_t port, int receive_buffer = 0)
        : fd_{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)} {
        REQUIRE(fd_ >= 0);
        if (receive_buffer > 0)
            ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    }
    raw_client(raw_client const&) = delete;
    raw_client& operator=(raw_client const&) = delete;
    ~raw_client() { close(); }

    int fd() const { return fd_; }
    bool ended() const { return ended_; }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    void shutdown_send() { ::shutdown(fd_, SHUT_WR); }

    // False once the server has ended the connection.
    bool send(std::string_view bytes) {
        while (!bytes.empty()) {
            auto const n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                pollfd room{fd_, POLLOUT, 0};
                if (::poll(&room, 1, 5'000) != 1) return false;
                continue;
            }
            if (n <= 0) {
                ended_ = true;
                return false;
            }
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    // Whatever has arrived, without waiting; notes the end of the connection.
    std::string take_available() {
        std::string got;
        char buffer[16 << 10];
        for (;;) {
            auto const n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
            if (n > 0) {
                got.append(buffer, static_cast<std::size_t>(n));
                continue;
            }
            if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) ended_ = true;
            return got;
        }
    }

    // Reads until `done(everything read so far)` holds, the connection ends
    // or `limit` passes; returns what arrived.
    std::string read_until(std::function<bool(std::string const&)> const& done,
                           std::chrono::milliseconds limit) {
        auto const deadline = steady::now() + limit;
        while (!ended_ && !done(received_)) {
            auto const left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
            if (left <= 0) break;
            pollfd readable{fd_, POLLIN, 0};
            if (::poll(&readable, 1, static_cast<int>(left)) == 1) received_ += take_available();
        }
        return received_;
    }
    // Everything until the server ends the connection (or `limit` passes).
    std::string read_to_end(std::chrono::milliseconds limit = 5s) {
        return read_until([](std::string const&) { return false; }, limit);
    }
    // Drops what read_until() kept (after a handshake's answer, say).
    void forget(std::size_t bytes) { received_.erase(0, bytes); }

private:
    int fd_;
    bool ended_ = false;
    std::string received_;
};

bool has_header_end(std::string const& got) {
    return got.find("\r\n\r\n") != std::string::npos;
}

std::string const k_valid_key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

std::string upgrade_request(std::string const& target,
                            std::string const& extra = k_valid_key + "Sec-WebSocket-Version: 13\r\n") {
    return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
           extra + "\r\n";
}

// Upgrades `c` to a websocket on `target`; what followed the 101 stays unread.
void upgrade(raw_client& c, std::string const& target) {
    REQUIRE(c.send(upgrade_request(target)));
    auto const answer = c.read_until(has_header_end, 5s);
    REQUIRE(answer.starts_with("HTTP/1.1 101"));
    c.forget(answer.find("\r\n\r\n") + 4);
}

// A masked client frame header (RFC 6455 §5.2) announcing `length` bytes,
// with a 64-bit length and its masking key: what a client writes before the
// payload.
std::string client_frame_header(std::uint8_t opcode, std::uint64_t length) {
    std::string out;
    out.push_back(static_cast<char>(0x80 | opcode));
    out.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((length >> shift) & 0xFF));
    out.append("\x12\x34\x56\x78", 4);
    return out;
}

// A whole masked client frame with a payload under 126 bytes (a control frame).
std::string short_client_frame(std::uint8_t opcode, std::string_view payload) {
    std::string const mask = "\x12\x34\x56\x78";
    std::string out;
    out.push_back(static_cast<char>(0x80 | opcode));
    out.push_back(static_cast<char>(0x80 | payload.size()));
    out += mask;
    for (std::size_t i = 0; i < payload.size(); ++i) out.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
    return out;
}

struct server_frame {
    int opcode = 0;
    std::string payload;
};

// The complete server frames (unmasked) at the front of `bytes`.
std::vector<server_frame> parse_server_frames(std::string_view bytes) {
    std::vector<server_frame> frames;
    while (bytes.size() >= 2) {
        std::uint64_t length = static_cast<std::uint8_t>(bytes[1]) & 0x7F;
        std::size_t header = 2;
        if (length == 126) {
            if (bytes.size() < 4) break;
            length = (std::uint64_t{static_cast<std::uint8_t>(bytes[2])} << 8) |
                     static_cast<std::uint8_t>(bytes[3]);
            header = 4;
        } else if (length == 127) {
            if (bytes.size() < 10) break;
            length = 0;
            for (std::size_t i = 2; i < 10; ++i) length = (length << 8) | static_cast<std::uint8_t>(bytes[i]);
            header = 10;
        }
        if (bytes.size() < header + length) break;
        frames.push_back(
            {static_cast<std::uint8_t>(bytes[0]) & 0x0F, std::string{bytes.substr(header, length)}});
        bytes.remove_prefix(header + length);
    }
    return frames;
}

// The code of the first close frame in `bytes`, if one arrived.
std::optional<int> close_code_in(std::string_view bytes) {
    for (auto const& frame : parse_server_frames(bytes))
        if (frame.opcode == 0x8)
            return frame.payload.size() >= 2 ? (static_cast<std::uint8_t>(frame.payload[0]) << 8) |
                                                   static_cast<std::uint8_t>(frame.payload[1])
                                             : 1005;
    return std::nullopt;
}

// --- servers ----------------------------------------------------------------------

// A websocket with a call subscription on the mock: its URL and its
// /events/<token> target.
struct mock_feed {
    std::string url;
    std::string target;
};

mock_feed subscribe(mock_fixture& mock) {
    auto const ws = mock.call_json("POST", "/api/v2/websockets");
    mock.call_json("POST", "/api/v2/subscriptions/call", "key-a",
                   R"({"endpoint_id":)" + ws["id"].dump() + "}");
    auto url = ws["websocket_url"].get<std::string>();
    auto target = url.substr(url.find("/events/"));
    return {std::move(url), std::move(target)};
}

std::string call_event(int n) {
    return R"({"call_id":)" + std::to_string(9000 + n) + R"(,"state":"ringing"})";
}

void inject(mock_fixture& mock, std::string const& event) {
    json const body{{"type", "call"}, {"raw", event}};
    CHECK(mock.call("POST", "/__admin/events", "", body.dump()).status == 200);
}

// `count` call events of about `size` bytes, `gap_ns` apart, as a session.
std::vector<std::string> make_session(std::string const& path, int count, std::size_t size,
                                      std::int64_t gap_ns) {
    session_builder builder{path};
    auto const connection = builder.open_connection();
    std::vector<std::string> texts;
    std::vector<session_builder::timed_text> events;
    for (int i = 0; i < count; ++i) {
        auto text = R"({"call_id":)" + std::to_string(1000 + i) + R"(,"state":"ringing","pad":")";
        if (text.size() + 2 < size) text.append(size - text.size() - 2, 'x');
        texts.push_back(text + "\"}");
        events.push_back({i * gap_ns, texts.back()});
    }
    builder.add_events(connection, events);
    return texts;
}

// This process's descriptor limit, raised (soft up to hard) towards `wanted`.
rlim_t raise_fd_limit(rlim_t wanted) {
    rlimit limit{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
    if (limit.rlim_cur < wanted && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = std::min(wanted, limit.rlim_max);
        ::setrlimit(RLIMIT_NOFILE, &limit);
        REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
    }
    return limit.rlim_cur;
}

// `wanted` silent connections, fewer if this process may not hold two
// descriptors for each (the in-process server holds the other end).
std::size_t silent_count(std::size_t wanted) {
    auto const limit = static_cast<std::size_t>(raise_fd_limit(2 * wanted + 512));
    auto const fits = limit > 512 ? (limit - 512) / 2 : 0;
    if (fits < wanted)
        MESSAGE("RLIMIT_NOFILE " << limit << ": " << fits << " silent connections instead of " << wanted);
    return std::min(wanted, fits);
}

// When the server ended a connection (from some start), and what it sent first.
struct drop_record {
    std::optional<steady::duration> after;
    std::size_t bytes = 0;
};

// Polls every connection until the server has ended each (or `limit`
// passes); for each, when it ended (from `since`) and what it was sent.
std::vector<drop_record> wait_dropped(std::vector<std::unique_ptr<raw_client>>& clients,
                                      steady::time_point since, std::chrono::milliseconds limit) {
    std::vector<drop_record> records(clients.size());
    auto const deadline = steady::now() + limit;
    for (;;) {
        std::vector<pollfd> watch;
        std::vector<std::size_t> which;
        for (std::size_t i = 0; i < clients.size(); ++i)
            if (!records[i].after) {
                watch.push_back({clients[i]->fd(), POLLIN, 0});
                which.push_back(i);
            }
        auto const left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
        if (watch.empty() || left <= 0) break;
        if (::poll(watch.data(), watch.size(), static_cast<int>(left)) <= 0) continue;
        for (std::size_t k = 0; k < watch.size(); ++k) {
            if (watch[k].revents == 0) continue;
            auto& client = *clients[which[k]];
            records[which[k]].bytes += client.take_available().size();
            if (client.ended()) records[which[k]].after = steady::now() - since;
        }
    }
    return records;
}

}  // namespace

TEST_CASE(
    "hostile clients: headers dribbled a byte at a time are dropped at the request timeout; others are "
    "served meanwhile") {
    auto options = mock_fixture::default_options();
    options.request_timeout = 500ms;  // on the system clock, from each request's first awaited byte
    mock_fixture mock{options};

    // Far longer than can be dribbled before the timeout: it never completes.
    auto const request =
        "GET /api/v2/websockets HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer key-a\r\nX-Slow: " +
        std::string(400, 's') + "\r\n\r\n";
    constexpr std::size_t k_dribblers = 20;
    auto const started = steady::now();
    std::vector<std::unique_ptr<raw_client>> slow;
    for (std::size_t i = 0; i < k_dribblers; ++i)
        slow.push_back(std::make_unique<raw_client>(mock.endpoints().port));
    std::vector<drop_record> records(k_dribblers);
    steady::duration slowest_healthy{0};
    int healthy_calls = 0;
    for (std::size_t next = 0; steady::now() < started + 5s; ++next) {
        std::vector<pollfd> watch;
        std::vector<std::size_t> which;
        for (std::size_t i = 0; i < k_dribblers; ++i) {
            if (records[i].after) continue;
            if (next < request.size() && !slow[i]->send(std::string_view{request}.substr(next, 1))) {
                records[i].after = steady::now() - started;
                continue;
            }
            watch.push_back({slow[i]->fd(), POLLIN, 0});
            which.push_back(i);
        }
        if (watch.empty()) break;
        // The pace, a byte every 20 ms, unless the server ends a connection first.
        ::poll(watch.data(), watch.size(), 20);
        for (std::size_t k = 0; k < watch.size(); ++k) {
            if (watch[k].revents == 0) continue;
            auto& client = *slow[which[k]];
            records[which[k]].bytes += client.take_available().size();
            if (client.ended()) records[which[k]].after = steady::now() - started;
        }
        if (next % 5 == 0) {
            auto const asked = steady::now();
            CHECK(mock.call("GET", "/api/v2/websockets").status == 200);
            slowest_healthy = std::max(slowest_healthy, steady::now() - asked);
            ++healthy_calls;
        }
    }
    for (std::size_t i = 0; i < k_dribblers; ++i) {
        INFO("dribbler " << i);
        REQUIRE(records[i].after.has_value());
        CHECK(*records[i].after >= 500ms);  // the timeout runs from after the connect
        CHECK(*records[i].after < 2500ms);
        CHECK(records[i].bytes == 0);  // dropped, not answered: no response is owed
    }
    CHECK(healthy_calls >= 3);
    CHECK(slowest_healthy < 1s);
}

TEST_CASE("hostile clients: the mock answers pings, echoes a close, and ends a client silent for two keepalives") {
    auto options = mock_fixture::default_options();
    // Long enough for the answering client's thread to pong on a loaded machine.
    options.feed.keepalive = 1s;
    mock_fixture mock{options};
    auto const feed = subscribe(mock);
    auto const frames_in = [](std::size_t count) {
        return [count](std::string const& bytes) { return parse_server_frames(bytes).size() >= count; };
    };

    SUBCASE("a ping gets its pong; a close gets its code back, then the server ends the connection") {
        raw_client client{mock.endpoints().port};
        upgrade(client, feed.target);
        REQUIRE(client.send(short_client_frame(0x9, "abcd")));
        auto const got = client.read_until(frames_in(1), 5s);
        REQUIRE(parse_server_frames(got).size() == 1);
        CHECK(parse_server_frames(got)[0].opcode == 0xA);
        CHECK(parse_server_frames(got)[0].payload == "abcd");
        client.forget(got.size());
        REQUIRE(client.send(short_client_frame(0x8, "\x03\xE8")));  // 1000
        auto const echo = client.read_to_end(5s);
        CHECK(close_code_in(echo) == 1000);
        CHECK(client.ended());
    }

    SUBCASE("a client that answers nothing is pinged, then disconnected; one that answers stays") {
        raw_client silent{mock.endpoints().port};
        upgrade(silent, feed.target);
        ws_test_client answering{feed.url};  // its library answers pings
        mock.call("GET", "/api/v2/websockets");  // a round trip: both connections are registered
        auto const got = silent.read_to_end(10s);
        CHECK(silent.ended());
        auto const frames = parse_server_frames(got);
        REQUIRE(!frames.empty());
        CHECK(frames[0].opcode == 0x9);  // the ping it never answered
        // Three keepalive periods on, the answering client is still served.
        inject(mock, call_event(1));
        CHECK(answering.wait_for_messages(1, 5s) == std::vector<std::string>{call_event(1)});
        CHECK_FALSE(answering.closed());
    }
}

TEST_CASE(
    "hostile clients: a frame header announcing 100 MB gets a 1009 close at once, before any of it is sent") {
    // Only the header goes out: the close coming back proves nothing waited
    // for (or made room for) the payload.
    auto const check_refused = [](raw_client& hostile) {
        auto const sent = steady::now();
        REQUIRE(hostile.send(client_frame_header(0x1, std::uint64_t{100} << 20)));
        auto const got =
            hostile.read_until([](std::string const& bytes) { return close_code_in(bytes).has_value(); }, 5s);
        CHECK(steady::now() - sent < 2s);
        auto const code = close_code_in(got);
        REQUIRE(code.has_value());
        CHECK(*code == 1009);
        // Then the server ends the TCP connection, whatever the client does.
        hostile.read_to_end(5s);
        CHECK(hostile.ended());
    };

    SUBCASE("dialpad-mock (its own client-frame parser, 1 MiB at most)") {
        mock_fixture mock;
        auto const feed = subscribe(mock);
        raw_client hostile{mock.endpoints().port};
        upgrade(hostile, feed.target);
        check_refused(hostile);
        // The others are served as before.
        ws_test_client healthy{feed.url};
        mock.call("GET", "/api/v2/websockets");  // a round trip: the connection is registered
        inject(mock, call_event(1));
        CHECK(healthy.wait_for_messages(1, 5s) == std::vector<std::string>{call_event(1)});
    }

    SUBCASE("dialpad-replay (its own client-frame parser, 1 MiB at most)") {
        temp_dir dir;
        auto const path = dir.file("huge.db");
        // The second event is an hour later on a clock that does not move:
        // the connection stays open, waiting for it.
        session_builder builder{path};
        auto const connection = builder.open_connection();
        builder.add_events(connection, {{0, call_event(1)}, {3'600'000'000'000, call_event(2)}});
        virtual_clock time;
        running_replay replay{test::replay_options_for(path), time};
        raw_client hostile{replay.port()};
        upgrade(hostile, "/events/hostile");
        auto const first =
            hostile.read_until([](std::string const& b) { return !parse_server_frames(b).empty(); }, 5s);
        REQUIRE(!parse_server_frames(first).empty());
        CHECK(parse_server_frames(first)[0].payload == call_event(1));
        hostile.forget(first.size());
        check_refused(hostile);
        auto const report = replay.wait_for_report(
            [](json const& r) {
                return r["clients"].size() == 1 && r["clients"][0]["ended_by"] != "still open";
            },
            5s);
        REQUIRE(report["clients"].size() == 1);
        CHECK(report["clients"][0]["ended_by"] == "client closed (1009)");
    }
}

TEST_CASE(
    "hostile clients: malformed upgrade requests and noise get a 4xx or a clean close, never a crash or a "
    "session") {
    struct attempt {
        std::string name;
        std::string bytes;
        std::string status;  // the start of the answer's status line; empty: closed with no answer
        bool half_close = false;
    };
    auto const v13 = std::string{"Sec-WebSocket-Version: 13\r\n"};
    auto const malformed_upgrades = [&](std::string const& target) {
        return std::vector<attempt>{
            {"no Sec-WebSocket-Key", upgrade_request(target, v13), "HTTP/1.1 400"},
            {"no Host",
             "GET " + target + " HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + k_valid_key +
                 v13 + "\r\n",
             "HTTP/1.1 400"},
            {"an empty Sec-WebSocket-Key", upgrade_request(target, "Sec-WebSocket-Key: \r\n" + v13),
             "HTTP/1.1 400"},
            {"a Sec-WebSocket-Key that is not 16 bytes in base64",
             upgrade_request(target, "Sec-WebSocket-Key: not-a-key!\r\n" + v13), "HTTP/1.1 400"},
            {"a Sec-WebSocket-Key of 24 characters outside base64",
             upgrade_request(target, "Sec-WebSocket-Key: ***********************=\r\n" + v13),
             "HTTP/1.1 400"},
            {"an overlong Sec-WebSocket-Key",
             upgrade_request(target, "Sec-WebSocket-Key: " + std::string(64, 'A') + "\r\n" + v13),
             "HTTP/1.1 400"},
            {"version 8", upgrade_request(target, k_valid_key + "Sec-WebSocket-Version: 8\r\n"),
             "HTTP/1.1 426"},
            {"no version", upgrade_request(target, k_valid_key), "HTTP/1.1 426"},
            {"an upgrade on a path that is not /events", upgrade_request("/api/v2/websockets"),
             "HTTP/1.1 404"},
            {"an upgrade on the root", upgrade_request("/"), "HTTP/1.1 404"},
            {"headers cut short, then the end",
             "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: webs", "", true},
            {"a TLS ClientHello on the plain port",
             std::string{"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11}, "HTTP/1.1 400", true},
            {"a header line with no colon", "GET " + target + " HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n",
             "HTTP/1.1 400"},
            {"a NUL in a header",
             "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Bad: a" + std::string(1, '\0') +
                 "b\r\n\r\n",
             "HTTP/1.1 400"},
        };
    };
    // The answer to one attempt on a fresh connection.
    auto const answer_to = [](std::uint16_t port, attempt const& a) {
        raw_client c{port};
        c.send(a.bytes);
        if (a.half_close) c.shutdown_send();
        // Error answers end the connection; a keep-alive answer is complete at its headers.
        return a.status.empty() ? c.read_to_end() : c.read_until(has_header_end, 5s);
    };
    auto const check_answer = [](attempt const& a, std::string const& answer) {
        INFO(a.name << " -> " << answer.substr(0, answer.find("\r\n")));
        if (a.status.empty())
            CHECK(answer.empty());
        else
            CHECK(answer.starts_with(a.status));
    };

    SUBCASE("dialpad-mock") {
        mock_fixture mock;
        auto const feed = subscribe(mock);
        auto const port = mock.endpoints().port;
        auto attempts = malformed_upgrades(feed.target);
        // Requests that are not websocket upgrades are ordinary requests: the
        // feed's path answers them 426 in Dialpad's error format.
        attempts.push_back(
            {"POST with the upgrade headers",
             "POST " + feed.target +
                 " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                 k_valid_key + v13 + "Content-Length: 0\r\n\r\n",
             "HTTP/1.1 426"});
        attempts.push_back({"an HTTP/1.0 upgrade",
                            "GET " + feed.target +
                                " HTTP/1.0\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + k_valid_key +
                                v13 + "\r\n",
                            "HTTP/1.0 426"});
        attempts.push_back({"an upgrade to h2c",
                            "GET " + feed.target +
                                " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: h2c\r\nConnection: Upgrade, "
                                "HTTP2-Settings\r\n\r\n",
                            "HTTP/1.1 426"});
        for (auto const& a : attempts) check_answer(a, answer_to(port, a));

        // Seeded noise, each on its own connection: a 4xx or nothing, never a 5xx.
        std::mt19937 random{20260101};
        for (int i = 0; i < 200; ++i) {
            std::string noise(std::uniform_int_distribution<std::size_t>{1, 2048}(random), '\0');
            for (auto& c : noise) c = static_cast<char>(std::uniform_int_distribution<int>{0, 255}(random));
            if (i % 2 == 0) noise += "\r\n\r\n";
            auto const answer = answer_to(port, attempt{"noise", noise, "", true});
            INFO("noise " << i << " -> " << answer.substr(0, answer.find("\r\n")));
            CHECK((answer.empty() || answer.starts_with("HTTP/1.1 4")));
        }

        // No refused handshake became a connection, and none consumed an
        // injected upgrade refusal, which only a real handshake may take.
        CHECK(mock.call_json("GET", "/__admin/connections", "")["connections"].empty());
        CHECK(
            mock.call("POST", "/__admin/faults", "", R"({"reject_upgrades":1,"reject_status":503})").status ==
            200);
        check_answer(attempts[0], answer_to(port, attempts[0]));
        CHECK_THROWS_AS(ws_test_client{feed.url}, web::ws_refused);
        CHECK(mock.call("DELETE", "/__admin/faults", "").status == 200);
        ws_test_client healthy{feed.url};
        mock.call("GET", "/api/v2/websockets");
        inject(mock, call_event(7));
        CHECK(healthy.wait_for_messages(1, 5s) == std::vector<std::string>{call_event(7)});
    }

    SUBCASE("dialpad-replay") {
        temp_dir dir;
        auto const path = dir.file("malformed.db");
        auto const events = make_session(path, 5, 100, 1'000'000);
        virtual_clock time;
        auto options = test::replay_options_for(path);
        options.speed.reset();
        running_replay replay{options, time};
        for (auto const& a : malformed_upgrades("/events/malformed"))
            check_answer(a, answer_to(replay.port(), a));
        // A client after all that gets the whole session, and is the only one reported.
        ws_test_client healthy{replay.url("healthy")};
        CHECK(healthy.wait_for_messages(events.size(), 5s) == events);
        CHECK(healthy.wait_closed(5s).code == 1000);
        auto const report =
            replay.wait_for_report([](json const& r) { return r["totals"]["finished"] == 1; }, 5s);
        CHECK(report["totals"]["clients"] == 1);
    }
}

TEST_CASE(
    "hostile clients: 2,000 connections that never send are dropped at the request timeout; a healthy "
    "client's flow is not slowed") {
    auto const count = silent_count(2000);
    auto options = mock_fixture::default_options();
    options.request_timeout = 3s;
    mock_fixture mock{options};

    auto const opened = steady::now();
    std::vector<std::unique_ptr<raw_client>> silent;
    silent.reserve(count);
    for (std::size_t i = 0; i < count; ++i)
        silent.push_back(std::make_unique<raw_client>(mock.endpoints().port));

    // The whole flow of a consumer while they are all held open: REST
    // set-up, the websocket, an event.
    auto const flow_started = steady::now();
    auto const feed = subscribe(mock);
    ws_test_client healthy{feed.url};
    mock.call("GET", "/api/v2/websockets");  // a round trip: the connection is registered
    inject(mock, call_event(1));
    CHECK(healthy.wait_for_messages(1, 5s) == std::vector<std::string>{call_event(1)});
    CHECK(steady::now() - flow_started < 2s);
    // They were all there all along: none has been dropped yet, if the
    // request timeout has not passed (a loaded machine may take that long).
    std::vector<pollfd> all;
    for (auto const& c : silent) all.push_back({c->fd(), POLLIN, 0});
    auto const still_held = ::poll(all.data(), all.size(), 0) == 0;
    if (steady::now() - opened < options.request_timeout) CHECK(still_held);

    // Each is dropped at its request timeout, unanswered.
    auto const records = wait_dropped(silent, opened, 10s);
    std::size_t dropped = 0, answered = 0, early = 0;
    steady::duration last{0};
    for (auto const& r : records) {
        if (!r.after) continue;
        ++dropped;
        answered += r.bytes > 0 ? 1 : 0;
        early += *r.after < 3s ? 1 : 0;
        last = std::max(last, *r.after);
    }
    CHECK(dropped == count);
    CHECK(answered == 0);
    CHECK(early == 0);
    CHECK(last < 8s);
    // The websocket has no request timeout: it is still there, and still served.
    inject(mock, call_event(2));
    CHECK(healthy.wait_for_messages(2, 5s).back() == call_event(2));
    CHECK(!healthy.closed());
}

TEST_CASE("hostile clients: a replay serves a client promptly while 1,000 silent connections wait") {
    auto const count = silent_count(1000);
    temp_dir dir;
    auto const path = dir.file("silent.db");
    auto const events = make_session(path, 200, 300, 1'000'000);
    virtual_clock time;
    auto options = test::replay_options_for(path);
    options.speed.reset();
    running_replay replay{options, time};
    std::vector<std::unique_ptr<raw_client>> silent;
    silent.reserve(count);
    for (std::size_t i = 0; i < count; ++i) silent.push_back(std::make_unique<raw_client>(replay.port()));

    auto const started = steady::now();
    ws_test_client healthy{replay.url("healthy")};
    CHECK(healthy.wait_for_messages(events.size(), 5s) == events);
    CHECK(healthy.wait_closed(5s).code == 1000);
    CHECK(steady::now() - started < 2s);
}

TEST_CASE("hostile clients: a per-client replay goes on for a healthy client while another never reads") {
    temp_dir dir;
    auto const path = dir.file("stalled.db");
    // 6 MB: more than the kernel buffers for a client that never reads.
    auto const events = make_session(path, 6000, 1024, 1'000'000);
    virtual_clock time;
    auto options = test::replay_options_for(path);
    options.speed.reset();
    running_replay replay{options, time};

    auto const started = steady::now();
    beast_ws_client stalled{replay.port(), "/events/stalled", 4096};  // handshakes, then never reads
    ws_test_client healthy{replay.url("healthy")};
    CHECK(healthy.wait_for_messages(events.size(), 10s) == events);
    CHECK(healthy.wait_closed(10s).code == 1000);
    CHECK(replay.wait_finished(1, 10s));
    CHECK(steady::now() - started < 8s);
    // The stalled one is still open, its timeline waiting for room (a
    // bounded queue of 2 MiB), never finished.
    auto const report = replay.report();
    INFO(report.dump());
    REQUIRE(report["clients"].size() == 2);
    auto const& stalled_entry = report["clients"][0];
    CHECK(stalled_entry["ended_by"] == "still open");
    CHECK(stalled_entry["finished"] == false);
    CHECK(stalled_entry["frames"].get<std::size_t>() < events.size());
    CHECK(report["clients"][1]["finished"] == true);
}

namespace {

// dialpad-mock as a child process whose descriptor limit is `max_files`,
// logging to `log_path`; killed if still running at the end.
class limited_mock {
public:
    limited_mock(rlim_t max_files, std::string const& log_path) {
        int out[2];
        REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
        int const log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        REQUIRE(log >= 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {  // only async-signal-safe calls until exec
            rlimit const limit{max_files, max_files};
            ::setrlimit(RLIMIT_NOFILE, &limit);
            ::dup2(out[1], STDOUT_FILENO);
            ::dup2(log, STDERR_FILENO);
            ::execl(DIALPAD_MOCK_PATH, DIALPAD_MOCK_PATH, "--port", "0", "--guide", "never", "--log-level",
                    "info", static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::close(out[1]);
        ::close(log);
        stdout_ = out[0];
        std::string line;
        pollfd readable{stdout_, POLLIN, 0};
        while (line.find('\n') == std::string::npos && ::poll(&readable, 1, 10'000) == 1) {
            char c[256];
            auto const n = ::read(stdout_, c, sizeof c);
            if (n <= 0) break;
            line.append(c, static_cast<std::size_t>(n));
        }
        REQUIRE(line.find('\n') != std::string::npos);
        http_ = json::parse(line.substr(0, line.find('\n')))["http"].get<std::string>();
        port_ = static_cast<std::uint16_t>(std::stoi(http_.substr(http_.rfind(':') + 1)));
    }
    limited_mock(limited_mock const&) = delete;
    limited_mock& operator=(limited_mock const&) = delete;
    ~limited_mock() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        ::close(stdout_);
    }
    std::uint16_t port() const { return port_; }
    std::string const& http() const { return http_; }
    // SIGTERM, then its exit status (-1 if it did not exit within `limit`).
    int terminate(std::chrono::milliseconds limit = 5s) {
        ::kill(pid_, SIGTERM);
        auto const deadline = steady::now() + limit;
        while (steady::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            }
            ::poll(nullptr, 0, 5);
        }
        return -1;
    }

private:
    pid_t pid_ = -1;
    int stdout_ = -1;
    std::uint16_t port_ = 0;
    std::string http_;
};

std::size_t count_lines_with(std::string const& path, std::string const& needle) {
    std::ifstream in{path};
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos ? 1 : 0;
    return n;
}

}  // namespace

TEST_CASE(
    "hostile clients: out of file descriptors, dialpad-mock neither spins nor floods its log, serves the "
    "connections it has, and recovers") {
    temp_dir dir;
    auto const log_path = dir.file("mock.log");
    limited_mock mock{48, log_path};

    // A keep-alive connection made before the flood; each health answer ends with its JSON body.
    raw_client keeper{mock.port()};
    auto const ask_health = [&keeper] {
        REQUIRE(keeper.send("GET /__admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
        auto const answer = keeper.read_until([](std::string const& got) { return got.ends_with("}"); }, 5s);
        keeper.forget(answer.size());
        return answer;
    };
    CHECK(ask_health().starts_with("HTTP/1.1 200"));

    // One request on a connection the client then ends: the mock reads the
    // end and compares error codes (is_normal_disconnect) before it closes.
    // Under UBSan that matters: the vptr check, the first time it meets a
    // type, tests the memory through a pipe, which a process out of
    // descriptors cannot open, and it would report a false error in the
    // accept loop's failure path.
    raw_client once{mock.port()};
    REQUIRE(once.send("GET /__admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    once.shutdown_send();
    CHECK(once.read_to_end().starts_with("HTTP/1.1 200"));
    CHECK(once.ended());

    // More silent connections than it has descriptors: the rest wait in its
    // listen queue, and its accepts fail with EMFILE.
    std::vector<std::unique_ptr<raw_client>> flood;
    for (int i = 0; i < 80; ++i) flood.push_back(std::make_unique<raw_client>(mock.port()));
    auto const failing = steady::now() + 10s;
    while (count_lines_with(log_path, "http.accept_failed") == 0 && steady::now() < failing)
        ::poll(nullptr, 0, 5);
    REQUIRE(count_lines_with(log_path, "http.accept_failed") == 1);

    // What it does while the descriptors stay out, watched for 300 ms (a
    // measurement, not a synchronisation): an accept loop that retried at
    // once would log a line per attempt, thousands in this time.
    ::poll(nullptr, 0, 300);
    CHECK(count_lines_with(log_path, "http.accept_failed") == 1);

    // The connection it has is served as before.
    auto const asked = steady::now();
    CHECK(ask_health().starts_with("HTTP/1.1 200"));
    CHECK(steady::now() - asked < 1s);

    // Once descriptors are free again it accepts, the queued ones included.
    flood.clear();
    auto const recovered = web::fetch("GET", mock.http() + "/__admin/health");
    CHECK(recovered.status == 200);
    CHECK(count_lines_with(log_path, "http.accept_recovered") >= 1);
    CHECK(mock.terminate() == 0);
}
