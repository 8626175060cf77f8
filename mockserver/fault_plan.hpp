#pragma once
// Faults tests ask for on upcoming deliveries (POST /__admin/faults): drop,
// duplicate, delay, reorder within a window, corrupt a JWT's signature, and
// refuse the next upgrades. Seeded, so the same plan and the same events give
// the same faults every run.

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>

namespace harness::mock {

struct fault_plan {
    std::uint64_t seed = 1;
    double drop = 0;               // chance a delivery to one connection is lost
    double duplicate = 0;          // chance a delivery is sent twice
    double corrupt_signature = 0;  // chance a JWT frame's signature is broken
    std::size_t reorder_window = 0;  // events may be held back by up to this many later events
    std::chrono::milliseconds delay{0};  // every event waits this long (on the mock's clock)
    std::size_t reject_upgrades = 0;     // refuse this many next upgrades...
    int reject_status = 503;             // ...with this HTTP status
};

// Reads a plan from the admin body; throws std::invalid_argument naming the
// bad field.
fault_plan parse_fault_plan(nlohmann::json const& body);
nlohmann::json to_json(fault_plan const& plan);

// The plan in force and its seeded random source.
class fault_injector {
public:
    void set(fault_plan plan);
    void clear();
    bool active() const { return plan_.has_value(); }
    fault_plan const* plan() const { return plan_ ? &*plan_ : nullptr; }

    bool roll(double chance);                   // true with probability `chance`
    std::size_t hold_back();                    // 0 (send now) or how many events to wait
    std::optional<int> take_upgrade_refusal();  // the status to refuse the next upgrade with

private:
    std::optional<fault_plan> plan_;
    std::mt19937_64 rng_;
};

}  // namespace harness::mock
