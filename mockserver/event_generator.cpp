#include "mockserver/event_generator.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <stdexcept>

namespace harness::mock {
namespace {

using ordered_json = nlohmann::ordered_json;
using std::chrono::milliseconds;

// Names and numbers are fictional: 555-01xx numbers are reserved for fiction.
constexpr char const* k_people[] = {"Avery Kim", "Jordan Lee", "Riley Chen", "Sam Ortiz", "Casey Park", "Morgan Diaz"};
constexpr char const* k_places[] = {"Alameda, CA", "Reno, NV", "Austin, TX", "Boise, ID"};

class scenario_builder {
public:
    explicit scenario_builder(scenario_request const& request)
        : rng_{request.seed}, start_ms_{unix_millis(request.start)} {
        office_id_ = id();
        agent_ = person();
    }

    std::int64_t id() { return 5000000000000000 + static_cast<std::int64_t>(rng_() % 1999999999999999); }
    std::string phone() { return "+1415555" + std::to_string(100 + rng_() % 100).insert(0, "0"); }
    std::int64_t jitter(std::int64_t low, std::int64_t high) {
        return low + static_cast<std::int64_t>(rng_() % static_cast<std::uint64_t>(high - low + 1));
    }

    struct party {
        std::int64_t id;
        std::string name, email, phone;
    };
    party person() {
        auto const name = std::string{k_people[rng_() % std::size(k_people)]};
        auto email = name;
        for (auto& c : email) c = c == ' ' ? '.' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return {id(), name, email + "@example.com", phone()};
    }

    // A call leg: the fields every state repeats, updated as the call moves.
    struct leg {
        std::int64_t call_id = 0;
        std::string direction = "inbound";
        std::string external_number, internal_number;
        ordered_json target, contact;
        std::optional<std::int64_t> entry_point_call_id, operator_call_id, master_call_id;
        ordered_json entry_point_target = ordered_json::object();
        std::optional<std::string> group_id;
        std::int64_t date_started = 0;
        std::optional<std::int64_t> date_rang, date_first_rang, date_connected, date_ended;
        bool was_recorded = false;
        ordered_json recording_details = ordered_json::array();
        std::optional<std::string> voicemail_link, voicemail_recording_id, transcription_text;
    };

    ordered_json user_target(party const& p) const {
        return {{"id", p.id}, {"type", "user"}, {"name", p.name}, {"email", p.email}, {"phone", p.phone},
                {"office_id", office_id_}};
    }
    ordered_json contact_of(std::string const& number, std::string const& type = "local") {
        auto const name = "(" + number.substr(2, 3) + ") " + number.substr(5, 3) + "-" + number.substr(8);
        return {{"id", id()}, {"type", type}, {"name", name}, {"email", ""}, {"phone", number}};
    }

    template <class T>
    static ordered_json or_null(std::optional<T> const& v) {
        return v ? ordered_json(*v) : ordered_json(nullptr);
    }

