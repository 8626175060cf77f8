#include "recorder/subscription_spec.hpp"

#include "core/cli/split_text.hpp"
#include "core/cli/option_parser.hpp"

#include <nlohmann/json.hpp>

#include <vector>

namespace harness::recorder {
namespace {

[[noreturn]] void refuse(std::string_view spec, std::string_view why) {
    std::string message = "--subscribe '";
    message.append(spec).append("': ").append(why);
    throw cli::usage_error{message};
}

}  // namespace

subscription_spec parse_subscription_spec(std::string_view text) {
    auto const colon = text.find(':');
    std::string const kind{text.substr(0, colon)};
    std::string_view const options = colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1);
    nlohmann::ordered_json body = nlohmann::ordered_json::object();
    if (kind == "call") {
        // call:all or call:STATE,STATE,... (Dialpad checks the state names)
        auto states = cli::split_at(options.empty() ? "all" : options, ',');
        for (auto const& s : states) {
            if (s.empty()) refuse(text, "an empty call state");
            // Names like ringing or call_transcription; other bytes (not
            // UTF-8, say) could not even be sent as JSON.
            if (s.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos)
                refuse(text, "a call state is a name such as ringing or hangup");
        }
        body["call_states"] = states;
    } else if (kind == "sms") {
        // sms:inbound|outbound|all, optionally +internal and +status
        auto const items = cli::split_at(options.empty() ? "all" : options, ',');
        body["direction"] = items.front();
        for (std::size_t i = 1; i < items.size(); ++i) {
            if (items[i] == "internal") body["include_internal"] = true;
            else if (items[i] == "status") body["status"] = true;
            else refuse(text, "sms options are a direction, then 'internal' and/or 'status'");
        }
        if (items.front() != "inbound" && items.front() != "outbound" && items.front() != "all")
            refuse(text, "the sms direction is inbound, outbound or all");
    } else if (kind == "contact") {
        std::string const type{options.empty() ? "shared" : options};
        if (type != "shared" && type != "local") refuse(text, "the contact type is shared or local");
        body["contact_type"] = type;
    } else if (kind == "agent_status") {
        if (!options.empty() && options != "callcenter") refuse(text, "the agent type is callcenter");
        body["agent_type"] = "callcenter";
    } else if (kind == "changelog") {
        if (!options.empty()) refuse(text, "changelog takes no options");
    } else {
        refuse(text, "the kind is one of call, sms, contact, agent_status, changelog");
    }
    auto dumped = body.dump();  // {...}: keep the inside, endpoint_id goes first
    return {kind, dumped.substr(1, dumped.size() - 2)};
}

}  // namespace harness::recorder
