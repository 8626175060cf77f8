#include "mockserver/injected_events.hpp"

#include <simdjson.h>

namespace harness::mock {
namespace {

// One event object of the body, or a reason.
std::variant<injected_event, std::string> read_event(simdjson::dom::element item) {
    simdjson::dom::object object;
    if (item.get_object().get(object)) return std::string{"each event must be a JSON object"};
    std::string_view type;
    std::optional<subscription_kind> family;
    if (!object["type"].get_string().get(type)) family = parse_subscription_kind(type);
    if (!family) return std::string{"field 'type' must be one of call, sms, contact, agent_status, changelog"};

    injected_event event;
    auto const raw = object["raw"];
    auto const payload = object["payload"];
    if (raw.error() == simdjson::SUCCESS) {
        std::string_view text;
        if (raw.get_string().get(text)) return std::string{"field 'raw' must be a string: the exact event text"};
        // Room for simdjson's padding: the facts are read without a copy.
        event.json.reserve(text.size() + simdjson::SIMDJSON_PADDING);
        event.json.assign(text);
    } else if (payload.error() == simdjson::SUCCESS && payload.is_object()) {
        event.json = simdjson::minify(payload.value_unsafe());
        event.json.reserve(event.json.size() + simdjson::SIMDJSON_PADDING);
    } else {
        return std::string{"give the event as 'payload' (a JSON object) or 'raw' (its exact text)"};
    }
    auto facts = read_event_facts(*family, event.json);
    if (!facts) return std::string{"the event is not valid JSON"};
    event.facts = std::move(*facts);
    return event;
}

}  // namespace

std::variant<injected_events, std::string> read_injected_events(std::string_view body) {
    thread_local simdjson::dom::parser parser;
    simdjson::dom::element document;
    simdjson::dom::object object;
    if (parser.parse(body.data(), body.size()).get(document) || document.get_object().get(object))
        return std::string{"the request body must be a JSON object"};

    injected_events result;
    auto const list = object["events"];
    if (list.error() != simdjson::SUCCESS) {
        auto event = read_event(document);
        if (auto* problem = std::get_if<std::string>(&event)) return std::move(*problem);
        result.events.push_back(std::move(std::get<injected_event>(event)));
        return result;
    }
    simdjson::dom::array items;
    if (list.get_array().get(items)) return std::string{"field 'events' must be an array"};
    result.batch = true;
    result.events.reserve(items.size());
    std::size_t index = 0;
    for (auto const item : items) {
        auto event = read_event(item);
        if (auto* problem = std::get_if<std::string>(&event)) {
            std::string message = "events[";
            message.append(std::to_string(index)).append("]: ").append(*problem);
            return message;
        }
        result.events.push_back(std::move(std::get<injected_event>(event)));
        ++index;
    }
    return result;
}

}  // namespace harness::mock
