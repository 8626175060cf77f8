#include "replayer/filter_expression.hpp"

#include "core/cli/split_text.hpp"
#include "core/cli/duration_text.hpp"

#include <charconv>
#include <stdexcept>
#include <string_view>

namespace harness::replayer {
namespace {

// The comma list's items; empty ones ("call,,sms") are skipped.
std::vector<std::string> split_list(std::string_view text) {
    auto items = cli::split_at(text, ',');
    std::erase(items, std::string{});
    return items;
}

std::int64_t call_id_of(std::string const& expression, std::string_view text) {
    std::int64_t id = 0;
    auto const [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (error != std::errc{} || end != text.data() + text.size() || id <= 0)
        throw std::invalid_argument{"--filter " + expression + ": a call id is a whole number above 0"};
    return id;
}

std::int64_t offset_of(std::string const& expression, std::string_view text) {
    auto const duration = cli::parse_duration(text);
    if (!duration) throw std::invalid_argument{"--filter " + expression + ": expected a duration such as 90s or 10m"};
    return duration->count();
}

}  // namespace

archive::frame_filter parse_filter_expressions(std::vector<std::string> const& expressions) {
    archive::frame_filter filter;
    std::string from_expression, to_expression;
    for (auto const& expression : expressions) {
        auto const equals = expression.find('=');
        if (equals == std::string::npos || equals + 1 == expression.size())
            throw std::invalid_argument{"--filter '" + expression +
                                        "': expected KEY=VALUE with KEY family, state, call, call-graph, from or to"};
        auto const key = std::string_view{expression}.substr(0, equals);
        auto const value = std::string_view{expression}.substr(equals + 1);
        if (key == "family") {
            for (auto const& name : split_list(value)) {
                auto const family = model::parse_event_family(name);
                if (!family || *family == model::event_family::unknown)
                    throw std::invalid_argument{"--filter " + expression + ": unknown family '" + name +
                                                "' (call, sms, contact, agent_status, changelog)"};
                filter.families.insert(*family);
            }
        } else if (key == "state") {
            for (auto& state : split_list(value)) filter.states.insert(std::move(state));
        } else if (key == "call" || key == "call-graph") {
            if (filter.call_id) throw std::invalid_argument{"--filter " + expression + ": only one call or call-graph"};
            filter.call_id = call_id_of(expression, value);
            filter.whole_call_graph = key == "call-graph";
        } else if (key == "from") {
            filter.from_offset_ns = offset_of(expression, value);
            from_expression = expression;
        } else if (key == "to") {
            filter.to_offset_ns = offset_of(expression, value);
            to_expression = expression;
        } else {
            throw std::invalid_argument{"--filter '" + expression +
                                        "': unknown key (family, state, call, call-graph, from, to)"};
        }
    }
    if (filter.from_offset_ns && filter.to_offset_ns && *filter.to_offset_ns <= *filter.from_offset_ns)
        throw std::invalid_argument{"--filter " + from_expression + " " + to_expression +
                                    ": the window's 'to' must come after its 'from'"};
    return filter;
}

}  // namespace harness::replayer
