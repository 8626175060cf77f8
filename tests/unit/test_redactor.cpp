#include "core/redact/redactor.hpp"

#include "core/jwt/jwt.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <regex>
#include <stdexcept>
#include <string>

namespace jwt = harness::jwt;
namespace redact = harness::redact;
using json = nlohmann::ordered_json;
using redact::redact_error;
using redact::redact_rules;
using redact::redactor;

namespace {

constexpr std::string_view k_key = "unit-test-redaction-key";

// Shapes from dialpad-api.md §1 (invented values), compact as delivered.
constexpr std::string_view k_call_ringing =
    R"({"call_id":5823519046647808,"state":"ringing","direction":"inbound","external_number":"+14155550142",)"
    R"("internal_number":"+14155550100","selected_caller_id":null,"date_started":1767225600412,"duration":null,)"
    R"("target":{"id":5100000000000001,"type":"user","name":"Avery Kim","email":"avery@example.com",)"
    R"("phone":"+14155550111","office_id":5200000000000001},)"
    R"("contact":{"id":6000000000000001,"type":"local","name":"(415) 555-0142","email":"",)"
    R"("phone":"+14155550142"},"group_id":"Department:5300000000000001","labels":[],"event_timestamp":1767225601250})";
constexpr std::string_view k_call_hangup =
    R"({"call_id":5823519046647808,"state":"hangup","direction":"inbound","external_number":"+14155550142",)"
    R"("internal_number":"+14155550100","duration":126395.0,"total_duration":130793.113,"mos_score":4.37,)"
    R"("target":{"id":5100000000000001,"type":"user","name":"Avery Kim","email":"avery@example.com",)"
    R"("phone":"+14155550111","office_id":5200000000000001},"event_timestamp":1767225732410})";
constexpr std::string_view k_sms =
    R"({"id":6312345678901248,"created_date":1767228000123,"direction":"inbound",)"
    R"("target":{"id":5100000000000001,"type":"user","name":"Avery Kim","phone_number":"(415) 555-0111"},)"
    R"("contact":{"id":"http://www.google.com/m8/feeds/contacts/sam%40example.net/base/1a2b","name":"Sam Ortiz",)"
    R"("phone_number":"+14155550142"},"sender_id":null,"from_number":"+14155550142",)"
    R"("to_number":["+14155550111","+442071234567"],"mms":false,"text":"Running 10 minutes late."})";
constexpr std::string_view k_contact =
    R"({"event":"Updated","contact":{"id":"5911111111111112","type":"shared","first_name":"Sam",)"
    R"("last_name":"Ortiz","display_name":"Sam Ortiz","phones":["+14155550142","+14155550143"],)"
    R"("primary_phone":"+14155550142","emails":["sam@example.net"],"primary_email":"sam@example.net",)"
    R"("company_name":"Ortiz Plumbing","job_title":"Owner","extension":""}})";
constexpr std::string_view k_changelog =
    R"({"action":"operator_removed","additional_data":{"name":"Support","operator_name":"Avery Kim",)"
    R"("0":"avery@example.com"},"changed_by":{"name":"Riley Chen","id":5100000000000002,"type":"User"},)"
    R"("date":1767230000000,"note":"PROXYING AS avery@example.com | Operator removed",)"
    R"("target":{"type":"Department","id":5300000000000001}})";

// The HS256 test vector of dialpad-api.md §2.
constexpr std::string_view k_secret = "emulator-test-secret";
constexpr std::string_view k_signed_event =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJjYWxsX2lkIjo1ODIzNTE5MDQ2NjQ3ODA4LCJzdGF0ZSI6InJpbmdpbmciLCJkaXJlY3Rpb24iOiJpbmJvdW5kIiwiZXh0"
    "ZXJuYWxfbnVtYmVyIjoiKzE0MTU1NTUwMTQyIiwiaW50ZXJuYWxfbnVtYmVyIjoiKzE0MTU1NTUwMTAwIiwiZXZlbnRfdGlt"
    "ZXN0YW1wIjoxNzY3MjI1NjAxMjUwfQ."
    "VveCL_0p0CfoMHn83GTldwH3IHD1k_rYsH_xqq1_25g";

json redacted(redactor const& r, std::string_view event) {
    return json::parse(r.redact_event_json(event));
}

std::string text_at(json const& event, json::json_pointer const& pointer) {
    return event.at(pointer).get<std::string>();
}

bool is_fake_email(std::string const& text) {
    return std::regex_match(text, std::regex{"user-[0-9a-f]{10}@example\\.com"});
}
bool is_fake_name(std::string const& text, std::string const& prefix) {
    return std::regex_match(text, std::regex{prefix + " [0-9a-f]{8}"});
}

// Same length, "+", same first digit, digits only, and not the original.
void check_e164_shape(std::string const& fake, std::string const& original) {
    CAPTURE(original);
    CAPTURE(fake);
    CHECK(fake != original);
    REQUIRE(fake.size() == original.size());
    CHECK(fake[0] == '+');
    CHECK(fake[1] == original[1]);
    CHECK(fake.find_first_not_of("0123456789", 1) == std::string::npos);
}

}  // namespace

