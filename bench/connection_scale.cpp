// Connection scale: N concurrent websocket connections (10,000 by default)
// on dialpad-mock and on dialpad-replay, each started as a separate process
// (--port 0, its ready line read from stdout), driven from this one process
// with raw non-blocking sockets on epoll. For each server:
//   - its RSS (VmRSS) before any connection: the baseline of the same run;
//   - the time to open all N TCP connections, then to upgrade them all;
//   - its RSS with the N connections idle, hence the memory per connection;
//   - the time for a broadcast to reach every connection:
//       mock:   every connection uses the token of one websocket with a call
//               subscription made through the REST API; one event is POSTed
//               to /__admin/events and every connection must get its bytes;
//               GET /__admin/connections must list all N (timed);
//       replay: `serve ARCHIVE --mode broadcast --speed max --wait-clients
//               N+1`: N connections wait idle (measured), one more opens the
//               gate, and every connection must get every frame of a tiny
//               session and the closing 1000.
// The file-descriptor limit is raised to the hard limit first (the servers
// inherit it); N is lowered to fit when the hard limit is too small.
//
//   build/release/bench/connection_scale [--connections N] [--servers mock,replay] [--frames F]

#include "bench/support/archive_ceiling.hpp"
#include "core/archive/frame_writer.hpp"
#include "core/cli/program.hpp"
#include "core/log/log.hpp"
#include "core/web/http_client.hpp"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace harness;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

double seconds_since(steady::time_point t) {
    return std::chrono::duration<double>(steady::now() - t).count();
}

std::runtime_error system_failure(std::string const& what) {
    return std::runtime_error{what + ": " + std::strerror(errno)};
}

// --- the servers, as child processes -----------------------------------------

// A program with its stdout on a pipe; killed and reaped if still running
// when this goes out of scope, so no failure leaves a server behind.
class child_process {
public:
    explicit child_process(std::vector<std::string> const& argv) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw system_failure("pipe");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclosefrom_np(&actions, 3);
        std::vector<char*> args;
        for (auto const& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        int const rc = ::posix_spawn(&pid_, argv[0].c_str(), &actions, nullptr, args.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
        out_ = fds[0];
        if (rc != 0) {
            pid_ = -1;
            throw std::runtime_error{argv[0] + ": " + std::strerror(rc)};
        }
    }
    child_process(child_process const&) = delete;
    child_process& operator=(child_process const&) = delete;
    ~child_process() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        ::close(out_);
    }
    pid_t pid() const { return pid_; }

    // The next stdout line; nullopt at the end of output or after `limit`.
    std::optional<std::string> read_line(steady::duration limit) {
        auto const deadline = steady::now() + limit;
        for (;;) {
            if (auto const end = pending_.find('\n'); end != std::string::npos) {
                auto line = pending_.substr(0, end);
                pending_.erase(0, end + 1);
                return line;
            }
            auto const left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
            if (left <= 0) return std::nullopt;
            pollfd p{out_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
            char chunk[4096];
            auto const n = ::read(out_, chunk, sizeof chunk);
            if (n <= 0) return std::nullopt;
            pending_.append(chunk, static_cast<std::size_t>(n));
        }
    }

    // Waits for the program to end by itself: its wait status, or nullopt after `limit`.
    std::optional<int> wait_exit(steady::duration limit) {
        for (auto const deadline = steady::now() + limit; steady::now() < deadline;) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return status;
            }
            std::this_thread::sleep_for(2ms);
        }
        return std::nullopt;
    }

private:
    pid_t pid_ = -1;
    int out_ = -1;
    std::string pending_;
};

// A line of /proc/<pid>/status in KiB (VmRSS, VmHWM); 0 when absent.
double status_kib(pid_t pid, std::string_view field) {
    std::ifstream status{"/proc/" + std::to_string(pid) + "/status"};
    for (std::string line; std::getline(status, line);)
        if (line.starts_with(field) && line.size() > field.size() && line[field.size()] == ':')
            return std::stod(line.substr(field.size() + 1));
    return 0;
}

