#include "tests/support/ws_test_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <doctest/doctest.h>

namespace harness::test {
namespace net = boost::asio;

ws_test_client::ws_test_client(std::string url, web::client_options options)
    : ioc_{std::make_unique<net::io_context>(1)} {
    auto run = [this, url, options]() -> net::awaitable<void> {
        try {
            auto ws = co_await web::ws_connection::connect(url, options);
            ws_.emplace(std::move(ws));
            {
                std::lock_guard lock{mutex_};
                connected_ = true;
            }
            changed_.notify_all();
            for (;;) {
                auto message = co_await ws_->read();
                std::lock_guard lock{mutex_};
                if (!message) {
                    close_ = ws_->peer_close();
                    ended_ = true;
                    break;
                }
                messages_.push_back(std::move(*message));
                changed_.notify_all();
            }
        } catch (...) {
            std::lock_guard lock{mutex_};
            failure_ = std::current_exception();
            ended_ = true;
        }
        changed_.notify_all();
    };
    // The lambda object outlives the coroutine: co_spawn keeps it until the end.
    net::co_spawn(*ioc_, std::move(run), [](std::exception_ptr) {});
    thread_ = std::thread{[this] { ioc_->run(); }};
    std::unique_lock lock{mutex_};
    changed_.wait_for(lock, std::chrono::seconds{20}, [&] { return connected_ || ended_; });
    if (failure_) {
        lock.unlock();
        ioc_->stop();
        thread_.join();
        std::rethrow_exception(failure_);
    }
    REQUIRE_MESSAGE(connected_, "websocket client did not connect");
}

ws_test_client::~ws_test_client() {
    net::post(*ioc_, [this] {
        if (ws_) ws_->abort();
    });
    thread_.join();
}

std::vector<std::string> ws_test_client::wait_for_messages(std::size_t count, std::chrono::seconds limit) {
    std::unique_lock lock{mutex_};
    bool const arrived = changed_.wait_for(lock, limit, [&] { return messages_.size() >= count || ended_; });
    INFO("got " << messages_.size() << " of " << count << " messages");
    CHECK(arrived);
    CHECK(messages_.size() >= count);
    return messages_;
}

bool ws_test_client::wait_for_count(std::size_t count, std::chrono::seconds limit) {
    std::unique_lock lock{mutex_};
    return changed_.wait_for(lock, limit, [&] { return messages_.size() >= count || ended_; }) &&
           messages_.size() >= count;
}

web::close_status ws_test_client::wait_closed(std::chrono::seconds limit) {
    std::unique_lock lock{mutex_};
    bool const ended = changed_.wait_for(lock, limit, [&] { return ended_; });
    CHECK_MESSAGE(ended, "the connection did not end");
    return close_;
}

std::vector<std::string> ws_test_client::messages() const {
    std::lock_guard lock{mutex_};
    return messages_;
}

bool ws_test_client::closed() const {
    std::lock_guard lock{mutex_};
    return ended_;
}

void ws_test_client::send(std::string text) {
    auto payload = std::make_shared<std::string const>(std::move(text));
    net::co_spawn(
        *ioc_,
        [this, payload]() -> net::awaitable<void> {
            if (ws_) co_await ws_->write(payload);
        },
        [](std::exception_ptr) {});
}

}  // namespace harness::test
