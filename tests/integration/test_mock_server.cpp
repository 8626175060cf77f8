// dialpad-mock as a server: TLS, slow and malformed clients, and the real
// binary started as a process (ready line, a call, SIGTERM).

#include "tests/support/mock_fixture.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/ws_test_client.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <csignal>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

using harness::test::mock_fixture;
using harness::test::temp_dir;
using nlohmann::json;
using namespace std::chrono_literals;

extern char** environ;

namespace {

// A raw TCP connection to 127.0.0.1:port, for clients no HTTP library would be.
class raw_connection {
public:
    explicit raw_connection(std::uint16_t port) : fd_{::socket(AF_INET, SOCK_STREAM, 0)} {
        REQUIRE(fd_ >= 0);
        int const small = 4096;  // a small receive buffer: a client that stops reading backs up sooner
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        timeval limit{10, 0};  // bounds every read: a hang fails the test instead
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    }
    ~raw_connection() { ::close(fd_); }
    void send(std::string_view bytes) { REQUIRE(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == ssize_t(bytes.size())); }
    // Whatever arrives next (one read).
    std::string read_some() {
        char buffer[4096];
        auto const n = ::recv(fd_, buffer, sizeof buffer, 0);
        return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string{};
    }
    // Everything until the server closes the connection (or the read limit).
    std::string read_until_closed() {
        std::string all;
        char buffer[4096];
        for (;;) {
            auto const n = ::recv(fd_, buffer, sizeof buffer, 0);
            if (n <= 0) break;
            all.append(buffer, static_cast<std::size_t>(n));
        }
        return all;
    }

private:
    int fd_;
};

}  // namespace

TEST_CASE("mock server: https with a certificate made at run time") {
    temp_dir dir;
    auto const cert = dir.file("cert.pem"), key = dir.file("key.pem");
    auto const command = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "
                         "/CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
                         key + " -out " + cert + " 2>/dev/null";
    REQUIRE(std::system(command.c_str()) == 0);

    auto options = mock_fixture::default_options();
    options.tls_certificate_file = cert;
    options.tls_private_key_file = key;
    mock_fixture mock{options};
    CHECK(mock.endpoints().http.starts_with("https://127.0.0.1:"));
    CHECK(mock.endpoints().ws.starts_with("wss://127.0.0.1:"));

    harness::web::client_options trust;
    trust.ca_file = cert;
    auto const created = mock.call("POST", "/api/v2/websockets", "key-a", "{}", {}, trust);
    REQUIRE(created.status == 200);
    CHECK(json::parse(created.body)["websocket_url"].get<std::string>().starts_with("wss://"));

    // Verification is on by default: an unknown certificate is refused.
    CHECK_THROWS_WITH_AS(mock.call("GET", "/api/v2/websockets"), doctest::Contains("TLS handshake"),
                         harness::web::client_error);
    // Plain HTTP on the TLS port fails for that client only.
    raw_connection plain{mock.endpoints().port};
    plain.send("GET /api/v2/websockets HTTP/1.1\r\nHost: x\r\n\r\n");
    plain.read_until_closed();
    CHECK(mock.call("GET", "/api/v2/websockets", "key-a", "", {}, trust).status == 200);
}

TEST_CASE("mock server: slow and malformed clients never hold up others") {
    auto options = mock_fixture::default_options();
    options.request_timeout = 300ms;
    mock_fixture mock{options};

    raw_connection slow{mock.endpoints().port};
    slow.send("GET /api/v2/webso");  // and then nothing more
    CHECK(mock.call("GET", "/api/v2/websockets").status == 200);
    CHECK(slow.read_until_closed().empty());  // dropped after the request timeout, no answer owed

    raw_connection garbage{mock.endpoints().port};
    garbage.send("THIS IS NOT HTTP\r\n\r\n");
    auto const answer = garbage.read_until_closed();
    CHECK(answer.starts_with("HTTP/1.1 400"));
    CHECK(answer.find(R"("code":400)") != std::string::npos);

    raw_connection huge_header{mock.endpoints().port};
    huge_header.send("GET / HTTP/1.1\r\nX-Big: " + std::string(64 << 10, 'a') + "\r\n\r\n");
    CHECK(huge_header.read_until_closed().starts_with("HTTP/1.1 431"));

    CHECK(mock.call("GET", "/api/v2/websockets").status == 200);
}

