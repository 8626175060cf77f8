#pragma once
// Realistic, internally consistent Dialpad event sequences for tests:
// every call leg with its states in order, ids linking the legs, timestamps
// that advance as a real call's do, field shapes as real events carry them
// (ids as JSON numbers, null/{}/[] for unknowns). Seeded: the same seed and
// start time give the same bytes.

#include "core/clock/clock.hpp"
#include "mockserver/resource_store.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace harness::mock {

struct generated_event {
    subscription_kind family;
    mono_duration offset;  // when to deliver, from the scenario's start
    std::string json;      // the exact event text
};

struct scenario_request {
    std::string name;
    std::uint64_t seed = 1;
    wall_time start;  // timestamps in the events count from here
};

// The scenario names, for GET /__admin/scenarios.
std::vector<std::string> const& scenario_names();
// One line describing a scenario.
std::string scenario_description(std::string const& name);

// The events of a scenario, in delivery order. Throws std::invalid_argument
// for an unknown name.
std::vector<generated_event> generate_scenario(scenario_request const& request);

}  // namespace harness::mock