// The RSS once it stops moving (within 64 KiB over 100 ms, at most 3 s):
// the server may still be finishing the last connections' set-up.
double settled_rss_kib(pid_t pid) {
    double last = status_kib(pid, "VmRSS");
    for (auto const deadline = steady::now() + 3s; steady::now() < deadline;) {
        std::this_thread::sleep_for(100ms);
        double const now = status_kib(pid, "VmRSS");
        if (std::abs(now - last) < 64) return now;
        last = now;
    }
    return last;
}

// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the limit.
rlim_t raise_fd_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) throw system_failure("getrlimit");
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) throw system_failure("setrlimit");
    return limit.rlim_cur;
}

// --- the client side: N raw websocket connections on one epoll ----------------

struct connection {
    int fd = -1;
    enum class phase { connecting, connected, upgrading, open, closed } state = phase::connecting;
    std::string in;  // bytes not parsed yet
    std::size_t messages = 0;
    std::string first_message;
    bool close_received = false;
    int close_code = 0;
};

// A masked client frame (RFC 6455 §5.3), payload at most 125 bytes.
std::string client_frame(std::uint8_t opcode, std::string_view payload) {
    static constexpr unsigned char mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    std::string out;
    out.push_back(static_cast<char>(0x80 | opcode));
    out.push_back(static_cast<char>(0x80 | payload.size()));
    out.append(reinterpret_cast<char const*>(mask), 4);
    for (std::size_t i = 0; i < payload.size(); ++i)
        out.push_back(static_cast<char>(payload[i] ^ mask[i & 3]));
    return out;
}

class client_fleet {
public:
    client_fleet(std::uint16_t port, std::string target) : port_{port}, target_{std::move(target)} {
        epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
        if (epoll_ < 0) throw system_failure("epoll_create1");
    }
    client_fleet(client_fleet const&) = delete;
    client_fleet& operator=(client_fleet const&) = delete;
    ~client_fleet() {
        close_all();
        ::close(epoll_);
    }

    std::size_t size() const { return conns_.size(); }
    connection const& at(std::size_t i) const { return conns_[i]; }

    // Opens `count` more TCP connections, at most `window` handshakes in
    // flight (so the listen queue never overflows into SYN retries).
    void connect(std::size_t count, std::size_t window, steady::duration limit) {
        auto const first = conns_.size();
        conns_.resize(first + count);
        std::size_t started = first, done = first;
        auto const deadline = steady::now() + limit;
        while (done < conns_.size()) {
            while (started < conns_.size() && started - done < window) open_socket(started++);
            wait_events(deadline, [&](std::size_t i, std::uint32_t) {
                auto& c = conns_[i];
                if (c.state != connection::phase::connecting) return;
                int error = 0;
                socklen_t length = sizeof error;
                ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &length);
                if (error != 0)
                    throw std::runtime_error{"connection " + std::to_string(i) +
                                             " failed: " + std::strerror(error)};
                c.state = connection::phase::connected;
                epoll_event e{EPOLLIN, {.u64 = i}};
                if (::epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &e) != 0) throw system_failure("epoll_ctl");
                ++done;
            });
        }
    }

    // Sends the upgrade request on every connected socket from `first` on
    // and waits until each has its 101.
    void upgrade(std::size_t first, steady::duration limit) {
        auto const request =
            "GET " + target_ + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port_) +
            "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        for (std::size_t i = first; i < conns_.size(); ++i) {
            send_all(conns_[i], request);
            conns_[i].state = connection::phase::upgrading;
        }
        auto const deadline = steady::now() + limit;
        while (count(connection::phase::upgrading) > 0) {
            wait_events(deadline, [&](std::size_t i, std::uint32_t) { read_ready(i); });
        }
        if (auto const lost = count(connection::phase::closed); lost > 0)
            throw std::runtime_error{std::to_string(lost) + " connections were closed during the upgrade"};
    }

    // Reads until every connection satisfies `done` (or `limit` passes:
    // throws, naming how many did).
    void run_until(std::function<bool(connection const&)> const& done, steady::duration limit,
                   char const* what) {
        auto const deadline = steady::now() + limit;
        auto const all_done = [&] {
            return std::all_of(conns_.begin(), conns_.end(), [&](connection const& c) { return done(c); });
        };
        while (!all_done()) {
            if (steady::now() >= deadline) {
                auto const n =
                    std::count_if(conns_.begin(), conns_.end(), [&](connection const& c) { return done(c); });
                throw std::runtime_error{std::string{what} + ": only " + std::to_string(n) + " of " +
                                         std::to_string(conns_.size()) + " connections within the limit"};
            }
            wait_events(deadline, [&](std::size_t i, std::uint32_t) { read_ready(i); });
        }
    }

    void close_all() {
        for (auto& c : conns_)
            if (c.fd >= 0) {
                ::close(c.fd);
                c.fd = -1;
                c.state = connection::phase::closed;
            }
    }