TEST_CASE("redact: the same value maps to the same fake across fields and frames") {
    redactor const r{std::string{k_key}, redact_rules{}};
    auto const ringing = redacted(r, k_call_ringing);
    auto const hangup = redacted(r, k_call_hangup);
    auto const sms = redacted(r, k_sms);
    auto const contact = redacted(r, k_contact);
    auto const changelog = redacted(r, k_changelog);

    auto const caller = text_at(ringing, "/external_number"_json_pointer);
    CHECK(caller != "+14155550142");
    CHECK(text_at(ringing, "/contact/phone"_json_pointer) == caller);
    CHECK(text_at(hangup, "/external_number"_json_pointer) == caller);
    CHECK(text_at(sms, "/from_number"_json_pointer) == caller);
    CHECK(text_at(sms, "/contact/phone_number"_json_pointer) == caller);
    CHECK(text_at(contact, "/contact/phones/0"_json_pointer) == caller);
    CHECK(text_at(contact, "/contact/primary_phone"_json_pointer) == caller);
    CHECK(text_at(sms, "/to_number/0"_json_pointer) == text_at(ringing, "/target/phone"_json_pointer));
    // Different originals get different fakes.
    CHECK(text_at(contact, "/contact/phones/1"_json_pointer) != caller);
    CHECK(text_at(ringing, "/internal_number"_json_pointer) != caller);

    auto const agent_email = text_at(ringing, "/target/email"_json_pointer);
    CHECK(text_at(hangup, "/target/email"_json_pointer) == agent_email);
    CHECK(text_at(changelog, "/additional_data/0"_json_pointer) == agent_email);
    CHECK(text_at(changelog, "/note"_json_pointer) == "PROXYING AS " + agent_email + " | Operator removed");
    // Addresses differ only in case: one mailbox, one fake.
    CHECK(text_at(redacted(r, R"({"email":"Avery@EXAMPLE.com"})"), "/email"_json_pointer) == agent_email);

    auto const agent_name = text_at(ringing, "/target/name"_json_pointer);
    CHECK(text_at(hangup, "/target/name"_json_pointer) == agent_name);
    CHECK(text_at(sms, "/target/name"_json_pointer) == agent_name);
    CHECK(text_at(changelog, "/additional_data/operator_name"_json_pointer) == agent_name);

    // Frames redacted by another object with the same key agree too.
    redactor const again{std::string{k_key}, redact_rules{}};
    CHECK(again.redact_event_json(k_call_ringing) == r.redact_event_json(k_call_ringing));
}

