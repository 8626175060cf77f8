#include "core/model/event_index.hpp"

#include <doctest/doctest.h>

using namespace harness::model;
namespace jwt = harness::jwt;

TEST_CASE("model::index_event: a call event yields state, direction, the call graph ids and the target") {
    auto const index = index_event(
        R"({"call_id": 5823519046647808, "state": "ringing", "direction": "inbound",)"
        R"( "target": {"id": 5100000000000001, "type": "user", "name": "Avery Kim"},)"
        R"( "contact": {"id": 6000000000000001, "type": "local"},)"
        R"( "entry_point_call_id": 5823519046647000, "operator_call_id": null, "master_call_id": null,)"
        R"( "entry_point_target": {"id": 5300000000000001, "type": "department"},)"
        R"( "labels": [], "total_duration": 8951.029999999999, "event_timestamp": 1767225601250})");
    CHECK(index.parsed);
    CHECK(index.family == event_family::call);
    CHECK(index.state == "ringing");
    CHECK(index.direction == "inbound");
    CHECK(index.call_id == 5823519046647808);
    CHECK(index.entry_point_call_id == 5823519046647000);
    CHECK_FALSE(index.master_call_id.has_value());
    CHECK_FALSE(index.operator_call_id.has_value());
    CHECK(index.target_type == "user");  // not the contact's or the entry point's type
    CHECK(index.target_id == "5100000000000001");
    CHECK(index.event_timestamp == 1767225601250);
    CHECK_FALSE(index.is_jwt);
    CHECK(index.signature == signature_check::not_jwt);
}

TEST_CASE("model::index_event: every family is told by its field set") {
    auto const sms = index_event(
        R"({"id": 6312345678901248, "direction": "inbound", "from_number": "+14155550142",)"
        R"( "to_number": ["+14155550111"], "message_status": "pending", "event_timestamp": 1767228000540,)"
        R"( "target": {"id": 5100000000000001, "type": "user"}})");
    CHECK(sms.family == event_family::sms);
    CHECK(sms.state == "pending");
    CHECK(sms.direction == "inbound");

    auto const contact = index_event(R"({"event": "Updated", "contact": {"id": "5911111111111112", "type": "shared"}})");
    CHECK(contact.family == event_family::contact);
    CHECK(contact.state == "Updated");
    CHECK_FALSE(contact.event_timestamp.has_value());

    auto const agent = index_event(
        R"({"availability_status": "unavailable", "on_duty_status": "wrapup",)"
        R"( "target": {"id": "5100000000000001", "type": "user"}, "event_timestamp": 1767229000420})");
    CHECK(agent.family == event_family::agent_status);
    CHECK(agent.state == "wrapup");
    CHECK(agent.target_id == "5100000000000001");  // a string id stays text

    auto const changelog = index_event(
        R"({"action": "operator_removed", "changed_by": {"name": "Riley Chen", "id": 5100000000000002},)"
        R"( "date": 1767230000000, "target": {"type": "Department", "id": 5300000000000001}})");
    CHECK(changelog.family == event_family::changelog);
    CHECK(changelog.state == "operator_removed");
    CHECK(changelog.target_type == "Department");
}

TEST_CASE("model::index_event: the subscription decides when the fields do not") {
    auto const bare = index_event(R"({"note": "unrecognisable"})");
    CHECK(bare.family == event_family::unknown);
    auto const hinted = index_event(R"({"note": "unrecognisable"})", {event_family::changelog, std::nullopt});
    CHECK(hinted.family == event_family::changelog);
    // Fields win over the hint: a call event on an SMS subscription is a call.
    auto const call = index_event(R"({"call_id": 1, "state": "hangup"})", {event_family::sms, std::nullopt});
    CHECK(call.family == event_family::call);
}

TEST_CASE("model::index_event: a JWT frame is decoded and, given the secret, verified") {
    std::string const payload = R"({"call_id":42,"state":"connected","event_timestamp":1767225601250})";
    auto const token = jwt::sign_hs256(jwt::make_header(jwt::algorithm::hs256), payload, "s3cret");

    auto const unchecked = index_event(token);
    CHECK(unchecked.is_jwt);
    CHECK(unchecked.signature == signature_check::unchecked);
    CHECK(unchecked.family == event_family::call);
    CHECK(unchecked.call_id == 42);

    CHECK(index_event(token, {std::nullopt, "s3cret"}).signature == signature_check::valid);
    auto const forged = index_event(token, {std::nullopt, "wrong"});
    CHECK(forged.signature == signature_check::bad_signature);
    CHECK(forged.state == "connected");  // still indexed: a bad signature is flagged, not dropped
}

TEST_CASE("model::index_event: unreadable frames are indexed as such, never thrown") {
    for (std::string_view bad : {"", "not json", "{\"call_id\": ", "[1,2]", "\"text\"", "{\"a\":1} trailing"}) {
        CAPTURE(bad);
        auto const index = index_event(bad);
        CHECK_FALSE(index.parsed);
        CHECK(index.family == event_family::unknown);
    }
    auto const broken_jwt = index_event("eyJhbGciOiJIUzI1NiJ9.!!!.x");
    CHECK_FALSE(broken_jwt.is_jwt);  // not base64url: not taken for a JWT at all
    auto const bad_header = index_event("eyJub3QiOiJhbGcifQ.e30.AA");
    CHECK(bad_header.is_jwt);
    CHECK(bad_header.signature == signature_check::malformed);
}

TEST_CASE("model::index_event: ids beyond int64 are left out, not wrapped") {
    auto const index = index_event(R"({"call_id": 18446744073709551615, "state": "ringing"})");
    CHECK(index.family == event_family::call);
    CHECK_FALSE(index.call_id.has_value());
}
