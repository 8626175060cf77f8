#include "core/model/event_index.hpp"

#include <nlohmann/json.hpp>

namespace harness::model {
namespace {

// Reads only what the index needs in one SAX pass: top-level scalars by key
// and the two fields of the top-level `target` object. Nothing is built for
// the rest of the event, which keeps indexing cheap next to the SQLite write.
class index_reader : public nlohmann::json_sax<nlohmann::json> {
public:
    // Top-level facts, gathered as they stream past.
    std::optional<std::int64_t> call_id, master_call_id, entry_point_call_id, operator_call_id, event_timestamp;
    std::string state, direction, message_status, contact_event, on_duty_status, action;
    std::string target_type, target_id;
    bool has_call_id = false, has_state = false, has_from_or_to = false, has_event = false,
         has_contact = false, has_on_duty_status = false, has_action = false, has_changed_by = false;
    bool top_is_object = false;

    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t value) override {
        integer(value);
        return true;
    }
    bool number_unsigned(number_unsigned_t value) override {
        if (value <= static_cast<number_unsigned_t>(INT64_MAX)) integer(static_cast<std::int64_t>(value));
        return true;
    }
    bool number_float(number_float_t, string_t const&) override { return true; }
    bool string(string_t& value) override {
        text(value);
        return true;
    }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override {
        if (depth_ == 0) top_is_object = true;
        if (depth_ == 1 && key_ == "target") in_target_ = true;
        ++depth_;
        return true;
    }
    bool end_object() override {
        --depth_;
        if (depth_ == 1) in_target_ = false;
        return true;
    }
    bool start_array(std::size_t) override {
        ++depth_;
        return true;
    }
    bool end_array() override {
        --depth_;
        return true;
    }
    bool key(string_t& name) override {
        if (depth_ == 1) {
            key_ = name;
            mark_present(name);
        } else if (depth_ == 2 && in_target_) {
            target_key_ = name;
        }
        return true;
    }
    bool parse_error(std::size_t, std::string const&, nlohmann::detail::exception const&) override {
        return false;
    }

private:
    void mark_present(std::string const& name) {
        if (name == "call_id") has_call_id = true;
        else if (name == "state") has_state = true;
        else if (name == "from_number" || name == "to_number") has_from_or_to = true;
        else if (name == "event") has_event = true;
        else if (name == "contact") has_contact = true;
        else if (name == "on_duty_status") has_on_duty_status = true;
        else if (name == "action") has_action = true;
        else if (name == "changed_by") has_changed_by = true;
    }

    void integer(std::int64_t value) {
        if (depth_ == 1) {
            if (key_ == "call_id") call_id = value;
            else if (key_ == "master_call_id") master_call_id = value;
            else if (key_ == "entry_point_call_id") entry_point_call_id = value;
            else if (key_ == "operator_call_id") operator_call_id = value;
            else if (key_ == "event_timestamp") event_timestamp = value;
        } else if (depth_ == 2 && in_target_ && target_key_ == "id") {
            target_id = std::to_string(value);
        }
    }

    void text(std::string const& value) {
        if (depth_ == 1) {
            if (key_ == "state") state = value;
            else if (key_ == "direction") direction = value;
            else if (key_ == "message_status") message_status = value;
            else if (key_ == "event") contact_event = value;
            else if (key_ == "on_duty_status") on_duty_status = value;
            else if (key_ == "action") action = value;
        } else if (depth_ == 2 && in_target_) {
            if (target_key_ == "type") target_type = value;
            else if (target_key_ == "id") target_id = value;
        }
    }

    int depth_ = 0;
    bool in_target_ = false;
    std::string key_;
    std::string target_key_;
};

event_family infer_family(index_reader const& r, std::optional<event_family> hint) {
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

    index_reader reader;
    bool const ok = nlohmann::json::sax_parse(json_text, &reader, nlohmann::json::input_format_t::json, true,
                                              /*ignore_comments=*/false);
    index.parsed = ok && reader.top_is_object;
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