    // One event of `l` in `state` at `at_ms` (ms after the start).
    void call_event(leg const& l, std::string const& state, std::int64_t at_ms,
                    ordered_json extra = ordered_json::object()) {
        ordered_json e;
        e["call_id"] = l.call_id;
        e["state"] = state;
        e["direction"] = l.direction;
        e["external_number"] = l.external_number;
        e["internal_number"] = l.internal_number;
        e["date_started"] = l.date_started;
        e["date_rang"] = or_null(l.date_rang);
        e["date_first_rang"] = or_null(l.date_first_rang);
        e["date_queued"] = nullptr;
        e["date_connected"] = or_null(l.date_connected);
        e["date_ended"] = or_null(l.date_ended);
        if (l.date_ended) {
            auto const talk = l.date_connected ? *l.date_ended - *l.date_connected : 0;
            e["duration"] = static_cast<double>(talk);
            e["total_duration"] = static_cast<double>(*l.date_ended - l.date_started) + 0.113;
            e["talk_time"] = talk;
            e["hold_time"] = 0;
        } else {
            e["duration"] = nullptr;
            e["total_duration"] = nullptr;
            e["talk_time"] = nullptr;
            e["hold_time"] = nullptr;
        }
        e["target"] = l.target;
        e["contact"] = l.contact;
        e["entry_point_call_id"] = or_null(l.entry_point_call_id);
        e["entry_point_target"] = l.entry_point_target;
        e["operator_call_id"] = or_null(l.operator_call_id);
        e["master_call_id"] = or_null(l.master_call_id);
        e["group_id"] = or_null(l.group_id);
        e["proxy_target"] = ordered_json::object();
        e["is_internal"] = false;
        e["is_transferred"] = false;
        e["transferred_from"] = ordered_json::object();
        e["target_availability_status"] = "open";
        e["callback_requested"] = nullptr;
        e["csat_score"] = nullptr;
        e["mos_score"] = l.date_ended && l.date_connected ? ordered_json(4.37) : ordered_json(nullptr);
        e["labels"] = ordered_json::array();
        e["routing_breadcrumbs"] = ordered_json::array();
        e["was_recorded"] = l.was_recorded;
        e["recording_details"] = l.recording_details;
        e["call_recording_ids"] = ordered_json::array();
        e["voicemail_link"] = or_null(l.voicemail_link);
        e["voicemail_recording_id"] = or_null(l.voicemail_recording_id);
        e["transcription_text"] = or_null(l.transcription_text);
        e["integrations"] = ordered_json::object();
        for (auto it = extra.begin(); it != extra.end(); ++it) e[it.key()] = it.value();
        // Dialpad generates the event a moment after what it reports.
        auto const generated = abs(at_ms) + jitter(300, 1900);
        e["event_timestamp"] = generated;
        add(subscription_kind::call, at_ms, e);
    }

    void add(subscription_kind family, std::int64_t at_ms, ordered_json const& event) {
        auto const offset = milliseconds{base_ms_ + at_ms};
        events_.push_back({family, std::chrono::duration_cast<mono_duration>(offset), event.dump()});
    }

    // Wall time in ms of `at_ms` after the current part's start.
    std::int64_t abs(std::int64_t at_ms) const { return start_ms_ + base_ms_ + at_ms; }

    // Starts the next part of a composite scenario `at_ms` after the
    // scenario's start, answered by another agent: what follows is timed from
    // there, so parts played at different times interleave.
    void begin_part(std::int64_t at_ms) {
        base_ms_ = at_ms;
        agent_ = person();
    }

    std::vector<generated_event> take() {
        std::stable_sort(events_.begin(), events_.end(),
                         [](auto const& a, auto const& b) { return a.offset < b.offset; });
        return std::move(events_);
    }