TEST_CASE("redact: E.164 numbers keep their shape") {
    redactor const r{std::string{k_key}, redact_rules{}};
    for (std::string const number :
         {"+14155550142", "+442071234567", "+8613800138000", "+12345678", "+123456789012345"}) {
        // Under a phone key and under a key that says nothing.
        auto const event = json::parse(r.redact_event_json(R"({"external_number":")" + number +
                                                           R"(","custom":{"deep":[")" + number + R"("]}})"));
        auto const fake = text_at(event, "/external_number"_json_pointer);
        check_e164_shape(fake, number);
        CHECK(text_at(event, "/custom/deep/0"_json_pointer) == fake);
    }
    // Too short or too long for E.164, under a key that says nothing: left alone.
    CHECK(r.redact_event_json(R"({"a":"+1234567","b":"+1234567890123456","c":"+1 415 555 0142"})") ==
          R"({"a":"+1234567","b":"+1234567890123456","c":"+1 415 555 0142"})");
}

TEST_CASE("redact: formatted numbers under phone keys keep their punctuation") {
    redactor const r{std::string{k_key}, redact_rules{}};
    auto const event = redacted(
        r, R"({"phone_number":"(415) 555-0111","internal_number":"blocked","to_number":["(415) 555-0111"]})");
    auto const fake = text_at(event, "/phone_number"_json_pointer);
    CHECK(fake != "(415) 555-0111");
    REQUIRE(fake.size() == 14);
    CHECK(fake[0] == '(');
    CHECK(fake.substr(4, 2) == ") ");
    CHECK(fake[9] == '-');
    CHECK(std::regex_match(fake, std::regex{R"(\(\d{3}\) \d{3}-\d{4})"}));
    CHECK(text_at(event, "/internal_number"_json_pointer) == "blocked");
    // A list under a phone key is a list of numbers.
    CHECK(text_at(event, "/to_number/0"_json_pointer) == fake);
}

TEST_CASE("redact: emails and names are replaced") {
    redactor const r{std::string{k_key}, redact_rules{}};
    auto const call = redacted(r, k_call_ringing);
    CHECK(is_fake_email(text_at(call, "/target/email"_json_pointer)));
    CHECK(text_at(call, "/contact/email"_json_pointer).empty());  // "" means none
    CHECK(is_fake_name(text_at(call, "/target/name"_json_pointer), "Person"));
    // Dialpad puts a formatted number in a contact's name when it knows no name.
    CHECK(is_fake_name(text_at(call, "/contact/name"_json_pointer), "Person"));

    auto const contact = redacted(r, k_contact);
    CHECK(is_fake_name(text_at(contact, "/contact/first_name"_json_pointer), "Name"));
    CHECK(is_fake_name(text_at(contact, "/contact/last_name"_json_pointer), "Name"));
    CHECK(is_fake_name(text_at(contact, "/contact/display_name"_json_pointer), "Person"));
    CHECK(is_fake_name(text_at(contact, "/contact/company_name"_json_pointer), "Company"));
    auto const address = text_at(contact, "/contact/emails/0"_json_pointer);
    CHECK(is_fake_email(address));
    CHECK(text_at(contact, "/contact/primary_email"_json_pointer) == address);

    auto const changelog = redacted(r, k_changelog);
    CHECK(is_fake_name(text_at(changelog, "/changed_by/name"_json_pointer), "Person"));

    // The Google-contacts id holds the address percent-encoded.
    auto const sms = redacted(r, k_sms);
    auto const local = address.substr(0, address.find('@'));
    CHECK(text_at(sms, "/contact/id"_json_pointer) ==
          "http://www.google.com/m8/feeds/contacts/" + local + "%40example.com/base/1a2b");

    auto const whole = r.redact_event_json(k_contact);
    for (auto const* original : {"Sam", "Ortiz", "sam@example.net", "+14155550142", "+14155550143"})
        CHECK_MESSAGE(whole.find(original) == std::string::npos, original);
}

