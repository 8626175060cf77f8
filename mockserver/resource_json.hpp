#pragma once
// Resources as Dialpad's REST API renders them (shapes from Dialpad's
// OpenAPI file): ids as JSON strings, keys in the spec's (alphabetical)
// order, the endpoint embedded in each subscription.

#include "mockserver/resource_store.hpp"
#include "mockserver/token_service.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace harness::mock {

using ordered_json = nlohmann::ordered_json;

// Renders with a fresh token in each websocket_url.
class resource_renderer {
public:
    // `events_base` is the websocket URL prefix, e.g. "ws://127.0.0.1:8088/events/".
    resource_renderer(token_service const& tokens, std::string events_base);

    // A websocket with a websocket-wide token.
    ordered_json websocket(endpoint const& e) const;
    ordered_json webhook(endpoint const& e) const;
    // A subscription; a websocket endpoint is embedded with a token scoped
    // to this subscription.
    ordered_json subscription(struct subscription const& s, endpoint const& e) const;

    std::string const& events_base() const { return events_base_; }

private:
    ordered_json websocket_with_scope(endpoint const& e, std::string const& scope) const;
    token_service const& tokens_;
    std::string events_base_;
};

// {} without a secret; {"algo":"HS256","secret":...,"type":"jwt"} with one.
ordered_json signature_json(std::optional<std::string> const& secret);

}  // namespace harness::mock
