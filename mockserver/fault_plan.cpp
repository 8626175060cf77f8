#include "mockserver/fault_plan.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace harness::mock {
namespace {

double chance(nlohmann::json const& body, char const* name) {
    auto const it = body.find(name);
    if (it == body.end()) return 0;
    if (!it->is_number() || it->get<double>() < 0 || it->get<double>() > 1)
        throw std::invalid_argument{std::string{"field '"} + name + "' must be a probability from 0 to 1"};
    return it->get<double>();
}

std::uint64_t count(nlohmann::json const& body, char const* name, std::uint64_t fallback = 0,
                    std::uint64_t most = UINT64_MAX) {
    auto const it = body.find(name);
    if (it == body.end()) return fallback;
    if (!it->is_number_unsigned()) throw std::invalid_argument{std::string{"field '"} + name + "' must be a whole number >= 0"};
    if (it->get<std::uint64_t>() > most)
        throw std::invalid_argument{std::string{"field '"} + name + "' must be at most " + std::to_string(most)};
    return it->get<std::uint64_t>();
}

// A day: longer delays would overflow the nanosecond arithmetic of the
// schedule (and hold an event for good).
constexpr std::uint64_t k_max_delay_ms = 24 * 3600 * 1000;

}  // namespace

fault_plan parse_fault_plan(nlohmann::json const& body) {
    if (!body.is_object()) throw std::invalid_argument{"the fault plan must be a JSON object"};
    static constexpr char const* k_known[] = {"seed", "drop", "duplicate", "corrupt_signature", "reorder_window",
                                              "delay_ms", "reject_upgrades", "reject_status"};
    for (auto it = body.begin(); it != body.end(); ++it)
        if (std::find(std::begin(k_known), std::end(k_known), it.key()) == std::end(k_known))
            throw std::invalid_argument{"unknown field '" + it.key() + "' in the fault plan"};
    fault_plan plan;
    plan.seed = count(body, "seed", 1);
    plan.drop = chance(body, "drop");
    plan.duplicate = chance(body, "duplicate");
    plan.corrupt_signature = chance(body, "corrupt_signature");
    plan.reorder_window = count(body, "reorder_window");
    plan.delay = std::chrono::milliseconds{count(body, "delay_ms", 0, k_max_delay_ms)};
    plan.reject_upgrades = count(body, "reject_upgrades");
    auto const reject_status = count(body, "reject_status", 503);
    if (reject_status < 400 || reject_status > 599)  // checked before the cast, which would wrap
        throw std::invalid_argument{"field 'reject_status' must be an HTTP error status (400-599)"};
    plan.reject_status = static_cast<int>(reject_status);
    return plan;
}

nlohmann::json to_json(fault_plan const& plan) {
    return {{"seed", plan.seed},
            {"drop", plan.drop},
            {"duplicate", plan.duplicate},
            {"corrupt_signature", plan.corrupt_signature},
            {"reorder_window", plan.reorder_window},
            {"delay_ms", plan.delay.count()},
            {"reject_upgrades", plan.reject_upgrades},
            {"reject_status", plan.reject_status}};
}

void fault_injector::set(fault_plan plan) {
    rng_.seed(plan.seed);
    plan_ = plan;
}

void fault_injector::clear() { plan_.reset(); }

bool fault_injector::roll(double chance) {
    if (!plan_ || chance <= 0) return false;
    return std::uniform_real_distribution<double>{0, 1}(rng_) < chance;
}

std::size_t fault_injector::hold_back() {
    if (!plan_ || plan_->reorder_window == 0 || !roll(0.5)) return 0;
    return 1 + rng_() % plan_->reorder_window;
}

std::optional<int> fault_injector::take_upgrade_refusal() {
    if (!plan_ || plan_->reject_upgrades == 0) return std::nullopt;
    --plan_->reject_upgrades;
    return plan_->reject_status;
}

}  // namespace harness::mock