    party const& agent() const { return agent_; }
    std::int64_t office_id() const { return office_id_; }

private:
    std::mt19937_64 rng_;
    std::int64_t start_ms_;
    std::int64_t base_ms_ = 0;
    std::int64_t office_id_ = 0;
    party agent_;
    std::vector<generated_event> events_;
};

// An inbound call to the Support department: the entry-point leg rings, an
// operator leg rings and answers, both hang up, the recording follows, and
// minutes later the Ai transcript and recap.
void inbound_answered(scenario_builder& b) {
    auto const caller = b.phone();
    auto const department = ordered_json{{"id", b.id()}, {"type", "department"}, {"name", "Support"},
                                         {"email", ""}, {"phone", "+14155550100"}};
    scenario_builder::leg entry;
    entry.call_id = b.id();
    entry.external_number = caller;
    entry.internal_number = "+14155550100";
    entry.target = department;
    entry.target["office_id"] = b.office_id();
    entry.contact = b.contact_of(caller);
    entry.group_id = "Department:" + std::to_string(department["id"].get<std::int64_t>());
    entry.date_started = b.abs(0);
    entry.date_rang = b.abs(120);

    auto op = entry;
    op.call_id = entry.call_id + 1 + b.jitter(0, 90);
    op.target = b.user_target(b.agent());
    op.entry_point_call_id = entry.call_id;
    op.entry_point_target = department;
    entry.operator_call_id = op.call_id;

    b.call_event(entry, "ringing", 200);
    op.date_first_rang = b.abs(600);
    b.call_event(op, "ringing", 600);
    op.date_connected = b.abs(4800);
    entry.date_connected = op.date_connected;
    b.call_event(op, "connected", 4800);
    b.call_event(entry, "connected", 4900);
    auto const end = 4800 + b.jitter(60'000, 240'000);
    op.date_ended = b.abs(end);
    entry.date_ended = op.date_ended;
    op.was_recorded = true;
    auto const recording_id = std::to_string(b.id());
    op.recording_details = ordered_json::array({{{"id", recording_id},
                                                 {"url", "https://dialpad.com/blob/adminrecording/" + recording_id + ".mp3"},
                                                 {"recording_type", "admincallrecording"},
                                                 {"start_time", b.abs(4900)},
                                                 {"duration", end - 4900}}});
    b.call_event(op, "hangup", end);
    b.call_event(entry, "hangup", end + 150);
    b.call_event(op, "recording", end + 9000);
    // Dialpad Ai's post-call pieces arrive minutes later, on the operator leg.
    b.call_event(op, "call_transcription", end + 150'000);
    b.call_event(op, "recap_summary", end + 190'000,
                 {{"recap_summary", "Caller asked about an order that arrived damaged; agent arranged a replacement."}});
    b.call_event(op, "recap_action_items", end + 191'000,
                 {{"recap_action_items", {"Ship the replacement", "Email the return label"}}});
}

// An inbound call nobody answers: it rings, goes to voicemail, hangs up; the
// voicemail audio and its transcription arrive later.
void inbound_voicemail(scenario_builder& b) {
    auto const caller = b.phone();
    scenario_builder::leg l;
    l.call_id = b.id();
    l.external_number = caller;
    l.internal_number = b.agent().phone;
    l.target = b.user_target(b.agent());
    l.contact = b.contact_of(caller);
    l.date_started = b.abs(0);
    l.date_rang = b.abs(100);
    l.date_first_rang = b.abs(450);
    b.call_event(l, "ringing", 450);
    b.call_event(l, "voicemail", 25'000);
    l.date_ended = b.abs(41'000);
    b.call_event(l, "hangup", 41'000);
    l.voicemail_recording_id = std::to_string(b.id());
    l.voicemail_link = "https://dialpad.com/secureblob/voicemail/" + *l.voicemail_recording_id;
    b.call_event(l, "voicemail_uploaded", 49'000);
    l.transcription_text = "Hi, this is about my order, please call me back.";
    b.call_event(l, "transcription", 95'000);
}

// An outbound call placed by the agent: calling, ringing, connected, hangup.
void outbound_answered(scenario_builder& b) {
    auto const callee = b.phone();
    scenario_builder::leg l;
    l.call_id = b.id();
    l.direction = "outbound";
    l.external_number = callee;
    l.internal_number = b.agent().phone;
    l.target = b.user_target(b.agent());
    l.contact = b.contact_of(callee, "shared");
    l.date_started = b.abs(0);
    b.call_event(l, "calling", 100);
    l.date_first_rang = b.abs(1400);
    b.call_event(l, "ringing", 1400);
    l.date_connected = b.abs(9000);
    b.call_event(l, "connected", 9000);
    l.date_ended = b.abs(9000 + b.jitter(30'000, 180'000));
    b.call_event(l, "hangup", *l.date_ended - b.abs(0));
}

// An answered call the agent transfers to a colleague: the first leg hangs
// up, a new leg to the colleague rings and connects, marked as transferred.
void transfer(scenario_builder& b) {
    auto const caller = b.phone();
    scenario_builder::leg first;
    first.call_id = b.id();
    first.external_number = caller;
    first.internal_number = b.agent().phone;
    first.target = b.user_target(b.agent());
    first.contact = b.contact_of(caller);
    first.date_started = b.abs(0);
    first.date_first_rang = b.abs(500);
    b.call_event(first, "ringing", 500);
    first.date_connected = b.abs(3000);
    b.call_event(first, "connected", 3000);
    auto colleague = b.person();
    auto second = first;
    second.call_id = first.call_id + 7;
    second.target = b.user_target(colleague);
    second.master_call_id = first.call_id;
    second.date_connected.reset();
    second.date_first_rang = b.abs(62'000);
    b.call_event(second, "ringing", 62'000, {{"is_transferred", true}, {"transferred_from", first.target}});
    first.date_ended = b.abs(64'000);
    b.call_event(first, "hangup", 64'000);
    second.date_connected = b.abs(66'000);
    b.call_event(second, "connected", 66'000, {{"is_transferred", true}, {"transferred_from", first.target}});
    second.date_ended = b.abs(150'000);
    b.call_event(second, "hangup", 150'000, {{"is_transferred", true}, {"transferred_from", first.target}});
}

ordered_json sms_event(scenario_builder& b, std::int64_t message_id, std::string const& direction,
                       std::string const& text, std::string const& status, std::optional<std::string> result,
                       std::string const& external, std::int64_t at_ms) {
    auto const& agent = b.agent();
    ordered_json e;
    e["id"] = message_id;
    e["created_date"] = b.abs(0);
    e["direction"] = direction;
    e["event_timestamp"] = b.abs(at_ms) + 420;
    e["target"] = {{"id", agent.id}, {"type", "user"}, {"name", agent.name},
                   {"phone_number", "(415) 555-" + agent.phone.substr(8)}};
    e["contact"] = {{"id", b.id()}, {"name", k_places[0]}, {"phone_number", external}};
    e["sender_id"] = nullptr;
    e["from_number"] = direction == "inbound" ? external : agent.phone;
    e["to_number"] = ordered_json::array({direction == "inbound" ? agent.phone : external});
    e["mms"] = false;
    e["mms_url"] = nullptr;
    e["is_internal"] = false;
    e["message_status"] = status;
    e["message_delivery_result"] = result ? ordered_json(*result) : ordered_json(nullptr);
    e["text"] = text;
    e["text_content"] = text;
    return e;
}

void sms_inbound(scenario_builder& b) {
    auto const external = b.phone();
    b.add(subscription_kind::sms, 0,
          sms_event(b, b.id(), "inbound", "Running 10 minutes late.", "pending", std::nullopt, external, 0));
}

// An outbound SMS: pending, then its delivery-status follow-up.
void sms_outbound(scenario_builder& b) {
    auto const external = b.phone();
    auto const id = b.id();
    b.add(subscription_kind::sms, 0, sms_event(b, id, "outbound", "Your appointment is confirmed.", "pending",
                                               std::nullopt, external, 0));
    b.add(subscription_kind::sms, 2500, sms_event(b, id, "outbound", "Your appointment is confirmed.", "success",
                                                  std::string{"accepted"}, external, 2500));
}

void contact_lifecycle(scenario_builder& b) {
    auto const contact_id = std::to_string(b.id());
    auto contact = [&](std::string const& title) {
        return ordered_json{{"id", contact_id}, {"type", "shared"}, {"first_name", "Sam"}, {"last_name", "Ortiz"},
                            {"display_name", "Sam Ortiz"}, {"phones", {"+14155550142"}},
                            {"primary_phone", "+14155550142"}, {"emails", {"sam@example.net"}},
                            {"primary_email", "sam@example.net"}, {"company_name", "Ortiz Plumbing"},
                            {"job_title", title}, {"urls", ordered_json::array()}, {"trunk_group", ""},
                            {"extension", ""}};
    };
    b.add(subscription_kind::contact, 0, {{"event", "Created"}, {"contact", contact("Owner")}});
    b.add(subscription_kind::contact, 30'000, {{"event", "Updated"}, {"contact", contact("Founder")}});
    b.add(subscription_kind::contact, 90'000, {{"event", "Deleted"}, {"contact", contact("Founder")}});
}

// An agent's shift: on duty, a call (occupied), wrap-up, a break, off duty.
void agent_shift(scenario_builder& b) {
    auto const& agent = b.agent();
    auto const center = std::to_string(b.id());
    std::int64_t at = 0;
    for (auto const& [status, minutes] : std::vector<std::pair<std::string, int>>{
             {"available", 0}, {"occupied", 12}, {"wrapup", 19}, {"available", 21}, {"busy", 95}, {"unavailable", 110}}) {
        at = minutes * 60'000;
        ordered_json e;
        e["availability_status"] = status == "available" ? "available" : "unavailable";
        e["call_center_ids"] = status == "unavailable" ? ordered_json::array() : ordered_json::array({center});
        e["date"] = b.abs(at);
        e["event_timestamp"] = b.abs(at) + 420;
        e["on_duty_status"] = status;
        e["on_duty_status_reason"] = status == "busy" ? "Lunch" : "";
        e["powerdialer_mode"] = false;
        e["powerdialer_session"] = "";
        e["target"] = {{"email", agent.email}, {"id", std::to_string(agent.id)}, {"name", agent.name},
                       {"phone", agent.phone}, {"type", "user"}};
        b.add(subscription_kind::agent_status, at, e);
    }
}

void changelog_actions(scenario_builder& b) {
    auto const admin = b.person();
    auto const department = b.id();
    struct change {
        char const* action;
        ordered_json data;
        char const* note;
    };
    std::vector<change> const changes{
        {"operator_removed", {{"name", "Support"}, {"operator_name", b.agent().name}}, "Operator removed"},
        {"updated_ivr", nullptr, "Main menu greeting updated"},
        {"admin_call_recording_override", {{"from", "inherit upper level"}, {"to", "on"}}, ""},
        {"auto_hold_seconds_changed", {{"auto_hold_seconds", 45}, {"room_name", "Support"}}, ""},
    };
    std::int64_t at = 0;
    for (auto const& c : changes) {
        ordered_json e;
        e["action"] = c.action;
        e["additional_data"] = c.data;
        e["changed_by"] = {{"name", admin.name}, {"id", admin.id}, {"type", "User"}};
        e["date"] = b.abs(at);
        e["note"] = c.note;
        e["target"] = {{"type", "Department"}, {"id", department}};
        b.add(subscription_kind::changelog, at, e);
        at += 45'000;
    }
}

// A busy hour at a support line: calls of every kind starting at random
// moments over 50 minutes, so their legs interleave, with texts among them.
void busy_hour(scenario_builder& b) {
    using part_fn = void (*)(scenario_builder&);
    constexpr part_fn k_calls[] = {inbound_answered, inbound_answered, inbound_answered, inbound_voicemail,
                                   outbound_answered, outbound_answered, transfer};
    constexpr part_fn k_texts[] = {sms_inbound, sms_outbound};
    std::vector<std::int64_t> starts;
    for (int i = 0; i < 16; ++i) starts.push_back(b.jitter(0, 50 * 60'000));
    std::sort(starts.begin(), starts.end());
    for (auto const at : starts) {
        b.begin_part(at);
        k_calls[b.jitter(0, static_cast<std::int64_t>(std::size(k_calls)) - 1)](b);
        if (b.jitter(0, 2) == 0) {
            b.begin_part(at + b.jitter(5'000, 120'000));
            k_texts[b.jitter(0, static_cast<std::int64_t>(std::size(k_texts)) - 1)](b);
        }
    }
}

using scenario_fn = void (*)(scenario_builder&);
struct scenario {
    scenario_fn build;
    char const* description;
};

std::map<std::string, scenario> const& scenarios() {
    static std::map<std::string, scenario> const all{
        {"inbound_call_answered",
         {inbound_answered, "inbound call to a department: entry-point and operator legs, ringing, connected, hangup, "
                            "recording, then the Ai transcript and recap"}},
        {"inbound_call_voicemail",
         {inbound_voicemail, "inbound call not answered: ringing, voicemail, hangup, voicemail_uploaded, transcription"}},
        {"outbound_call_answered", {outbound_answered, "outbound call: calling, ringing, connected, hangup"}},
        {"call_transfer", {transfer, "answered call transferred to a colleague: a new leg marked is_transferred"}},
        {"sms_inbound", {sms_inbound, "an inbound SMS (pending)"}},
        {"sms_outbound", {sms_outbound, "an outbound SMS and its delivery-status follow-up (success, accepted)"}},
        {"contact_lifecycle", {contact_lifecycle, "a shared contact created, updated, deleted"}},
        {"agent_shift", {agent_shift, "a call-center agent through a shift: available, occupied, wrapup, busy, unavailable"}},
        {"changelog_actions", {changelog_actions, "change-log actions by an admin on a department"}},
        {"busy_hour", {busy_hour, "16 calls of every kind over 50 minutes, legs interleaved, with texts among them"}},
    };
    return all;
}

}  // namespace

std::vector<std::string> const& scenario_names() {
    static std::vector<std::string> const names = [] {
        std::vector<std::string> list;
        for (auto const& [name, s] : scenarios()) list.push_back(name);
        return list;
    }();
    return names;
}

std::string scenario_description(std::string const& name) {
    auto const it = scenarios().find(name);
    return it == scenarios().end() ? std::string{} : it->second.description;
}

std::vector<generated_event> generate_scenario(scenario_request const& request) {
    auto const it = scenarios().find(request.name);
    if (it == scenarios().end()) throw std::invalid_argument{"no scenario named '" + request.name + "'"};
    scenario_builder builder{request};
    it->second.build(builder);
    return builder.take();
}

}  // namespace harness::mock
