#include "core/model/event_index.hpp"

#include <simdjson.h>

namespace harness::model {
namespace {

// What one pass over the top-level object found. simdjson parses with the
// SIMD kernel the CPU offers (chosen at run time) and fully validates; only
// the fields the index needs are then read, which keeps indexing well below
// the cost of the SQLite write it sits beside.
struct top_level_fields {
    std::optional<std::int64_t> call_id, master_call_id, entry_point_call_id, operator_call_id, event_timestamp;
    std::string state, direction, message_status, contact_event, on_duty_status, action;
    std::string target_type, target_id;
    bool has_call_id = false, has_state = false, has_from_or_to = false, has_event = false, has_contact = false,
         has_on_duty_status = false, has_action = false, has_changed_by = false;
};

// An int64 value, or nullopt for null, another type, or a number beyond int64.
std::optional<std::int64_t> read_integer(simdjson::dom::element value) {
    std::int64_t result = 0;
    if (value.type() != simdjson::dom::element_type::INT64 || value.get_int64().get(result)) return std::nullopt;
    return result;
}

// A string value (unescaped), or empty for anything else.
std::string read_string(simdjson::dom::element value) {
    std::string_view text;
    if (value.get_string().get(text)) return {};
    return std::string{text};
}

// `target`: its type and its id, which some families send as a string.
void read_target(simdjson::dom::element value, top_level_fields& out) {
    simdjson::dom::object target;
    if (value.get_object().get(target)) return;  // not an object
    for (auto [key, inner] : target) {
        if (key == "type") {
            out.target_type = read_string(inner);
        } else if (key == "id") {
            if (auto id = read_integer(inner))
                out.target_id = std::to_string(*id);
            else
                out.target_id = read_string(inner);
        }
    }
}

// False when the text is not one well-formed JSON object.
bool read_fields(std::string_view json_text, top_level_fields& out) {
    thread_local simdjson::dom::parser parser;  // keeps its buffers between frames
    simdjson::dom::element document;
    simdjson::dom::object object;
    if (parser.parse(json_text.data(), json_text.size()).get(document) || document.get_object().get(object))
        return false;
    for (auto [key, value] : object) {
        if (key == "call_id") out.has_call_id = true, out.call_id = read_integer(value);
        else if (key == "state") out.has_state = true, out.state = read_string(value);
        else if (key == "direction") out.direction = read_string(value);
        else if (key == "master_call_id") out.master_call_id = read_integer(value);
        else if (key == "entry_point_call_id") out.entry_point_call_id = read_integer(value);
        else if (key == "operator_call_id") out.operator_call_id = read_integer(value);
        else if (key == "event_timestamp") out.event_timestamp = read_integer(value);
        else if (key == "from_number" || key == "to_number") out.has_from_or_to = true;
        else if (key == "message_status") out.message_status = read_string(value);
        else if (key == "event") out.has_event = true, out.contact_event = read_string(value);
        else if (key == "contact") out.has_contact = true;
        else if (key == "on_duty_status") out.has_on_duty_status = true, out.on_duty_status = read_string(value);
        else if (key == "action") out.has_action = true, out.action = read_string(value);
        else if (key == "changed_by") out.has_changed_by = true;
        else if (key == "target") read_target(value, out);
    }
    return true;
}

event_family infer_family(top_level_fields const& r, std::optional<event_family> hint) {
    if (r.has_call_id && r.has_state) return event_family::call;
    if (r.has_from_or_to) return event_family::sms;
    if (r.has_event && r.has_contact) return event_family::contact;
    if (r.has_on_duty_status) return event_family::agent_status;
    if (r.has_action && r.has_changed_by) return event_family::changelog;
    return hint.value_or(event_family::unknown);
}

}  // namespace

std::string_view to_string(event_family family) {
    switch (family) {
    case event_family::call: return "call";
    case event_family::sms: return "sms";
    case event_family::contact: return "contact";
    case event_family::agent_status: return "agent_status";
    case event_family::changelog: return "changelog";
    case event_family::unknown: return "unknown";
    }
    return "unknown";
}

std::optional<event_family> parse_event_family(std::string_view text) {
    for (auto f : {event_family::call, event_family::sms, event_family::contact, event_family::agent_status,
                   event_family::changelog, event_family::unknown})
        if (to_string(f) == text) return f;
    return std::nullopt;
}

std::string_view to_string(signature_check check) {
    switch (check) {
    case signature_check::not_jwt: return "not_jwt";
    case signature_check::unchecked: return "unchecked";
    case signature_check::valid: return "valid";
    case signature_check::bad_signature: return "bad_signature";
    case signature_check::wrong_algorithm: return "wrong_algorithm";
    case signature_check::malformed: return "malformed";
    }
    return "malformed";
}

std::optional<signature_check> parse_signature_check(std::string_view text) {
    for (auto c : {signature_check::not_jwt, signature_check::unchecked, signature_check::valid,
                   signature_check::bad_signature, signature_check::wrong_algorithm, signature_check::malformed})
        if (to_string(c) == text) return c;
    return std::nullopt;
}

event_index index_event(std::string_view frame_text, index_options const& options) {
    event_index index;
    std::string decoded_payload;
    std::string_view json_text = frame_text;
    if (jwt::looks_like_jwt(frame_text)) {
        index.is_jwt = true;
        auto decoded = jwt::decode(frame_text);
        if (!decoded) {
            index.signature = signature_check::malformed;
            index.family = options.family_hint.value_or(event_family::unknown);
            return index;
        }
        if (options.secret) {
            switch (jwt::verify_hs256(frame_text, *options.secret)) {
            case jwt::verdict::valid: index.signature = signature_check::valid; break;
            case jwt::verdict::bad_signature: index.signature = signature_check::bad_signature; break;
            case jwt::verdict::wrong_algorithm: index.signature = signature_check::wrong_algorithm; break;
            case jwt::verdict::malformed: index.signature = signature_check::malformed; break;
            }
        } else {
            index.signature = signature_check::unchecked;
        }
        decoded_payload = std::move(decoded->payload);
        json_text = decoded_payload;
    }

    top_level_fields reader;
    index.parsed = read_fields(json_text, reader);
    if (!index.parsed) {
        index.family = options.family_hint.value_or(event_family::unknown);
        return index;
    }
    index.family = infer_family(reader, options.family_hint);
    switch (index.family) {
    case event_family::call: index.state = reader.state; break;
    case event_family::sms: index.state = reader.message_status; break;
    case event_family::contact: index.state = reader.contact_event; break;
    case event_family::agent_status: index.state = reader.on_duty_status; break;
    case event_family::changelog: index.state = reader.action; break;
    case event_family::unknown: index.state = reader.state; break;
    }
    index.direction = reader.direction;
    index.call_id = reader.call_id;
    index.master_call_id = reader.master_call_id;
    index.entry_point_call_id = reader.entry_point_call_id;
    index.operator_call_id = reader.operator_call_id;
    index.target_type = reader.target_type;
    index.target_id = reader.target_id;
    index.event_timestamp = reader.event_timestamp;
    return index;
}

}  // namespace harness::model
