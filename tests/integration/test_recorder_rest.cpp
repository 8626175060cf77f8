// dialpad-record's REST calls against an in-process server that answers what
// each case scripts: every failure is one line naming the call and the cause,
// never the API key, and is permanent (ends the recording) or worth retrying
// as the status says. Then the engine: set-up retries passing failures and
// gives up at once on a permanent one, closing the archive's session.
#include "core/archive/archive.hpp"
#include "core/clock/clock.hpp"
#include "core/web/http_message.hpp"
#include "core/web/http_server.hpp"
#include "recorder/dialpad_rest.hpp"
#include "recorder/recorder.hpp"
#include "recorder/subscription_spec.hpp"
#include "tests/support/temp_dir.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace harness;
using namespace std::chrono_literals;
using harness::test::temp_dir;

namespace {

constexpr char const* k_key = "sk-test-SECRET-123";

struct seen_request {
    std::string method;
    std::string path;
    std::optional<std::string> authorization;
};

// An HTTP server on 127.0.0.1:0, on its own thread, answering with `script`
// (called on the server's thread with the request and the bound port). It
// remembers every request; wait_for() blocks, bounded, until they satisfy a
// condition.
class scripted_server {
public:
    using script = std::function<web::response(web::request const&, std::uint16_t port)>;

    explicit scripted_server(script answer)
        : answer_{std::move(answer)},
          server_{ioc_.get_executor(), web::server_options{}, [this](web::request& request) { return handle(request); }} {
        server_.start();
        port_ = server_.port();
        thread_ = std::thread{[this] { ioc_.run(); }};
    }
    ~scripted_server() {
        net::post(ioc_, [this] { server_.stop(); });
        thread_.join();
    }
    scripted_server(scripted_server const&) = delete;
    scripted_server& operator=(scripted_server const&) = delete;

    std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }

    std::vector<seen_request> requests() const {
        std::lock_guard lock{mutex_};
        return seen_;
    }
    // How many requests so far had this method and path.
    std::size_t count(std::string const& method, std::string const& path) const {
        std::lock_guard lock{mutex_};
        return count_locked(method, path);
    }
    // Waits until `done(counter)` holds, where counter(method, path) counts requests.
    template <class Condition>
    bool wait_for(Condition done, std::chrono::milliseconds limit) const {
        std::unique_lock lock{mutex_};
        auto const counter = [this](std::string const& method, std::string const& path) {
            return count_locked(method, path);
        };
        return changed_.wait_for(lock, limit, [&] { return done(counter); });
    }

private:
    web::response handle(web::request const& request) {
        {
            std::lock_guard lock{mutex_};
            seen_.push_back({request.method, request.path, request.header("Authorization")});
        }
        changed_.notify_all();
        return answer_(request, server_.port());
    }
    std::size_t count_locked(std::string const& method, std::string const& path) const {
        std::size_t n = 0;
        for (auto const& r : seen_)
            if (r.method == method && r.path == path) ++n;
        return n;
    }

    script answer_;
    net::io_context ioc_{1};
    web::server server_;
    std::uint16_t port_ = 0;
    std::thread thread_;
    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    std::vector<seen_request> seen_;
};

// Dialpad's error shape.
std::string dialpad_error(int status, std::string const& message) {
    return R"({"error":{"code":)" + std::to_string(status) + R"(,"message":")" + message + R"("}})";
}

recorder::dialpad_rest client_for(std::string const& base) {
    web::client_options options;
    options.timeout = 10s;
    return recorder::dialpad_rest{base, k_key, options};
}

// The rest_failure `call` throws; none when it returns (other exceptions propagate).
template <class Call>
std::optional<recorder::rest_failure> failure_of(Call call) {
    try {
        call();
    } catch (recorder::rest_failure const& e) {
        return e;
    }
    return std::nullopt;
}

// One line, naming the call, never the key.
void check_message(std::string const& message, std::string const& call) {
    INFO("message: " << message);
    CHECK_FALSE(message.empty());
    CHECK(message.find('\n') == std::string::npos);
    CHECK(message.find('\r') == std::string::npos);
    CHECK(message.find(call) != std::string::npos);
    CHECK(message.find(k_key) == std::string::npos);
    CHECK(message.find("SECRET") == std::string::npos);
}

