#pragma once
// What the harness reads out of one Dialpad event, kept beside the exact
// frame bytes (never instead of them) so archives can be filtered by family,
// state and call graph without re-parsing every frame.
//
// Dialpad events have no envelope: the family is inferred from the field set
// (call_id+state = call, from_number/to_number = sms, event+contact =
// contact, on_duty_status = agent_status, action+changed_by = changelog) or
// taken from the subscription the frame came through.

#include "core/jwt/jwt.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace harness::model {

enum class event_family { call, sms, contact, agent_status, changelog, unknown };

std::string_view to_string(event_family family);
std::optional<event_family> parse_event_family(std::string_view text);

// Whether a JWT frame's signature was checked, and how it came out.
enum class signature_check { not_jwt, unchecked, valid, bad_signature, wrong_algorithm, malformed };
std::string_view to_string(signature_check check);
std::optional<signature_check> parse_signature_check(std::string_view text);

struct event_index {
    event_family family = event_family::unknown;
    // Call state, SMS message_status, contact event, on-duty status or
    // change-log action, by family.
    std::string state;
    std::string direction;  // call and SMS: inbound / outbound
    std::optional<std::int64_t> call_id;
    std::optional<std::int64_t> master_call_id;
    std::optional<std::int64_t> entry_point_call_id;
    std::optional<std::int64_t> operator_call_id;
    std::string target_type;
    std::string target_id;  // text: some families send it as a string
    std::optional<std::int64_t> event_timestamp;  // ms since the Unix epoch
    bool is_jwt = false;
    signature_check signature = signature_check::not_jwt;
    bool parsed = false;  // false when the (decoded) text was not a JSON object

    bool operator==(event_index const&) const = default;
};

struct index_options {
    // Family of the subscription the frame came through, when known; used
    // when the field set alone does not tell.
    std::optional<event_family> family_hint;
    // The websocket's secret: when set, JWT frames are verified (HS256).
    std::optional<std::string> secret;
};

// Decodes one frame. Never throws on bad input: an unreadable frame yields
// an index with parsed = false.
event_index index_event(std::string_view frame_text, index_options const& options = {});

}  // namespace harness::model
