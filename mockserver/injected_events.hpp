#pragma once
// The body of POST /__admin/events: one event {"type":...,"payload":{...}} or
// {"type":...,"raw":"<exact text>"}, or a batch {"events":[...]}. Read with
// simdjson: a batch of thousands of ~1 KB events is the hot path of injection,
// and every event's routing facts are read here once, which also proves it is
// a JSON object before anything is delivered (a batch is all or nothing).

#include "mockserver/event_router.hpp"

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace harness::mock {

struct injected_event {
    std::string json;   // the exact frame text (a payload is sent compact, in its key order)
    event_facts facts;  // facts.family is the event's type
};

struct injected_events {
    std::vector<injected_event> events;
    bool batch = false;  // given as {"events":[...]}
};

// The events of an admin body, or a one-line reason it is refused.
std::variant<injected_events, std::string> read_injected_events(std::string_view body);

}  // namespace harness::mock