// The three calls the recorder makes, with how each names itself.
struct rest_call {
    std::string name;
    std::function<void(recorder::dialpad_rest const&)> run;
};
std::vector<rest_call> all_calls() {
    return {
        {"POST /api/v2/websockets", [](recorder::dialpad_rest const& r) { r.create_websocket(std::string{"s3cret"}); }},
        {"GET /api/v2/websockets/57", [](recorder::dialpad_rest const& r) { r.get_websocket(57); }},
        {"POST /api/v2/subscriptions/call",
         [](recorder::dialpad_rest const& r) { r.create_subscription(57, recorder::parse_subscription_spec("call:all")); }},
    };
}

// A port nothing listens on: bound, read, closed.
std::uint16_t free_port() {
    net::io_context ioc;
    net::ip::tcp::acceptor acceptor{ioc, net::ip::tcp::endpoint{net::ip::make_address("127.0.0.1"), 0}};
    auto const port = acceptor.local_endpoint().port();
    acceptor.close();
    return port;
}

std::string websocket_json(std::uint16_t port) {
    return R"({"id":"57","websocket_url":"ws://127.0.0.1:)" + std::to_string(port) + R"(/events/x"})";
}

// The recorder on its own io_context thread; finished() looks without waiting.
class running_recorder {
public:
    explicit running_recorder(recorder::recorder_config config)
        : rec_{ioc_.get_executor(), std::move(config), system_clock_instance()} {
        done_ = done_promise_.get_future();
        boost::asio::co_spawn(ioc_, rec_.run(), [this](std::exception_ptr error, int code) {
            error_ = error;
            done_promise_.set_value(code);
        });
        thread_ = std::thread{[this] { ioc_.run(); }};
    }
    ~running_recorder() {
        if (thread_.joinable()) {
            boost::asio::post(ioc_, [this] { rec_.stop(); });
            thread_.join();
        }
    }
    running_recorder(running_recorder const&) = delete;
    running_recorder& operator=(running_recorder const&) = delete;

    bool finished() const { return done_.wait_for(0s) == std::future_status::ready; }
    // Runs to its own end within `limit`: its exit code.
    std::optional<int> wait_exit(std::chrono::milliseconds limit) {
        if (done_.wait_for(limit) != std::future_status::ready) return std::nullopt;
        thread_.join();
        if (error_) std::rethrow_exception(error_);
        return done_.get();
    }
    std::optional<int> stop() {
        boost::asio::post(ioc_, [this] { rec_.stop(); });
        return wait_exit(5s);
    }

private:
    boost::asio::io_context ioc_{1};
    recorder::recorder rec_;
    std::promise<int> done_promise_;
    std::future<int> done_;
    std::exception_ptr error_;
    std::thread thread_;
};

recorder::recorder_config engine_config(std::string const& archive_path, std::string const& api_base) {
    recorder::recorder_config c;
    c.archive_path = archive_path;
    c.session_name = "rest-failures";
    c.api_base = api_base;
    c.api_key = k_key;
    c.mode = recorder::source_mode::create;
    c.backoff_first = 10ms;
    c.backoff_cap = 50ms;
    c.durability_window = 0ms;
    c.tls.timeout = 10s;
    return c;
}

}  // namespace

TEST_CASE("recorder REST: 401, 403, 404 and 400 are permanent, named, and never show the key") {
    for (int const status : {401, 403, 404, 400}) {
        CAPTURE(status);
        scripted_server server{[status](web::request const&, std::uint16_t) {
            // The 401 echoes the key, as a careless service might: it must be scrubbed.
            auto const detail = status == 401 ? std::string{"bad key "} + k_key : std::string{"no such thing"};
            return web::response::json(status, dialpad_error(status, detail));
        }};
        auto const rest = client_for(server.base());
        for (auto const& call : all_calls()) {
            CAPTURE(call.name);
            auto const failure = failure_of([&] { call.run(rest); });
            REQUIRE(failure.has_value());
            CHECK(failure->permanent());
            CHECK_FALSE(failure->retry_after().has_value());
            std::string const message = failure->what();
            check_message(message, call.name);
            CHECK(message.find(std::to_string(status)) != std::string::npos);
            if (status == 401) CHECK(message.find("bad key") != std::string::npos);  // the detail kept, the key not
        }
        // The key did go out, as a bearer token: there was something to leak.
        auto const seen = server.requests();
        REQUIRE(seen.size() == 3);
        for (auto const& r : seen) CHECK(r.authorization == std::string{"Bearer "} + k_key);
    }
}

