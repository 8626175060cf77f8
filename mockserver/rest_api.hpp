#pragma once
// Dialpad's REST surface for event delivery: /api/v2/websockets,
// /api/v2/webhooks and /api/v2/subscriptions/{call,sms,contact,agent_status,
// changelog}, each with create, list, get, update and delete. Authenticates
// by API key (Bearer header or ?apikey=), keeps companies apart, validates
// bodies as the spec describes, and answers errors in Dialpad's shape.

#include "core/clock/clock.hpp"
#include "core/web/http_message.hpp"
#include "mockserver/api_keys.hpp"
#include "mockserver/rate_limiter.hpp"
#include "mockserver/resource_json.hpp"
#include "mockserver/resource_store.hpp"

#include <optional>
#include <string>

namespace harness::mock {

// Per company and kind: all subscriptions, and those with no target (which
// cover the whole company). From Dialpad's subscription docs.
inline constexpr std::size_t k_max_subscriptions_per_kind = 100;
inline constexpr std::size_t k_max_company_wide_subscriptions_per_kind = 10;
inline constexpr std::size_t k_default_page_size = 20;
inline constexpr std::size_t k_max_page_size = 100;

class rest_api {
public:
    // `limiter` null: no rate limits.
    rest_api(resource_store& store, api_keys const& keys, resource_renderer const& renderer, rate_limiter* limiter);

    // True for paths this API owns (under /api/v2/).
    static bool owns(std::string_view path);

    // Answers one request. `company` is set to the caller's company once the
    // key is known (for the journal).
    web::response handle(web::request const& request, std::string& company);

private:
    struct route;
    web::response dispatch(web::request const& request, route const& r, std::string const& company);
    web::response websockets(web::request const& request, route const& r, std::string const& company);
    web::response webhooks(web::request const& request, route const& r, std::string const& company);
    web::response subscriptions(web::request const& request, route const& r, std::string const& company);

    resource_store& store_;
    api_keys const& keys_;
    resource_renderer const& renderer_;
    rate_limiter* limiter_;
};

}  // namespace harness::mock
