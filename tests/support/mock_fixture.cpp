#include "tests/support/mock_fixture.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <doctest/doctest.h>

#include <future>

namespace harness::test {

mock::mock_options mock_fixture::default_options() {
    mock::mock_options options;
    options.port = 0;
    options.api_keys = {{"key-a", "acme"}, {"key-b", "globex"}};
    return options;
}

mock_fixture::mock_fixture(mock::mock_options options)
    : clock_{0.0, wall_time{std::chrono::seconds{k_fixture_start_unix_seconds}}},
      ioc_{std::make_unique<boost::asio::io_context>(1)} {
    server_ = std::make_unique<mock::mock_server>(ioc_->get_executor(), std::move(options), clock_, &clock_);
    endpoints_ = server_->start();
    thread_ = std::thread{[this] { ioc_->run(); }};
}

mock_fixture::~mock_fixture() {
    std::promise<void> stopped;
    boost::asio::post(*ioc_, [&] {
        server_->stop();
        stopped.set_value();
    });
    stopped.get_future().wait();
    thread_.join();  // run() returns once every connection has wound down
    server_.reset();
}

web::response mock_fixture::call(std::string const& method, std::string const& path, std::string const& key,
                                  std::string const& body, web::header_map headers,
                                  web::client_options const& options) const {
    if (!key.empty()) headers.emplace("Authorization", "Bearer " + key);
    if (!body.empty() && headers.find("Content-Type") == headers.end())
        headers.emplace("Content-Type", "application/json");
    return web::fetch(method, endpoints_.http + path, headers, body, options);
}

nlohmann::json mock_fixture::call_json(std::string const& method, std::string const& path, std::string const& key,
                                       std::string const& body, int expected_status) const {
    auto const response = call(method, path, key, body);
    INFO(method << " " << path << " -> " << response.status << " " << response.body);
    CHECK(response.status == expected_status);
    auto parsed = nlohmann::json::parse(response.body, nullptr, false);
    REQUIRE_FALSE(parsed.is_discarded());
    return parsed;
}

}  // namespace harness::test