TEST_CASE("redact: ids, numbers and other fields stay byte-identical") {
    redactor const r{std::string{k_key}, redact_rules{}};
    auto const output = r.redact_event_json(k_call_hangup);
    auto const event = json::parse(output);
    // Put the fakes back where the originals were: what remains must be the
    // input, byte for byte (key order, ids, 126395.0, 130793.113, 4.37).
    std::string expected{k_call_hangup};
    auto const put = [&](std::string const& key, std::string const& original, std::string const& fake) {
        auto const from = '"' + key + "\":\"" + original + '"';
        auto const at = expected.find(from);
        REQUIRE(at != std::string::npos);
        expected.replace(at, from.size(), '"' + key + "\":\"" + fake + '"');
    };
    put("external_number", "+14155550142", text_at(event, "/external_number"_json_pointer));
    put("internal_number", "+14155550100", text_at(event, "/internal_number"_json_pointer));
    put("name", "Avery Kim", text_at(event, "/target/name"_json_pointer));
    put("email", "avery@example.com", text_at(event, "/target/email"_json_pointer));
    put("phone", "+14155550111", text_at(event, "/target/phone"_json_pointer));
    CHECK(output == expected);

    // Ids beyond 2^53 survive, and strings that are not personal are untouched.
    auto const ids =
        R"({"call_id":9007199254740993,"master_call_id":-9007199254740993,"big":18446744073709551615,)"
        R"("group_id":"Office:5527348325810176","voicemail_link":"https://dialpad.com/secureblob/x",)"
        R"("custom_data":"{\"crm_task\":\"T-1042\"}","labels":["vip"],"ok":true,"none":null})";
    CHECK(r.redact_event_json(ids) == ids);
}

TEST_CASE("redact: a subset of rules leaves the other kinds alone") {
    auto const only = [](std::string_view rules) {
        auto const parsed = redact::parse_redact_rules(rules);
        REQUIRE(parsed);
        return redacted(redactor{std::string{k_key}, *parsed}, k_call_ringing);
    };
    auto const phones = only("phones");
    CHECK(text_at(phones, "/external_number"_json_pointer) != "+14155550142");
    CHECK(text_at(phones, "/target/name"_json_pointer) == "Avery Kim");
    CHECK(text_at(phones, "/target/email"_json_pointer) == "avery@example.com");

    auto const names = only("names");
    CHECK(text_at(names, "/external_number"_json_pointer) == "+14155550142");
    CHECK(text_at(names, "/target/email"_json_pointer) == "avery@example.com");
    CHECK(is_fake_name(text_at(names, "/target/name"_json_pointer), "Person"));

    auto const emails = only("emails");
    CHECK(text_at(emails, "/target/phone"_json_pointer) == "+14155550111");
    CHECK(text_at(emails, "/target/name"_json_pointer) == "Avery Kim");
    CHECK(is_fake_email(text_at(emails, "/target/email"_json_pointer)));

    // With names off, an E.164 value under a name key is still a phone number.
    auto const under_name =
        redacted(redactor{std::string{k_key}, {true, true, false}}, R"({"name":"+14155550142"})");
    check_e164_shape(text_at(under_name, "/name"_json_pointer), "+14155550142");
}

TEST_CASE("redact: a JWT frame is redacted and re-signed with the secret") {
    REQUIRE(jwt::verify_hs256(k_signed_event, k_secret) == jwt::verdict::valid);
    redactor const r{std::string{k_key}, redact_rules{}};
    auto const frame = r.redact_frame(k_signed_event, std::string{k_secret});
    CHECK(jwt::looks_like_jwt(frame));
    CHECK(jwt::verify_hs256(frame, k_secret) == jwt::verdict::valid);
    auto const original = jwt::decode(k_signed_event);
    auto const decoded = jwt::decode(frame);
    REQUIRE(original);
    REQUIRE(decoded);
    CHECK(decoded->header_json == original->header_json);
    CHECK(decoded->payload == r.redact_event_json(original->payload));
    CHECK(decoded->payload.find("+14155550142") == std::string::npos);
    CHECK(decoded->payload.find(R"("call_id":5823519046647808)") != std::string::npos);

    // A plain JSON frame stays plain, with or without a secret.
    CHECK(r.redact_frame(k_call_ringing, std::string{k_secret}) == r.redact_event_json(k_call_ringing));
    CHECK(r.redact_frame(k_call_ringing, std::nullopt) == r.redact_event_json(k_call_ringing));
}