TEST_CASE("recorder REST: 429 is worth retrying after its Retry-After") {
    scripted_server server{[](web::request const& request, std::uint16_t) {
        auto response = web::response::json(429, dialpad_error(429, "slow down"));
        if (request.method == "POST") response.set_header("Retry-After", "7");
        return response;
    }};
    auto const rest = client_for(server.base());

    auto const failure = failure_of([&] { rest.create_websocket(std::nullopt); });
    REQUIRE(failure.has_value());
    CHECK_FALSE(failure->permanent());
    REQUIRE(failure->retry_after().has_value());
    CHECK(*failure->retry_after() == 7s);
    check_message(failure->what(), "POST /api/v2/websockets");
    CHECK(std::string{failure->what()}.find("429") != std::string::npos);

    // Without the header: still passing, no wait of its own.
    auto const bare = failure_of([&] { rest.get_websocket(57); });
    REQUIRE(bare.has_value());
    CHECK_FALSE(bare->permanent());
    CHECK_FALSE(bare->retry_after().has_value());
    check_message(bare->what(), "GET /api/v2/websockets/57");
}

TEST_CASE("recorder REST: 500 and 503 are passing: the service failed") {
    for (int const status : {500, 503}) {
        CAPTURE(status);
        scripted_server server{[status](web::request const&, std::uint16_t) {
            auto response = web::response::json(status, dialpad_error(status, "backend unavailable"));
            response.set_header("Retry-After", "3");  // only a 429's counts
            return response;
        }};
        auto const rest = client_for(server.base());
        for (auto const& call : all_calls()) {
            CAPTURE(call.name);
            auto const failure = failure_of([&] { call.run(rest); });
            REQUIRE(failure.has_value());
            CHECK_FALSE(failure->permanent());
            CHECK_FALSE(failure->retry_after().has_value());
            std::string const message = failure->what();
            check_message(message, call.name);
            CHECK(message.find("service failed") != std::string::npos);
            CHECK(message.find(std::to_string(status)) != std::string::npos);
        }
    }
}

TEST_CASE("recorder REST: an error message spread over lines still makes a one-line failure") {
    // Dialpad's message is the one piece of the service's text a failure quotes.
    scripted_server server{[](web::request const&, std::uint16_t) {
        return web::response::json(503, dialpad_error(503, "backend down\\nretry later\\r\\nsorry"));
    }};
    auto const failure = failure_of([&] { client_for(server.base()).create_websocket(std::nullopt); });
    REQUIRE(failure.has_value());
    CHECK_FALSE(failure->permanent());
    check_message(failure->what(), "POST /api/v2/websockets");
}

