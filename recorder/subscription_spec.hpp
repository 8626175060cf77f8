#pragma once
// `--subscribe KIND[:OPTIONS]` as the recorder takes it, e.g. call:all,
// call:ringing,hangup, sms:inbound, contact:shared, agent_status, changelog:
// the subscription to create and the JSON body Dialpad's API expects.

#include <string>
#include <string_view>

namespace harness::recorder {

struct subscription_spec {
    std::string kind;       // call, sms, contact, agent_status, changelog: the path under /api/v2/subscriptions/
    std::string body_json;  // the fields besides endpoint_id, as a JSON object's inside (may be empty)
};

// Throws cli::usage_error naming the spec when it cannot be read.
subscription_spec parse_subscription_spec(std::string_view text);

}  // namespace harness::recorder