// dialpad-mock started as a process with `arguments`; stopped with SIGTERM.
class mock_process {
public:
    explicit mock_process(std::vector<std::string> arguments) {
        int out[2];
        REQUIRE(::pipe(out) == 0);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&actions, out[0]);
        arguments.insert(arguments.begin(), DIALPAD_MOCK_PATH);
        std::vector<char*> argv;
        for (auto& a : arguments) argv.push_back(a.data());
        argv.push_back(nullptr);
        REQUIRE(posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) == 0);
        posix_spawn_file_actions_destroy(&actions);
        ::close(out[1]);
        stdout_ = out[0];
        pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
        REQUIRE(pidfd_ >= 0);
        // The ready line, read with a bound so a broken start fails rather than hangs.
        pollfd readable{stdout_, POLLIN, 0};
        while (line_.find('\n') == std::string::npos && ::poll(&readable, 1, 10'000) == 1) {
            char c[256];
            auto const n = ::read(stdout_, c, sizeof c);
            if (n <= 0) break;
            line_.append(c, static_cast<std::size_t>(n));
        }
        REQUIRE(line_.find('\n') != std::string::npos);
    }
    ~mock_process() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        ::close(pidfd_);
        ::close(stdout_);
    }
    std::string const& ready_line() const { return line_; }
    // SIGTERM, then the exit status (-1 if it did not exit within `limit_ms`).
    int terminate(int limit_ms = 5'000) {
        REQUIRE(::kill(pid_, SIGTERM) == 0);
        pollfd done{pidfd_, POLLIN, 0};
        if (::poll(&done, 1, limit_ms) != 1) return -1;
        int status = -1;
        REQUIRE(::waitpid(pid_, &status, 0) == pid_);
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

private:
    pid_t pid_ = -1;
    int stdout_ = -1;
    int pidfd_ = -1;
    std::string line_;
};

TEST_CASE("mock server: the binary prints its ready line, serves, and exits 0 on SIGTERM") {
    mock_process mock{{"--port", "0", "--api-key", "secret-key@acme", "--log-level", "warn"}};
    auto const& line = mock.ready_line();
    CHECK(line.find('\n') == line.size() - 1);  // exactly one line
    auto const ready = json::parse(line);
    CHECK(ready["ready"] == true);
    CHECK(ready["api_keys"] == json({"secret-key"}));
    auto const http = ready["http"].get<std::string>();
    CHECK(ready["ws"] == "ws" + http.substr(4) + "/events/");
    CHECK(ready["admin"] == http + "/__admin");

    auto const response =
        harness::web::fetch("POST", http + "/api/v2/websockets", {{"Authorization", "Bearer secret-key"}}, "{}");
    CHECK(response.status == 200);
    CHECK(mock.terminate() == 0);
}

TEST_CASE("mock server: keys from --api-keys-file are accepted and never printed") {
    temp_dir dir;
    auto const keys_file = (dir.path() / "keys").string();
    {
        std::ofstream out{keys_file};
        out << "# the team's keys\nfile-key-one@acme, file-key-two@beta\n";
    }
    mock_process mock{{"--port", "0", "--api-key", "listed-key@acme", "--api-keys-file", keys_file, "--log-level",
                       "warn"}};
    auto const& line = mock.ready_line();
    CHECK(line.find("file-key") == std::string::npos);
    auto const ready = json::parse(line);
    CHECK(ready["api_keys"] == json({"listed-key"}));
    auto const http = ready["http"].get<std::string>();
    auto const create = [&](std::string const& key) {
        return harness::web::fetch("POST", http + "/api/v2/websockets", {{"Authorization", "Bearer " + key}}, "{}");
    };
    CHECK(create("file-key-one").status == 200);
    CHECK(create("listed-key").status == 200);
    CHECK(create("file-key-two").status == 200);
    CHECK(create("dev-key").status == 401);  // the default key only stands in for none
    // Companies as given: acme's two keys see both websockets, beta's one.
    auto const list = [&](std::string const& key) {
        auto const answer = harness::web::fetch("GET", http + "/api/v2/websockets", {{"Authorization", "Bearer " + key}});
        return json::parse(answer.body)["items"].size();
    };
    CHECK(list("file-key-one") == 2);
    CHECK(list("file-key-two") == 1);
    CHECK(mock.terminate() == 0);
}