TEST_CASE("redact: a JWT frame that does not verify still does not after redaction") {
    auto const header = jwt::make_header(jwt::algorithm::hs256);
    auto const forged = jwt::sign_hs256(header, k_call_ringing, "another-secret");
    redactor const r{std::string{k_key}, redact_rules{}};
    auto const frame = r.redact_frame(forged, std::string{k_secret});
    CHECK(jwt::verify_hs256(frame, k_secret) == jwt::verdict::bad_signature);
    auto const decoded = jwt::decode(frame);
    REQUIRE(decoded);
    CHECK(decoded->payload == r.redact_event_json(k_call_ringing));
}

TEST_CASE("redact: a JWT frame without a secret, or not HS256, throws") {
    redactor const r{std::string{k_key}, redact_rules{}};
    CHECK_THROWS_WITH_AS(r.redact_frame(k_signed_event, std::nullopt),
                         doctest::Contains("cannot re-sign a JWT frame without the websocket secret"),
                         redact_error);
    auto const key = jwt::es256_key::generate();
    auto const es256 = jwt::sign_es256(jwt::make_header(jwt::algorithm::es256), k_call_ringing, key);
    CHECK_THROWS_AS(r.redact_frame(es256, std::string{k_secret}), redact_error);
    // A JWT whose payload is not an event object.
    auto const array = jwt::sign_hs256(jwt::make_header(jwt::algorithm::hs256), "[1,2]", k_secret);
    CHECK_THROWS_AS(r.redact_frame(array, std::string{k_secret}), redact_error);
}

TEST_CASE("redact: input that is not a JSON object throws") {
    redactor const r{std::string{k_key}, redact_rules{}};
    for (std::string_view bad : {"", "not json", "{", R"({"a":1)", "[1,2]", R"("text")", "42", "null"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(r.redact_event_json(bad), redact_error);
        CHECK_THROWS_AS(r.redact_frame(bad, std::string{k_secret}), redact_error);
    }
    // Nesting deep enough to threaten the stack is refused, not walked.
    std::string deep = R"({"a":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
    CHECK_THROWS_AS(r.redact_event_json(deep), redact_error);
}

TEST_CASE("redact: different keys give different fakes") {
    redactor const one{"key-one", redact_rules{}};
    redactor const two{"key-two", redact_rules{}};
    auto const a = redacted(one, k_call_ringing);
    auto const b = redacted(two, k_call_ringing);
    CHECK(text_at(a, "/external_number"_json_pointer) != text_at(b, "/external_number"_json_pointer));
    CHECK(text_at(a, "/target/email"_json_pointer) != text_at(b, "/target/email"_json_pointer));
    CHECK(text_at(a, "/target/name"_json_pointer) != text_at(b, "/target/name"_json_pointer));

    auto const random_a = redactor::with_random_key(redact_rules{});
    auto const random_b = redactor::with_random_key(redact_rules{});
    CHECK(random_a.redact_event_json(k_call_ringing) == random_a.redact_event_json(k_call_ringing));
    CHECK(random_a.redact_event_json(k_call_ringing) != random_b.redact_event_json(k_call_ringing));

    CHECK_THROWS_AS(redactor("", redact_rules{}), std::invalid_argument);
}

TEST_CASE("redact: parse_redact_rules") {
    auto const check_rules = [](std::string_view text, bool phones, bool emails, bool names) {
        CAPTURE(text);
        auto const rules = redact::parse_redact_rules(text);
        REQUIRE(rules);
        CHECK(rules->phones == phones);
        CHECK(rules->emails == emails);
        CHECK(rules->names == names);
    };
    check_rules("", true, true, true);
    check_rules("all", true, true, true);
    check_rules("phones", true, false, false);
    check_rules("emails", false, true, false);
    check_rules("names", false, false, true);
    check_rules("emails,names", false, true, true);
    check_rules("names,phones,emails", true, true, true);
    for (std::string_view bad : {"ALL", "phone", "none", "phones,", ",phones", "phones,,names",
                                 "phones, emails", "all,phones", " phones"}) {
        CAPTURE(bad);
        CHECK_FALSE(redact::parse_redact_rules(bad));
    }
}
