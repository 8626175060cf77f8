#pragma once
// dialpad-mock running in-process on 127.0.0.1, port 0, on its own thread
// and a virtual clock the test steers; the test talks to it over real HTTP.

#include "core/clock/virtual_clock.hpp"
#include "core/web/http_client.hpp"
#include "mockserver/mock_server.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <thread>

namespace harness::test {

// 2026-01-01T00:00:00Z: where the fixture's virtual clock starts.
inline constexpr std::int64_t k_fixture_start_unix_seconds = 1767225600;

class mock_fixture {
public:
    explicit mock_fixture(mock::mock_options options = default_options());
    mock_fixture(mock_fixture const&) = delete;
    mock_fixture& operator=(mock_fixture const&) = delete;
    ~mock_fixture();

    // Port 0, keys "key-a" (company "acme") and "key-b" (company "globex").
    static mock::mock_options default_options();

    mock::mock_endpoints const& endpoints() const { return endpoints_; }
    virtual_clock& clock() { return clock_; }

    // One request to the mock; `path` starts with '/'. Adds the Bearer key
    // when `key` is not empty.
    web::response call(std::string const& method, std::string const& path, std::string const& key = "key-a",
                       std::string const& body = {}, web::header_map headers = {},
                       web::client_options const& options = {}) const;
    // The same, parsing the body as JSON (a failed parse fails the test).
    nlohmann::json call_json(std::string const& method, std::string const& path, std::string const& key = "key-a",
                             std::string const& body = {}, int expected_status = 200) const;

private:
    virtual_clock clock_;
    std::unique_ptr<boost::asio::io_context> ioc_;
    std::unique_ptr<mock::mock_server> server_;
    mock::mock_endpoints endpoints_;
    std::thread thread_;
};

}  // namespace harness::test
