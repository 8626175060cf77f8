#pragma once
// The mock's in-memory resources: websockets and webhooks ("endpoints") and
// the five kinds of event subscription, each owned by one company. Ids are
// 16-digit int64s like Dialpad's, unique across every resource.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace harness::mock {

enum class endpoint_type { websocket, webhook };
enum class subscription_kind { call, sms, contact, agent_status, changelog };

std::string_view to_string(subscription_kind kind);
std::optional<subscription_kind> parse_subscription_kind(std::string_view text);

struct endpoint {
    std::int64_t id = 0;
    endpoint_type type = endpoint_type::websocket;
    std::string company;
    std::optional<std::string> secret;  // set: events are HS256 JWTs
    std::string hook_url;               // webhooks only
};

struct subscription {
    std::int64_t id = 0;
    subscription_kind kind = subscription_kind::call;
    std::string company;
    std::int64_t endpoint_id = 0;
    bool enabled = true;
    // call
    std::vector<std::string> call_states;
    bool group_calls_only = false;
    // call and sms
    std::optional<std::string> target_type;
    std::optional<std::int64_t> target_id;
    // sms
    std::string direction;
    bool include_internal = false;
    bool status = false;
    // contact
    std::string contact_type;
    // agent_status
    std::string agent_type;
};

class resource_store {
public:
    std::int64_t next_id();

    endpoint& add_endpoint(endpoint e);  // e.id must come from next_id()
    // The endpoint `id` of `company` and `type`, or null.
    endpoint* find_endpoint(std::string_view company, std::int64_t id, std::optional<endpoint_type> type);
    // Removes an endpoint and every subscription that points at it.
    std::optional<endpoint> remove_endpoint(std::int64_t id);
    // A company's endpoints of `type` with id > `after`, in id order, at most `limit`.
    std::vector<endpoint const*> list_endpoints(std::string_view company, endpoint_type type, std::int64_t after,
                                                std::size_t limit) const;

    subscription& add_subscription(subscription s);
    subscription* find_subscription(std::string_view company, subscription_kind kind, std::int64_t id);
    std::optional<subscription> remove_subscription(std::int64_t id);
    // A company's subscriptions of `kind` with id > `after`, optionally only
    // those for one target, in id order, at most `limit`.
    std::vector<subscription const*> list_subscriptions(std::string_view company, subscription_kind kind,
                                                        std::int64_t after, std::size_t limit,
                                                        std::optional<std::string> const& target_type = {},
                                                        std::optional<std::int64_t> target_id = {}) const;
    // How many subscriptions of `kind` a company has, and how many of those
    // have no target (they cover the whole company).
    std::size_t count_subscriptions(std::string_view company, subscription_kind kind, bool company_wide_only) const;

    // Every subscription, for event routing.
    std::map<std::int64_t, subscription> const& subscriptions() const { return subscriptions_; }
    std::map<std::int64_t, endpoint> const& endpoints() const { return endpoints_; }

    // Drops every resource (ids keep counting up, so old ids stay unknown).
    void clear();

private:
    std::int64_t last_id_ = 5700000000000000;
    std::map<std::int64_t, endpoint> endpoints_;
    std::map<std::int64_t, subscription> subscriptions_;
};

}  // namespace harness::mock