private:
    std::size_t count(connection::phase p) const {
        return static_cast<std::size_t>(
            std::count_if(conns_.begin(), conns_.end(), [p](connection const& c) { return c.state == p; }));
    }

    void open_socket(std::size_t i) {
        auto& c = conns_[i];
        c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c.fd < 0) throw system_failure("socket (connection " + std::to_string(i) + ")");
        int const one = 1;
        ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port_);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(c.fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 &&
            errno != EINPROGRESS)
            throw system_failure("connect (connection " + std::to_string(i) + ")");
        epoll_event e{EPOLLOUT, {.u64 = i}};
        if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &e) != 0) throw system_failure("epoll_ctl");
    }

    // A short write on a fresh socket is not expected; wait for room if it happens.
    static void send_all(connection& c, std::string_view bytes) {
        while (!bytes.empty()) {
            auto const n = ::send(c.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n > 0) {
                bytes.remove_prefix(static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                pollfd p{c.fd, POLLOUT, 0};
                ::poll(&p, 1, 1000);
                continue;
            }
            throw system_failure("send");
        }
    }

    void wait_events(steady::time_point deadline,
                     std::function<void(std::size_t, std::uint32_t)> const& on_event) {
        auto const left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
        if (left <= 0) throw std::runtime_error{"timed out"};
        epoll_event events[1024];
        int const n = ::epoll_wait(epoll_, events, 1024, static_cast<int>(std::min<long long>(left, 1000)));
        if (n < 0 && errno != EINTR) throw system_failure("epoll_wait");
        for (int k = 0; k < n; ++k) on_event(events[k].data.u64, events[k].events);
    }

    void mark_closed(connection& c) {
        ::epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
        ::close(c.fd);
        c.fd = -1;
        c.state = connection::phase::closed;
    }

    void read_ready(std::size_t i) {
        auto& c = conns_[i];
        if (c.fd < 0) return;
        char buffer[64 << 10];
        for (;;) {
            auto const n = ::recv(c.fd, buffer, sizeof buffer, 0);
            if (n > 0) {
                c.in.append(buffer, static_cast<std::size_t>(n));
                if (static_cast<std::size_t>(n) < sizeof buffer) break;
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            parse(c);
            mark_closed(c);  // the server ended the connection
            return;
        }
        parse(c);
    }

    void parse(connection& c) {
        if (c.state == connection::phase::upgrading) {
            auto const end = c.in.find("\r\n\r\n");
            if (end == std::string::npos) return;
            if (!c.in.starts_with("HTTP/1.1 101"))
                throw std::runtime_error{"upgrade refused: " + c.in.substr(0, c.in.find("\r\n"))};
            c.in.erase(0, end + 4);
            c.state = connection::phase::open;
        }
        if (c.state != connection::phase::open) return;
        for (;;) {  // server frames: unmasked
            if (c.in.size() < 2) return;
            auto const b0 = static_cast<std::uint8_t>(c.in[0]);
            std::uint64_t length = static_cast<std::uint8_t>(c.in[1]) & 0x7f;
            std::size_t header = 2;
            if (length == 126) {
                if (c.in.size() < 4) return;
                length = (std::uint64_t{static_cast<std::uint8_t>(c.in[2])} << 8) |
                         static_cast<std::uint8_t>(c.in[3]);
                header = 4;
            } else if (length == 127) {
                if (c.in.size() < 10) return;
                length = 0;
                for (std::size_t k = 2; k < 10; ++k)
                    length = (length << 8) | static_cast<std::uint8_t>(c.in[k]);
                header = 10;
            }
            if (c.in.size() < header + length) return;
            std::string_view const payload{c.in.data() + header, static_cast<std::size_t>(length)};
            auto const opcode = b0 & 0x0f;
            if (opcode == 0x1 || opcode == 0x2) {
                if (c.messages++ == 0) c.first_message = std::string{payload};
            } else if (opcode == 0x9) {
                send_all(c, client_frame(0xA, payload));
            } else if (opcode == 0x8) {
                c.close_received = true;
                c.close_code = payload.size() >= 2 ? (static_cast<std::uint8_t>(payload[0]) << 8) |
                                                         static_cast<std::uint8_t>(payload[1])
                                                   : 1005;
                std::string code;
                if (payload.size() >= 2) code.assign(payload.substr(0, 2));
                send_all(c, client_frame(0x8, code));  // the close handshake's reply
            }
            c.in.erase(0, header + static_cast<std::size_t>(length));
        }
    }

    std::uint16_t port_;
    std::string target_;
    int epoll_ = -1;
    std::vector<connection> conns_;
};

std::uint16_t port_of(std::string const& url) {
    auto const host_start = url.find("://") + 3;
    auto const colon = url.find(':', host_start);
    return static_cast<std::uint16_t>(std::stoul(url.substr(colon + 1)));
}

// --- one server's run ------------------------------------------------------------

struct scale_row {
    std::string server;
    std::size_t connections = 0;
    double connect_s = 0, upgrade_s = 0;
    double rss_idle0_kib = 0, rss_n_kib = 0, rss_peak_kib = 0;
    double broadcast_ms = 0;
    std::optional<double> admin_ms{};       // mock: GET /__admin/connections at N
    std::optional<double> rss_after_kib{};  // mock: once every client has left
    double per_connection_kib() const { return (rss_n_kib - rss_idle0_kib) / double(connections); }
};

struct settings {
    std::string mock_binary, replay_binary;
    std::filesystem::path dir;
    std::size_t connections = 10'000;
    std::size_t frames = 10;
    std::size_t window = 256;
};

constexpr std::string_view k_event =
    R"({"call_id": 5823519046647808, "state": "ringing", "direction": "inbound", "external_number": "+14155550142",)"
    R"( "internal_number": "+14155550100", "date_started": 1767225600412, "event_timestamp": 1767225601250})";

scale_row run_mock(settings const& s) {
    scale_row row;
    row.server = "dialpad-mock";
    row.connections = s.connections;
    child_process server{
        {s.mock_binary, "--port", "0", "--api-key", "scale-key", "--guide", "never", "--log-level", "warn"}};
    auto const ready_line = server.read_line(10s);
    if (!ready_line) throw std::runtime_error{"dialpad-mock printed no ready line within 10 s"};
    auto const ready = nlohmann::json::parse(*ready_line);
    auto const http = ready.at("http").get<std::string>();
    web::header_map const auth{{"Authorization", "Bearer scale-key"}};
    auto const created = web::fetch("POST", http + "/api/v2/websockets", auth, R"({})");
    if (created.status != 200)
        throw std::runtime_error{"creating the websocket: HTTP " + std::to_string(created.status)};
    auto const websocket = nlohmann::json::parse(created.body);
    auto const subscribed =
        web::fetch("POST", http + "/api/v2/subscriptions/call", auth,
                   R"({"endpoint_id":)" + websocket.at("id").dump() + R"(,"call_states":["all"]})");
    if (subscribed.status != 200)
        throw std::runtime_error{"subscribing: HTTP " + std::to_string(subscribed.status)};
    auto const url = websocket.at("websocket_url").get<std::string>();
    auto const target = url.substr(url.find("/events/"));
    row.rss_idle0_kib = settled_rss_kib(server.pid());

    client_fleet fleet{port_of(http), target};
    auto const started = steady::now();
    fleet.connect(s.connections, s.window, 120s);
    row.connect_s = seconds_since(started);
    auto const upgrading = steady::now();
    fleet.upgrade(0, 120s);
    row.upgrade_s = seconds_since(upgrading);

    // The admin API at N: every connection listed (polled: the last ones
    // may still be registering as their 101 arrives).
    std::size_t listed = 0;
    for (auto const deadline = steady::now() + 30s; steady::now() < deadline;) {
        auto const asked = steady::now();
        auto const answer = web::fetch("GET", http + "/__admin/connections");
        row.admin_ms = seconds_since(asked) * 1e3;
        if (answer.status != 200)
            throw std::runtime_error{"GET /__admin/connections: HTTP " + std::to_string(answer.status)};
        listed = nlohmann::json::parse(answer.body).at("connections").size();
        if (listed == s.connections) break;
    }
    if (listed != s.connections)
        throw std::runtime_error{"/__admin/connections lists " + std::to_string(listed) + " of " +
                                 std::to_string(s.connections)};
    row.rss_n_kib = settled_rss_kib(server.pid());

    nlohmann::json const body{{"type", "call"}, {"raw", std::string{k_event}}};
    auto const sent = steady::now();
    auto const delivered = web::fetch("POST", http + "/__admin/events", {}, body.dump());
    if (delivered.status != 200)
        throw std::runtime_error{"POST /__admin/events: HTTP " + std::to_string(delivered.status)};
    fleet.run_until([](connection const& c) { return c.messages >= 1; }, 60s, "the event reached");
    row.broadcast_ms = seconds_since(sent) * 1e3;
    auto const reached = nlohmann::json::parse(delivered.body).at("delivered").size();
    for (std::size_t i = 0; i < fleet.size(); ++i)
        if (fleet.at(i).first_message != k_event || fleet.at(i).messages != 1)
            throw std::runtime_error{"connection " + std::to_string(i) +
                                     " did not get exactly the event's bytes"};
    if (reached != s.connections)
        throw std::runtime_error{"the mock says it delivered to " + std::to_string(reached) + " connections"};
    row.rss_peak_kib = status_kib(server.pid(), "VmHWM");

    // Everyone leaves: what the mock keeps afterwards.
    fleet.close_all();
    for (auto const deadline = steady::now() + 30s; steady::now() < deadline;
         std::this_thread::sleep_for(50ms))
        if (nlohmann::json::parse(web::fetch("GET", http + "/__admin/connections").body)
                .at("connections")
                .empty()) {
            row.rss_after_kib = settled_rss_kib(server.pid());
            break;
        }
    return row;
}

// A session of `count` call events 1 ms apart in a fresh archive.
void write_session(std::string const& path, std::size_t count) {
    auto const target = bench::fresh_archive(path, "connection-scale");
    archive::frame_writer writer{path, target.session};
    archive::connection_spec spec;
    spec.info.scope = archive::token_scope::websocket;
    auto const connection = writer.open_connection(spec);
    auto const frames = bench::make_call_frames(count);
    for (std::size_t i = 0; i < count; ++i) {
        auto const offset = static_cast<std::int64_t>(i) * 1'000'000;
        writer.write_frame(connection, archive::frame_kind::event, offset, 1767225600000000000 + offset,
                           frames[i]);
    }
    writer.close();
}

scale_row run_replay(settings const& s, std::string const& archive_path) {
    scale_row row;
    row.server = "dialpad-replay";
    row.connections = s.connections;
    auto const total = std::to_string(s.connections + 1);  // the last one opens the gate
    auto const report =
        (s.dir / ("connection-scale-report-" + std::to_string(::getpid()) + ".json")).string();
    child_process server{{s.replay_binary, "serve", archive_path, "--port", "0", "--mode", "broadcast",
                          "--speed", "max", "--wait-clients", total, "--exit-after", total, "--report",
                          report, "--log-level", "warn"}};
    auto const ready_line = server.read_line(10s);
    if (!ready_line) throw std::runtime_error{"dialpad-replay printed no ready line within 10 s"};
    auto const ws = nlohmann::json::parse(*ready_line).at("ws").get<std::string>();
    row.rss_idle0_kib = settled_rss_kib(server.pid());

    client_fleet fleet{port_of(ws), "/events/scale-token"};
    auto const started = steady::now();
    fleet.connect(s.connections, s.window, 120s);
    row.connect_s = seconds_since(started);
    auto const upgrading = steady::now();
    fleet.upgrade(0, 120s);
    row.upgrade_s = seconds_since(upgrading);
    row.rss_n_kib = settled_rss_kib(server.pid());

    // The one more client that starts the shared timeline.
    auto const opened = steady::now();
    fleet.connect(1, 1, 10s);
    fleet.upgrade(s.connections, 10s);
    auto const frames = s.frames;
    fleet.run_until([frames](connection const& c) { return c.messages >= frames && c.close_received; }, 120s,
                    "the whole session reached");
    row.broadcast_ms = seconds_since(opened) * 1e3;
    for (std::size_t i = 0; i < fleet.size(); ++i)
        if (fleet.at(i).messages != frames || fleet.at(i).close_code != 1000)
            throw std::runtime_error{"connection " + std::to_string(i) + " got " +
                                     std::to_string(fleet.at(i).messages) + " frames and close " +
                                     std::to_string(fleet.at(i).close_code)};
    row.rss_peak_kib = status_kib(server.pid(), "VmHWM");
    // It exits once every client has finished the close handshake.
    fleet.run_until([](connection const& c) { return c.state == connection::phase::closed; }, 60s,
                    "the server ended");
    auto const exit = server.wait_exit(60s);
    if (!exit || !WIFEXITED(*exit) || WEXITSTATUS(*exit) != 0)
        throw std::runtime_error{"dialpad-replay did not exit 0 after its last client"};
    std::ifstream in{report};
    auto const totals = nlohmann::json::parse(in).at("totals");
    std::filesystem::remove(report);
    if (totals.at("frames").get<std::size_t>() != (s.connections + 1) * frames ||
        totals.at("finished").get<std::size_t>() != s.connections + 1)
        throw std::runtime_error{"dialpad-replay's report: " + totals.dump()};
    return row;
}

void print_row(scale_row const& r) {
    auto const mib = [](double kib) { return kib / 1024.0; };
    std::printf("%-14s | %6zu | %9.2f | %9.2f | %9.1f | %9.1f | %9.1f | %7.2f | %9.1f | %s | %s\n",
                r.server.c_str(), r.connections, r.connect_s, r.upgrade_s, mib(r.rss_idle0_kib),
                mib(r.rss_n_kib), mib(r.rss_peak_kib), r.per_connection_kib(), r.broadcast_ms,
                r.admin_ms ? (std::to_string(int(*r.admin_ms)) + " ms").c_str() : "-",
                r.rss_after_kib ? (std::to_string(int(mib(*r.rss_after_kib))) + " MiB").c_str() : "-");
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    cli::option_parser parser{
        "connection_scale", "[options]",
        "Opens N websocket connections on dialpad-mock and dialpad-replay (separate processes): "
        "time to connect and upgrade them all, server memory per idle connection, time for a "
        "broadcast to reach all."};
    cli::add_standard_options(parser);
    parser.value("connections", "N", "Concurrent websocket connections per server.", "10000")
        .value("servers", "LIST", "Which servers: mock, replay, or both, comma separated.", "mock,replay")
        .value("frames", "F", "Frames in the replayer's session.", "10")
        .value("window", "W", "TCP handshakes in flight at once while connecting.", "256")
        .value("mock-binary", "PATH", "dialpad-mock to measure.",
               "../mockserver/dialpad-mock from this binary")
        .value("replay-binary", "PATH", "dialpad-replay to measure.",
               "../replayer/dialpad-replay from this binary")
        .value("dir", "DIR", "Where the scratch archive goes.", "the system temp directory");
    return cli::run_program(argc, argv, parser, [](cli::parsed_args const& args) {
        log_config quiet;
        quiet.level = log_level::warn;
        configure_logging(quiet);
        auto const here = std::filesystem::read_symlink("/proc/self/exe").parent_path();
        settings s;
        s.mock_binary = args.value("mock-binary")
                            .value_or((here / "../mockserver/dialpad-mock").lexically_normal().string());
        s.replay_binary = args.value("replay-binary")
                              .value_or((here / "../replayer/dialpad-replay").lexically_normal().string());
        s.dir = args.value("dir").value_or(std::filesystem::temp_directory_path().string());
        s.connections = std::stoul(args.value("connections").value_or("10000"));
        s.frames = std::stoul(args.value("frames").value_or("10"));
        s.window = std::stoul(args.value("window").value_or("256"));
        if (s.connections == 0 || s.frames == 0 || s.window == 0)
            throw cli::usage_error{"--connections, --frames and --window must be above 0"};
        std::vector<std::string> servers;
        std::istringstream list{args.value("servers").value_or("mock,replay")};
        for (std::string item; std::getline(list, item, ',');) {
            if (item != "mock" && item != "replay")
                throw cli::usage_error{"--servers takes mock and replay, not '" + item + "'"};
            servers.push_back(item);
        }

        // This process holds N sockets, each server N more (plus a few):
        // they inherit the limit.
        auto const limit = raise_fd_limit();
        constexpr std::size_t k_spare = 64;
        if (limit < s.connections + 1 + k_spare) {
            auto const fitted = limit > 2 * k_spare ? static_cast<std::size_t>(limit) - 1 - k_spare : 1;
            std::printf("note: the file-descriptor hard limit is %llu: %zu connections instead of %zu\n",
                        static_cast<unsigned long long>(limit), fitted, s.connections);
            s.connections = fitted;
        }
        std::printf("%zu connections per server; RLIMIT_NOFILE %llu; replay session %zu frames of ~1 KB\n",
                    s.connections, static_cast<unsigned long long>(limit), s.frames);
        std::printf(
            "server         | conns  | connect s | upgrade s | RSS 0 MiB | RSS N MiB | peak MiB  | KiB/conn |"
            " bcast ms  | /__admin/connections | RSS after all left\n");
        std::fflush(stdout);

        auto const archive_path =
            (s.dir / ("connection-scale-" + std::to_string(::getpid()) + ".db")).string();
        struct cleanup {
            std::string path;
            ~cleanup() {
                for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
            }
        } scratch{archive_path};
        int failures = 0;
        for (auto const& which : servers) {
            try {
                if (which == "mock") {
                    print_row(run_mock(s));
                } else {
                    write_session(archive_path, s.frames);
                    print_row(run_replay(s, archive_path));
                }
            } catch (std::exception const& e) {
                std::printf("%-14s | failed: %s\n", which == "mock" ? "dialpad-mock" : "dialpad-replay",
                            e.what());
                std::fflush(stdout);
                ++failures;
            }
        }
        std::printf("target: <= 20 KiB of server RSS per idle connection\n");
        return failures == 0 ? 0 : 1;
    });
}
