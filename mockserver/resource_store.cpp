#include "mockserver/resource_store.hpp"

#include <array>

namespace harness::mock {
namespace {

constexpr std::array<std::pair<subscription_kind, std::string_view>, 5> k_kinds{{
    {subscription_kind::call, "call"},
    {subscription_kind::sms, "sms"},
    {subscription_kind::contact, "contact"},
    {subscription_kind::agent_status, "agent_status"},
    {subscription_kind::changelog, "changelog"},
}};

}  // namespace

std::string_view to_string(subscription_kind kind) {
    for (auto const& [k, name] : k_kinds)
        if (k == kind) return name;
    return "call";
}

std::optional<subscription_kind> parse_subscription_kind(std::string_view text) {
    for (auto const& [k, name] : k_kinds)
        if (name == text) return k;
    return std::nullopt;
}

std::int64_t resource_store::next_id() {
    // Steps of 7919 spread the ids out like Dialpad's, without collisions.
    last_id_ += 7919;
    return last_id_;
}

endpoint& resource_store::add_endpoint(endpoint e) {
    auto const id = e.id;
    return endpoints_[id] = std::move(e);
}

endpoint* resource_store::find_endpoint(std::string_view company, std::int64_t id, std::optional<endpoint_type> type) {
    auto const it = endpoints_.find(id);
    if (it == endpoints_.end() || it->second.company != company || (type && it->second.type != *type)) return nullptr;
    return &it->second;
}

std::optional<endpoint> resource_store::remove_endpoint(std::int64_t id) {
    auto const it = endpoints_.find(id);
    if (it == endpoints_.end()) return std::nullopt;
    auto removed = std::move(it->second);
    endpoints_.erase(it);
    std::erase_if(subscriptions_, [&](auto const& entry) { return entry.second.endpoint_id == id; });
    return removed;
}

std::vector<endpoint const*> resource_store::list_endpoints(std::string_view company, endpoint_type type,
                                                            std::int64_t after, std::size_t limit) const {
    std::vector<endpoint const*> result;
    for (auto it = endpoints_.upper_bound(after); it != endpoints_.end() && result.size() < limit; ++it)
        if (it->second.company == company && it->second.type == type) result.push_back(&it->second);
    return result;
}

subscription& resource_store::add_subscription(subscription s) {
    auto const id = s.id;
    return subscriptions_[id] = std::move(s);
}

subscription* resource_store::find_subscription(std::string_view company, subscription_kind kind, std::int64_t id) {
    auto const it = subscriptions_.find(id);
    if (it == subscriptions_.end() || it->second.company != company || it->second.kind != kind) return nullptr;
    return &it->second;
}

std::optional<subscription> resource_store::remove_subscription(std::int64_t id) {
    auto const it = subscriptions_.find(id);
    if (it == subscriptions_.end()) return std::nullopt;
    auto removed = std::move(it->second);
    subscriptions_.erase(it);
    return removed;
}

std::vector<subscription const*> resource_store::list_subscriptions(std::string_view company, subscription_kind kind,
                                                                    std::int64_t after, std::size_t limit,
                                                                    std::optional<std::string> const& target_type,
                                                                    std::optional<std::int64_t> target_id) const {
    std::vector<subscription const*> result;
    for (auto it = subscriptions_.upper_bound(after); it != subscriptions_.end() && result.size() < limit; ++it) {
        auto const& s = it->second;
        if (s.company != company || s.kind != kind) continue;
        if (target_type && s.target_type != target_type) continue;
        if (target_id && s.target_id != target_id) continue;
        result.push_back(&s);
    }
    return result;
}

std::size_t resource_store::count_subscriptions(std::string_view company, subscription_kind kind,
                                                bool company_wide_only) const {
    std::size_t count = 0;
    for (auto const& [id, s] : subscriptions_)
        if (s.company == company && s.kind == kind && (!company_wide_only || !s.target_id)) ++count;
    return count;
}

void resource_store::clear() {
    endpoints_.clear();
    subscriptions_.clear();
}

}  // namespace harness::mock
