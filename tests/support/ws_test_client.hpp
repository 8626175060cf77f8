#pragma once
// A websocket client for tests: connects on its own thread and collects
// every message; the test waits for what it expects (bounded, never by
// sleeping a guessed time).

#include "core/web/ws_connection.hpp"

#include <chrono>
#include <condition_variable>
#include <exception>
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

class ws_test_client {
public:
    // Connects, or throws what the connection attempt threw (ws_refused...).
    explicit ws_test_client(std::string url, web::client_options options = {});
    ws_test_client(ws_test_client const&) = delete;
    ws_test_client& operator=(ws_test_client const&) = delete;
    ~ws_test_client();

    // Waits until at least `count` messages arrived; fails the test after `limit`.
    std::vector<std::string> wait_for_messages(std::size_t count, std::chrono::seconds limit = std::chrono::seconds{20});
    // The same wait without copying the messages: for tests that pace
    // themselves on the client's progress.
    bool wait_for_count(std::size_t count, std::chrono::seconds limit = std::chrono::seconds{20});
    // Waits until the connection ended and says how; fails the test after `limit`.
    web::close_status wait_closed(std::chrono::seconds limit = std::chrono::seconds{20});
    std::vector<std::string> messages() const;
    bool closed() const;
    void send(std::string text);

private:
    std::unique_ptr<boost::asio::io_context> ioc_;
    std::thread thread_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    bool connected_ = false;
    bool ended_ = false;
    std::exception_ptr failure_;
    std::vector<std::string> messages_;
    web::close_status close_;
    std::optional<web::ws_connection> ws_;  // touched on the client's thread only
};

}  // namespace harness::test