TEST_CASE("recorder REST: a 200 whose body is not a websocket is garbled JSON, worth retrying") {
    for (std::string const& body : {std::string{"not json"}, std::string{R"({"id":"57"})"}, std::string{"[]"},
                                   std::string{R"({"id":"fifty","websocket_url":"ws://127.0.0.1/events/x"})"}}) {
        CAPTURE(body);
        scripted_server server{[body](web::request const&, std::uint16_t) {
            web::response response;
            response.status = 200;
            response.body = body;
            response.set_header("Content-Type", "application/json");
            return response;
        }};
        auto const rest = client_for(server.base());
        auto const created = failure_of([&] { rest.create_websocket(std::nullopt); });
        REQUIRE(created.has_value());
        CHECK_FALSE(created->permanent());
        check_message(created->what(), "POST /api/v2/websockets");
        CHECK(std::string{created->what()}.find("garbled JSON") != std::string::npos);

        auto const got = failure_of([&] { rest.get_websocket(57); });
        REQUIRE(got.has_value());
        CHECK_FALSE(got->permanent());
        check_message(got->what(), "GET /api/v2/websockets/57");
        CHECK(std::string{got->what()}.find("garbled JSON") != std::string::npos);
    }
}

TEST_CASE("recorder REST: a websocket object without its id is garbled JSON too") {
    // `id` missing while websocket_url is there: parse_websocket_json must not read past the object.
    scripted_server server{[](web::request const&, std::uint16_t port) {
        return web::response::json(200, R"({"websocket_url":"ws://127.0.0.1:)" + std::to_string(port) + R"(/events/x"})");
    }};
    auto const failure = failure_of([&] { client_for(server.base()).create_websocket(std::nullopt); });
    REQUIRE(failure.has_value());
    CHECK_FALSE(failure->permanent());
    CHECK(std::string{failure->what()}.find("garbled JSON") != std::string::npos);
}

TEST_CASE("recorder REST: a refused connection is passing, one line naming 127.0.0.1") {
    auto const port = free_port();
    auto const rest = client_for("http://127.0.0.1:" + std::to_string(port));
    for (auto const& call : all_calls()) {
        CAPTURE(call.name);
        auto const failure = failure_of([&] { call.run(rest); });
        REQUIRE(failure.has_value());
        CHECK_FALSE(failure->permanent());
        CHECK_FALSE(failure->retry_after().has_value());
        std::string const message = failure->what();
        check_message(message, call.name);
        CHECK(message.find("127.0.0.1") != std::string::npos);
    }
}

TEST_CASE("recorder REST: set-up retries 503s, then goes on with the websocket it created") {
    std::mutex posts_mutex;
    int posts = 0;
    scripted_server server{[&](web::request const& request, std::uint16_t port) {
        if (request.method == "POST" && request.path == "/api/v2/websockets") {
            std::lock_guard lock{posts_mutex};
            if (++posts <= 2) return web::response::json(503, dialpad_error(503, "try again"));
            return web::response::json(200, websocket_json(port));
        }
        if (request.method == "GET" && request.path == "/api/v2/websockets/57")
            return web::response::json(200, websocket_json(port));
        return web::response::json(404, dialpad_error(404, "no upgrades here"));  // the event websocket
    }};
    temp_dir dir;
    running_recorder rec{engine_config(dir.file("retry.db"), server.base())};
    bool const reached = server.wait_for(
        [](auto const& count) {
            return count("POST", "/api/v2/websockets") >= 3 && count("GET", "/api/v2/websockets/57") >= 1;
        },
        10s);
    CHECK_FALSE(rec.finished());  // it did not give up on the passing failures
    REQUIRE(reached);
    CHECK(rec.stop() == 0);
    CHECK(server.count("POST", "/api/v2/websockets") == 3);  // created once, then only GETs
}

TEST_CASE("recorder REST: set-up gives up after setup_attempts passing failures") {
    scripted_server server{[](web::request const&, std::uint16_t) {
        return web::response::json(503, dialpad_error(503, "down"));
    }};
    temp_dir dir;
    auto config = engine_config(dir.file("give-up.db"), server.base());
    config.setup_attempts = 3;
    running_recorder rec{config};
    CHECK(rec.wait_exit(10s) == 1);
    CHECK(server.count("POST", "/api/v2/websockets") == 3);
}

TEST_CASE("recorder REST: a 401 at set-up ends the recording at once with exit 1 and a closed session") {
    scripted_server server{[](web::request const&, std::uint16_t) {
        return web::response::json(401, dialpad_error(401, std::string{"bad key "} + k_key));
    }};
    temp_dir dir;
    auto const path = dir.file("denied.db");
    {
        running_recorder rec{engine_config(path, server.base())};
        CHECK(rec.wait_exit(10s) == 1);
    }
    CHECK(server.count("POST", "/api/v2/websockets") == 1);  // permanent: not retried
    CHECK(server.requests().size() == 1);

    archive::archive store{path, archive::open_mode::read_only};
    auto const sessions = store.sessions();
    REQUIRE(sessions.size() == 1);
    CHECK(sessions[0].name == "rest-failures");
    CHECK(sessions[0].ended_wall_ns.has_value());
    CHECK(store.connections(sessions[0].id).empty());
}
