#pragma once
// The REST calls the recorder makes, as a well-behaved Dialpad app: create a
// websocket (with an optional signing secret), create its subscriptions, and
// GET it again for a fresh websocket_url whenever a token or connection is
// about to end. Blocking: the recorder runs them on a worker thread.
//
// Failures are rest_failure: one line naming the call and the cause, never
// the API key; `permanent` ones (4xx: 400, 401, 403, 404, ...) end a
// recording, the others are worth retrying (408, 429 after its Retry-After,
// 5xx, garbled answers, network and TLS failures).

#include "core/web/http_client.hpp"
#include "recorder/subscription_spec.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace harness::recorder {

class rest_failure : public std::runtime_error {
public:
    rest_failure(std::string message, bool permanent, std::optional<std::chrono::seconds> retry_after = {})
        : std::runtime_error{std::move(message)}, permanent_{permanent}, retry_after_{retry_after} {}
    bool permanent() const { return permanent_; }
    std::optional<std::chrono::seconds> retry_after() const { return retry_after_; }

private:
    bool permanent_;
    std::optional<std::chrono::seconds> retry_after_;
};

struct websocket_info {
    std::int64_t id = 0;
    std::string url;                    // wss://…/events/<token>: a secret, never stored or logged
    std::optional<std::string> secret;  // the signing secret, when Dialpad echoes it
};

class dialpad_rest {
public:
    dialpad_rest(std::string api_base, std::string api_key, web::client_options options);

    websocket_info create_websocket(std::optional<std::string> const& secret) const;
    void create_subscription(std::int64_t websocket_id, subscription_spec const& spec) const;
    websocket_info get_websocket(std::int64_t websocket_id) const;

    std::string const& api_base() const { return api_base_; }

private:
    web::response call(std::string const& method, std::string const& path, std::string const& body) const;
    std::string scrub(std::string text) const;  // the key never reaches a message

    std::string api_base_;
    std::string api_key_;
    web::client_options options_;
};

// Parses a websocket object of Dialpad's API (id as a number or a string).
// Throws rest_failure (not permanent) when the JSON is not one.
websocket_info parse_websocket_json(std::string const& body, std::string const& what);

}  // namespace harness::recorder