TEST_CASE("mock server: the binary on a virtual clock cuts a connection when told an hour passed") {
    mock_process mock{{"--port", "0", "--clock", "virtual", "--time-scale", "0", "--log-level", "warn"}};
    auto const ready = json::parse(mock.ready_line());
    auto const http = ready["http"].get<std::string>();
    harness::web::header_map const auth{{"Authorization", "Bearer dev-key"}};
    auto const ws = json::parse(harness::web::fetch("POST", http + "/api/v2/websockets", auth, "{}").body);
    harness::test::ws_test_client client{ws["websocket_url"].get<std::string>()};
    harness::web::fetch("GET", http + "/__admin/clock");  // a round trip: the connection is registered
    auto const advanced = harness::web::fetch("POST", http + "/__admin/clock/advance", {}, R"({"seconds":3600})");
    CHECK(advanced.status == 200);
    CHECK(client.wait_closed().abrupt);
    CHECK(mock.terminate() == 0);
}

TEST_CASE("mock server: a consumer that stops reading is cut off without slowing a fast one") {
    auto options = mock_fixture::default_options();
    options.feed.queue_limit = 16;
    mock_fixture mock{options};
    auto const ws = mock.call_json("POST", "/api/v2/websockets");
    mock.call_json("POST", "/api/v2/subscriptions/call", "key-a", R"({"endpoint_id":)" + ws["id"].dump() + "}");
    auto const url = ws["websocket_url"].get<std::string>();
    auto const target = url.substr(url.find("/events/"));

    // The slow one: upgrades by hand, then never reads again.
    raw_connection slow{mock.endpoints().port};
    slow.send("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    auto const switching = slow.read_some();
    REQUIRE(switching.starts_with("HTTP/1.1 101"));
    harness::test::ws_test_client fast{url};
    mock.call("GET", "/api/v2/websockets");
    REQUIRE(mock.call_json("GET", "/__admin/connections", "")["connections"].size() == 2);

    std::string const padding(64 << 10, 'x');
    constexpr int k_events = 300;  // ~19 MB: more than any socket buffers hold
    // The fast client is never more than a few frames behind, however its
    // thread is scheduled: only the one that stops reading can fill its queue.
    constexpr int k_fast_lead = 4;
    for (int i = 0; i < k_events; ++i) {
        if (i >= k_fast_lead) REQUIRE(fast.wait_for_count(i - k_fast_lead, 60s));
        json event{{"call_id", i + 1}, {"state", "ringing"}, {"custom_data", padding}};
        json body{{"type", "call"}, {"raw", event.dump()}};
        mock.call("POST", "/__admin/events", "", body.dump());
    }
    CHECK(fast.wait_for_messages(k_events, 60s).size() == k_events);
    // The slow connection is gone; the fast one is still there with everything sent.
    json connections;
    for (int attempt = 0; attempt < 100; ++attempt) {  // round trips, not sleeps: the abort is already under way
        connections = mock.call_json("GET", "/__admin/connections", "")["connections"];
        if (connections.size() == 1) break;
    }
    REQUIRE(connections.size() == 1);
    CHECK(connections[0]["frames_sent"] == k_events);
    CHECK(connections[0]["dropped"] == 0);
}
