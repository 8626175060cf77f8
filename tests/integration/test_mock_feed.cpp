// dialpad-mock's event websocket: token scopes, routing, signing, bad
// tokens, the hourly cut in virtual time, fan-out, admin control.

#include "core/clock/virtual_clock.hpp"
#include "core/jwt/jwt.hpp"
#include "mockserver/mock_server.hpp"
#include "tests/support/mock_fixture.hpp"
#include "tests/support/ws_test_client.hpp"

#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

using harness::test::mock_fixture;
using harness::test::ws_test_client;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// Checks an HS256 compact JWT with OpenSSL alone (not the project's jwt
// module): returns the payload bytes if the signature holds, or nullopt.
std::optional<std::string> independent_hs256_payload(std::string const& token, std::string const& secret) {
    auto const first = token.find('.'), last = token.rfind('.');
    if (first == std::string::npos || first == last) return std::nullopt;
    auto from_url = [](std::string text) {  // base64url -> base64 with padding, then decode
        for (auto& c : text) c = c == '-' ? '+' : c == '_' ? '/' : c;
        while (text.size() % 4) text += '=';
        std::string out(text.size(), '\0');
        auto const n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                       reinterpret_cast<unsigned char const*>(text.data()), static_cast<int>(text.size()));
        if (n < 0) return std::string{};
        out.resize(static_cast<std::size_t>(n) - (text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0));
        return out;
    };
    auto const signing_input = token.substr(0, last);
    unsigned char mac[32];
    unsigned int length = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<unsigned char const*>(signing_input.data()), signing_input.size(), mac, &length);
    if (from_url(token.substr(last + 1)) != std::string(reinterpret_cast<char*>(mac), length)) return std::nullopt;
    return from_url(token.substr(first + 1, last - first - 1));
}

std::string call_event(std::int64_t call_id, std::string const& state, std::string const& target_type = "user",
                       std::int64_t target_id = 5100000000000001) {
    return R"({"call_id": )" + std::to_string(call_id) + R"(, "state": ")" + state +
           R"(", "direction": "inbound", "total_duration": 8951.029999999999, "target": {"id": )" +
           std::to_string(target_id) + R"(, "type": ")" + target_type + R"("}, "event_timestamp": 1767225601250})";
}

// Injects an event through the admin API, byte for byte; returns the
// connections it was queued for.
json inject(mock_fixture& mock, std::string const& type, std::string const& raw) {
    json body{{"type", type}, {"raw", raw}};
    return mock.call_json("POST", "/__admin/events", "", body.dump())["delivered"];
}

struct websocket_setup {
    std::string id;
    std::string url;
};

websocket_setup make_websocket(mock_fixture& mock, std::string const& key = "key-a", std::string const& secret = "") {
    auto const ws = mock.call_json("POST", "/api/v2/websockets", key, secret.empty() ? "" : R"({"secret":")" + secret + "\"}");
    return {ws["id"].get<std::string>(), ws["websocket_url"].get<std::string>()};
}

json subscribe(mock_fixture& mock, std::string const& kind, std::string const& fields, std::string const& key = "key-a") {
    return mock.call_json("POST", "/api/v2/subscriptions/" + kind, key, "{" + fields + "}");
}

}  // namespace

TEST_CASE("mock feed: a websocket-wide token gets every subscription's events, byte for byte") {
    mock_fixture mock;
    auto const ws = make_websocket(mock);
    subscribe(mock, "call", R"("endpoint_id":)" + ws.id + R"(,"call_states":["ringing"])");
    subscribe(mock, "sms", R"("endpoint_id":)" + ws.id + R"(,"direction":"inbound")");
    ws_test_client client{ws.url};
    mock.call("GET", "/api/v2/websockets");  // any round trip: the connection is registered by now

    auto const ringing = call_event(1, "ringing");
    CHECK(inject(mock, "call", ringing).size() == 1);
    CHECK(inject(mock, "call", call_event(1, "hangup")).empty());  // not a subscribed state
    std::string const sms = R"({"id":7,"direction":"inbound","from_number":"+14155550142","to_number":["+1"],"message_status":"pending"})";
    CHECK(inject(mock, "sms", sms).size() == 1);
    auto const got = client.wait_for_messages(2);
    REQUIRE(got.size() == 2);
    CHECK(got[0] == ringing);  // exact bytes: spacing, key order, 8951.029999999999
    CHECK(got[1] == sms);
}

TEST_CASE("mock feed: a subscription token gets only its subscription; companies never mix") {
    mock_fixture mock;
    auto const ws = make_websocket(mock);
    auto const calls = subscribe(mock, "call", R"("endpoint_id":)" + ws.id);
    subscribe(mock, "changelog", R"("endpoint_id":)" + ws.id);
    ws_test_client call_only{calls["websocket"]["websocket_url"].get<std::string>()};
    auto const other = make_websocket(mock, "key-b");
    subscribe(mock, "changelog", R"("endpoint_id":)" + other.id, "key-b");
    ws_test_client other_company{other.url};
    mock.call("GET", "/api/v2/websockets");

    std::string const change = R"({"action":"operator_removed","changed_by":{"id":1},"date":1767230000000,"target":{"type":"Office","id":2}})";
    auto const delivered = inject(mock, "changelog", change);
    CHECK(delivered.size() == 1);  // the other company's connection only
    CHECK(inject(mock, "call", call_event(2, "connected")).size() == 1);
    CHECK(call_only.wait_for_messages(1)[0] == call_event(2, "connected"));
    CHECK(other_company.wait_for_messages(1)[0] == change);
    CHECK(call_only.messages().size() == 1);
}

TEST_CASE("mock feed: a websocket with a secret sends each event as an HS256 JWT of its exact bytes") {
    mock_fixture mock;
    auto const ws = make_websocket(mock, "key-a", "feed-secret");
    subscribe(mock, "call", R"("endpoint_id":)" + ws.id);
    ws_test_client client{ws.url};
    mock.call("GET", "/api/v2/websockets");
    auto const event = call_event(3, "ringing");
    inject(mock, "call", event);
    auto const frame = client.wait_for_messages(1).at(0);
    CHECK(independent_hs256_payload(frame, "feed-secret") == event);  // OpenSSL alone agrees
    CHECK_FALSE(independent_hs256_payload(frame, "other-secret").has_value());
    CHECK(harness::jwt::verify_hs256(frame, "feed-secret") == harness::jwt::verdict::valid);
    auto const decoded = harness::jwt::decode(frame);
    REQUIRE(decoded.has_value());
    CHECK(decoded->payload == event);
    CHECK(json::parse(decoded->header_json) == json({{"alg", "HS256"}, {"typ", "JWT"}}));
}

TEST_CASE("mock feed: subscription filters") {
    mock_fixture mock;
    auto const ws = make_websocket(mock);
    auto const targeted = subscribe(mock, "call", R"("endpoint_id":)" + ws.id + R"(,"target_type":"office","target_id":9,"call_states":["all"])");
    auto const group = subscribe(mock, "call", R"("endpoint_id":)" + ws.id + R"(,"group_calls_only":true)");
    auto const sms_all = subscribe(mock, "sms", R"("endpoint_id":)" + ws.id + R"(,"direction":"outbound","status":true,"include_internal":true)");
    auto const sms_plain = subscribe(mock, "sms", R"("endpoint_id":)" + ws.id + R"(,"direction":"all")");
    auto const shared = subscribe(mock, "contact", R"("endpoint_id":)" + ws.id + R"(,"contact_type":"shared")");
    ws_test_client t{targeted["websocket"]["websocket_url"].get<std::string>()};
    ws_test_client g{group["websocket"]["websocket_url"].get<std::string>()};
    ws_test_client s_all{sms_all["websocket"]["websocket_url"].get<std::string>()};
    ws_test_client s_plain{sms_plain["websocket"]["websocket_url"].get<std::string>()};
    ws_test_client c{shared["websocket"]["websocket_url"].get<std::string>()};
    mock.call("GET", "/api/v2/websockets");

    auto count = [&](std::string const& type, std::string const& raw) { return inject(mock, type, raw).size(); };
    CHECK(count("call", call_event(1, "ringing", "office", 9)) == 2);  // targeted, and a group call
    CHECK(count("call", call_event(2, "ringing", "user", 9)) == 0);    // neither
    CHECK(count("call", call_event(3, "ringing", "office", 8)) == 1);  // group only
    auto sms = [](std::string const& direction, std::string const& status, bool internal) {
        return R"({"id":1,"direction":")" + direction + R"(","from_number":"+1","to_number":["+2"],"is_internal":)" +
               (internal ? "true" : "false") + R"(,"message_status":")" + status + "\"}";
    };
    CHECK(count("sms", sms("outbound", "pending", false)) == 2);
    CHECK(count("sms", sms("outbound", "success", false)) == 1);  // status follow-up: only with status=true
    CHECK(count("sms", sms("inbound", "pending", true)) == 0);    // internal: only with include_internal
    CHECK(count("sms", sms("outbound", "pending", true)) == 1);
    CHECK(count("contact", R"({"event":"Created","contact":{"id":"1","type":"shared"}})") == 1);
    CHECK(count("contact", R"({"event":"Created","contact":{"id":"1","type":"local"}})") == 0);

    mock.call_json("PATCH", "/api/v2/subscriptions/contact/" + shared["id"].get<std::string>(), "key-a",
                   R"({"contact_type":"shared","enabled":false})");
    CHECK(count("contact", R"({"event":"Updated","contact":{"id":"1","type":"shared"}})") == 0);
}

TEST_CASE("mock feed: bad tokens are closed (default) or refused") {
    SUBCASE("close: accepted, then closed with 1008") {
        mock_fixture mock;
        ws_test_client client{mock.endpoints().ws + "not-a-token"};
        auto const status = client.wait_closed();
        CHECK(status.code == 1008);
        CHECK(status.reason == "invalid or expired token");
    }
    SUBCASE("reject: the upgrade is answered 401 with a JSON error") {
        auto options = mock_fixture::default_options();
        options.feed.bad_token = harness::mock::bad_token_mode::reject;
        mock_fixture mock{options};
        try {
            ws_test_client client{mock.endpoints().ws + "not-a-token"};
            FAIL("the upgrade was accepted");
        } catch (harness::web::ws_refused const& refused) {
            CHECK(refused.status() == 401);
            CHECK(json::parse(refused.body())["error"]["code"] == 401);
        }
    }
    SUBCASE("a deleted websocket's token is bad") {
        mock_fixture mock;
        auto const ws = make_websocket(mock);
        mock.call_json("DELETE", "/api/v2/websockets/" + ws.id);
        ws_test_client client{ws.url};
        CHECK(client.wait_closed().code == 1008);
    }
}

TEST_CASE("mock feed: the hourly cut, in virtual time") {
    SUBCASE("abrupt by default, an hour after the connection opened") {
        mock_fixture mock;
        auto const ws = make_websocket(mock);
        ws_test_client client{ws.url};
        mock.call("GET", "/api/v2/websockets");
        mock.clock().advance(3599s);
        CHECK(mock.call_json("GET", "/__admin/connections", "")["connections"].size() == 1);
        mock.clock().advance(1s);
        auto const status = client.wait_closed();
        CHECK(status.abrupt);
        CHECK_FALSE(status.code.has_value());
    }
    SUBCASE("as a 1001 close frame when asked") {
        auto options = mock_fixture::default_options();
        options.feed.hour_cut = harness::mock::hour_cut_style::close_frame;
        mock_fixture mock{options};
        auto const ws = make_websocket(mock);
        ws_test_client client{ws.url};
        mock.call("GET", "/api/v2/websockets");
        mock.call_json("POST", "/__admin/clock/advance", "", R"({"seconds":3600})");
        auto const status = client.wait_closed();
        CHECK(status.code == 1001);
    }
    SUBCASE("connection age, not token age, decides the cut") {
        mock_fixture mock;
        auto const ws = make_websocket(mock);
        subscribe(mock, "call", R"("endpoint_id":)" + ws.id);
        mock.clock().advance(3500s);  // the token has 100 s left
        ws_test_client client{ws.url};
        mock.call("GET", "/api/v2/websockets");
        mock.clock().advance(200s);  // token expired; the connection is 200 s old
        CHECK(inject(mock, "call", call_event(1, "ringing")).size() == 1);
        client.wait_for_messages(1);
        CHECK_FALSE(client.closed());
        // A new connection with that expired token is refused.
        ws_test_client late{ws.url};
        CHECK(late.wait_closed().code == 1008);
    }
}

TEST_CASE("mock feed: several clients on one token, and fan-out to the newest only") {
    SUBCASE("all receive by default") {
        mock_fixture mock;
        auto const ws = make_websocket(mock);
        subscribe(mock, "call", R"("endpoint_id":)" + ws.id);
        ws_test_client a{ws.url}, b{ws.url};
        mock.call("GET", "/api/v2/websockets");
        CHECK(inject(mock, "call", call_event(1, "ringing")).size() == 2);
        CHECK(a.wait_for_messages(1).size() == 1);
        CHECK(b.wait_for_messages(1).size() == 1);
    }
    SUBCASE("newest") {
        auto options = mock_fixture::default_options();
        options.feed.fanout = harness::mock::fanout_mode::newest;
        mock_fixture mock{options};
        auto const ws = make_websocket(mock);
        subscribe(mock, "call", R"("endpoint_id":)" + ws.id);
        ws_test_client old_client{ws.url};
        mock.call("GET", "/api/v2/websockets");
        ws_test_client new_client{ws.url};
        mock.call("GET", "/api/v2/websockets");
        auto const delivered = inject(mock, "call", call_event(1, "ringing"));
        REQUIRE(delivered.size() == 1);
        CHECK(new_client.wait_for_messages(1).size() == 1);
        CHECK(old_client.messages().empty());
    }
}

TEST_CASE("mock feed: admin lists and closes connections, and journals deliveries") {
    mock_fixture mock;
    auto const ws = make_websocket(mock);
    subscribe(mock, "call", R"("endpoint_id":)" + ws.id);
    ws_test_client client{ws.url};
    client.send("Hello World!");  // ignored, as Dialpad ignores it
    mock.call("GET", "/api/v2/websockets");
    for (int i = 0; i < 3; ++i) inject(mock, "call", call_event(i + 1, "ringing"));
    client.wait_for_messages(3);

    auto const connections = mock.call_json("GET", "/__admin/connections", "")["connections"];
    REQUIRE(connections.size() == 1);
    CHECK(connections[0]["websocket"] == ws.id);
    CHECK(connections[0]["frames_sent"] == 3);
    auto const deliveries = mock.call_json("GET", "/__admin/deliveries", "")["deliveries"];
    REQUIRE(deliveries.size() == 3);
    CHECK(deliveries[0]["connection"] == connections[0]["id"]);

    auto const id = std::to_string(connections[0]["id"].get<int>());
    mock.call_json("POST", "/__admin/connections/" + id + "/close", "", R"({"code":4001,"reason":"test says so"})");
    auto const status = client.wait_closed();
    CHECK(status.code == 4001);
    CHECK(status.reason == "test says so");
    mock.call_json("POST", "/__admin/connections/999/close", "", "{}", 404);
    mock.call_json("POST", "/__admin/events", "", R"({"type":"fax","raw":"{}"})", 400);
    mock.call_json("POST", "/__admin/events", "", R"({"type":"call","raw":"{not json"})", 400);
    CHECK(mock.call("GET", "/events/abc", "").status == 426);
}

TEST_CASE("mock feed: 200 clients all receive a 1000-event burst") {
    mock_fixture mock;
    auto const ws = make_websocket(mock);
    subscribe(mock, "call", R"("endpoint_id":)" + ws.id);
    std::vector<std::unique_ptr<ws_test_client>> clients;
    for (int i = 0; i < 200; ++i) clients.push_back(std::make_unique<ws_test_client>(ws.url));
    mock.call("GET", "/api/v2/websockets");
    CHECK(mock.call_json("GET", "/__admin/connections", "")["connections"].size() == 200);
    for (int i = 0; i < 1000; ++i) inject(mock, "call", call_event(i + 1, "ringing"));
    for (auto& client : clients) {
        auto const got = client->wait_for_messages(1000, 60s);
        REQUIRE(got.size() == 1000);
        CHECK(got.front() == call_event(1, "ringing"));
        CHECK(got.back() == call_event(1000, "ringing"));
    }
}

namespace {

json run_scenario(mock_fixture& mock, std::string const& name, std::uint64_t seed, bool immediate) {
    json body{{"seed", seed}, {"params", {{"immediate", immediate}}}};
    return mock.call_json("POST", "/__admin/scenarios/" + name, "", body.dump());
}

// Every event of every scenario, as one websocket-wide client receives them.
std::vector<std::string> all_scenarios(std::uint64_t seed) {
    mock_fixture mock;
    auto const ws = make_websocket(mock);
    subscribe(mock, "call", R"("endpoint_id":)" + ws.id);
    subscribe(mock, "sms", R"("endpoint_id":)" + ws.id + R"(,"direction":"all","status":true)");
    subscribe(mock, "contact", R"("endpoint_id":)" + ws.id + R"(,"contact_type":"shared")");
    subscribe(mock, "agent_status", R"("endpoint_id":)" + ws.id + R"(,"agent_type":"callcenter")");
    subscribe(mock, "changelog", R"("endpoint_id":)" + ws.id);
    ws_test_client client{ws.url};
    mock.call("GET", "/api/v2/websockets");
    std::size_t expected = 0;
    auto const listed = mock.call_json("GET", "/__admin/scenarios", "");  // a named local: the loop reads into it
    CHECK(listed["scenarios"].size() == 10);
    for (auto const& s : listed["scenarios"])
        expected += run_scenario(mock, s["name"].get<std::string>(), seed, true)["delivered"].get<std::size_t>();
    return client.wait_for_messages(expected);
}

}  // namespace

TEST_CASE("mock scenarios: seeded, so the same seed gives the same bytes") {
    auto const first = all_scenarios(42);
    auto const again = all_scenarios(42);
    auto const other = all_scenarios(43);
    CHECK(first.size() > 30);
    CHECK(first == again);
    CHECK(first != other);
}

TEST_CASE("mock scenarios: an answered inbound call is internally consistent") {
    mock_fixture mock;
    auto const ws = make_websocket(mock);
    subscribe(mock, "call", R"("endpoint_id":)" + ws.id);
    ws_test_client client{ws.url};
    mock.call("GET", "/api/v2/websockets");
    auto const plan = run_scenario(mock, "inbound_call_answered", 7, false);
    auto const count = plan["events"].size();
    CHECK(count == 10);
    // Delivered on the mock's clock: nothing until time moves, then in order.
    CHECK(client.messages().empty());
    mock.clock().advance(std::chrono::minutes{10});  // less than the hourly cut
    auto const got = client.wait_for_messages(count);

    std::map<std::int64_t, std::vector<std::string>> states;
    std::int64_t entry_leg = 0, operator_leg = 0, previous_timestamp = 0;
    for (auto const& text : got) {
        auto const e = json::parse(text);
        CHECK(e["call_id"].is_number_integer());  // ids are JSON numbers in events
        states[e["call_id"].get<std::int64_t>()].push_back(e["state"].get<std::string>());
        if (e["target"]["type"] == "department") entry_leg = e["call_id"].get<std::int64_t>();
        if (e["target"]["type"] == "user") {
            operator_leg = e["call_id"].get<std::int64_t>();
            CHECK(e["entry_point_call_id"] == json(entry_leg));
        }
        auto const ts = e["event_timestamp"].get<std::int64_t>();
        CHECK(ts >= e["date_started"].get<std::int64_t>());
        CHECK(ts >= previous_timestamp - 2000);  // roughly in order (legs interleave)
        previous_timestamp = ts;
        CHECK(ts >= harness::test::k_fixture_start_unix_seconds * 1000);
    }
    CHECK(states[entry_leg] == std::vector<std::string>{"ringing", "connected", "hangup"});
    CHECK(states[operator_leg] == std::vector<std::string>{"ringing", "connected", "hangup", "recording",
                                                           "call_transcription", "recap_summary", "recap_action_items"});
    mock.call_json("POST", "/__admin/scenarios/no_such_thing", "", "{}", 404);
}

TEST_CASE("mock scenarios: the busy hour interleaves many calls over the hour, each leg in order") {
    mock_fixture mock;
    auto const ws = make_websocket(mock);
    subscribe(mock, "call", R"("endpoint_id":)" + ws.id);
    subscribe(mock, "sms", R"("endpoint_id":)" + ws.id + R"(,"direction":"all","status":true)");
    ws_test_client client{ws.url};
    mock.call("GET", "/api/v2/websockets");
    auto const plan = run_scenario(mock, "busy_hour", 11, true);
    auto const got = client.wait_for_messages(plan["delivered"].get<std::size_t>());

    std::map<std::int64_t, std::vector<std::string>> states;
    std::map<std::int64_t, std::pair<std::size_t, std::size_t>> span;  // first and last position of each leg
    std::size_t texts = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
        auto const e = json::parse(got[i]);
        if (!e.contains("call_id")) {
            ++texts;
            continue;
        }
        auto const leg = e["call_id"].get<std::int64_t>();
        states[leg].push_back(e["state"].get<std::string>());
        auto [it, fresh] = span.try_emplace(leg, i, i);
        it->second.second = i;
    }
    CHECK(states.size() >= 16);  // every call has at least one leg
    CHECK(texts >= 1);
    // Interleaved: some leg's events come between another leg's first and last.
    std::size_t overlapping = 0;
    for (auto const& [leg, s] : span)
        for (auto const& [other, o] : span)
            if (other != leg && o.first > s.first && o.first < s.second) ++overlapping;
    CHECK(overlapping >= 5);
    for (auto const& [leg, list] : states) {
        CHECK(list.front() != "hangup");  // each leg starts before it ends
        CHECK(std::count(list.begin(), list.end(), "hangup") == 1);
    }
    // Spread over most of the hour, not bunched at its start.
    auto const offsets = plan["events"];
    CHECK(offsets.back()["offset_ms"].get<std::int64_t>() > 40 * 60'000);
}

namespace {

// 200 call events through a fault plan, then a sentinel after the faults are
// cleared: once the sentinel arrives, everything before it has (a connection
// delivers in order).
std::vector<std::string> received_under_faults(std::string const& plan) {
    mock_fixture mock;
    auto const ws = make_websocket(mock);
    subscribe(mock, "call", R"("endpoint_id":)" + ws.id);
    ws_test_client client{ws.url};
    mock.call("GET", "/api/v2/websockets");
    mock.call_json("POST", "/__admin/faults", "", plan);
    for (int i = 0; i < 200; ++i) inject(mock, "call", call_event(i + 1, "ringing"));
    mock.call_json("DELETE", "/__admin/faults", "");
    auto const sentinel = call_event(999999, "hangup");
    inject(mock, "call", sentinel);
    for (int attempt = 0; attempt < 1000; ++attempt) {
        auto const got = client.messages();
        if (!got.empty() && got.back() == sentinel) return {got.begin(), got.end() - 1};
        client.wait_for_messages(got.size() + 1);  // bounded: fails the test rather than hang
    }
    FAIL("the sentinel never arrived");
    return {};
}

}  // namespace

TEST_CASE("mock faults: drop, duplicate and reorder are seeded, so a run repeats exactly") {
    auto const plan = R"({"seed":7,"drop":0.1,"duplicate":0.1,"reorder_window":3})";
    auto const first = received_under_faults(plan);
    auto const second = received_under_faults(plan);
    CHECK(first == second);
    auto const other = received_under_faults(R"({"seed":8,"drop":0.1,"duplicate":0.1,"reorder_window":3})");
    CHECK(other != first);

    std::map<std::string, int> seen;
    for (auto const& m : first) ++seen[m];
    int lost = 0, doubled = 0;
    for (int i = 0; i < 200; ++i) {
        auto const n = seen[call_event(i + 1, "ringing")];
        lost += n == 0;
        doubled += n > 1;
    }
    CHECK(lost > 5);
    CHECK(doubled > 5);
    bool out_of_order = false;
    for (std::size_t i = 1; i < first.size(); ++i)
        out_of_order = out_of_order || json::parse(first[i])["call_id"] < json::parse(first[i - 1])["call_id"];
    CHECK(out_of_order);
    CHECK(received_under_faults("{}").size() == 200);  // an empty plan changes nothing
}

TEST_CASE("mock faults: corrupt signatures, delays and refused upgrades") {
    mock_fixture mock;
    auto const ws = make_websocket(mock, "key-a", "s3cret");
    subscribe(mock, "call", R"("endpoint_id":)" + ws.id);
    ws_test_client client{ws.url};
    mock.call("GET", "/api/v2/websockets");

    mock.call_json("POST", "/__admin/faults", "", R"({"corrupt_signature":1})");
    inject(mock, "call", call_event(1, "ringing"));
    auto const corrupted = client.wait_for_messages(1).at(0);
    CHECK(harness::jwt::verify_hs256(corrupted, "s3cret") == harness::jwt::verdict::bad_signature);
    CHECK(harness::jwt::decode(corrupted)->payload == call_event(1, "ringing"));

    mock.call_json("POST", "/__admin/faults", "", R"({"delay_ms":5000})");
    CHECK(inject(mock, "call", call_event(2, "ringing")).empty());
    mock.clock().advance(4s);
    mock.call("GET", "/__admin/health", "");
    CHECK(client.messages().size() == 1);
    mock.clock().advance(1s);
    CHECK(client.wait_for_messages(2).size() == 2);

    mock.call_json("POST", "/__admin/faults", "", R"({"reject_upgrades":2,"reject_status":503})");
    for (int i = 0; i < 2; ++i) {
        try {
            ws_test_client refused{ws.url};
            FAIL("the upgrade was accepted");
        } catch (harness::web::ws_refused const& e) {
            CHECK(e.status() == 503);
        }
    }
    ws_test_client third{ws.url};
    CHECK_FALSE(third.closed());
    mock.call_json("POST", "/__admin/faults", "", R"({"drop":2})", 400);
    mock.call_json("POST", "/__admin/faults", "", R"({"explode":true})", 400);
}

TEST_CASE("mock feed: the legacy in-band API key dialogue") {
    auto options = mock_fixture::default_options();
    options.feed.bad_token = harness::mock::bad_token_mode::legacy;
    mock_fixture mock{options};
    auto const ws = make_websocket(mock);
    subscribe(mock, "call", R"("endpoint_id":)" + ws.id);

    ws_test_client wrong{mock.endpoints().ws + "no-token"};
    CHECK(wrong.wait_for_messages(1).at(0) == harness::mock::k_legacy_prompt);
    wrong.send("not-a-key");
    CHECK(wrong.wait_for_messages(2).at(1) == harness::mock::k_legacy_refusal);
    CHECK(wrong.wait_closed().code == 1008);

    ws_test_client right{mock.endpoints().ws + "no-token"};
    right.wait_for_messages(1);
    right.send("key-a");
    CHECK(right.wait_for_messages(2).at(1).find("key-a") != std::string::npos);
    mock.call("GET", "/api/v2/websockets");
    CHECK(inject(mock, "call", call_event(1, "ringing")).size() == 1);
    CHECK(right.wait_for_messages(3).at(2) == call_event(1, "ringing"));
}

TEST_CASE("mock feed: a batch of events is delivered in order") {
    mock_fixture mock;
    auto const ws = make_websocket(mock);
    subscribe(mock, "call", R"("endpoint_id":)" + ws.id);
    ws_test_client client{ws.url};
    mock.call("GET", "/api/v2/websockets");
    nlohmann::ordered_json batch{{"events", nlohmann::ordered_json::array()}};  // ordered: the payload's key order matters
    for (int i = 0; i < 50; ++i) batch["events"].push_back({{"type", "call"}, {"raw", call_event(i + 1, "ringing")}});
    batch["events"].push_back({{"type", "call"}, {"payload", {{"state", "hangup"}, {"call_id", 99}}}});
    auto const answer = mock.call_json("POST", "/__admin/events", "", batch.dump());
    CHECK(answer["events"] == 51);
    CHECK(answer["deliveries"] == 51);
    auto const got = client.wait_for_messages(51);
    CHECK(got[0] == call_event(1, "ringing"));
    CHECK(got[49] == call_event(50, "ringing"));
    CHECK(got[50] == R"({"state":"hangup","call_id":99})");  // a payload keeps the key order it was given
    batch["events"].push_back({{"type", "fax"}, {"raw", "{}"}});
    auto const bad = mock.call_json("POST", "/__admin/events", "", batch.dump(), 400);
    CHECK(bad["error"]["message"].get<std::string>().starts_with("events[51]"));
}

TEST_CASE("mock feed: a batch larger than a REST body is taken whole; payloads keep their numbers and escapes") {
    mock_fixture mock;
    auto const ws = make_websocket(mock);
    subscribe(mock, "call", R"("endpoint_id":)" + ws.id);
    ws_test_client client{ws.url};
    mock.call("GET", "/api/v2/websockets");
    // 2,000 events of ~1 KB: twice the 1 MiB a REST request may carry.
    std::string const padding(1000, 'p');
    nlohmann::ordered_json batch{{"events", nlohmann::ordered_json::array()}};
    for (int i = 0; i < 2000; ++i) {
        auto event = nlohmann::ordered_json::parse(call_event(i + 1, "ringing"));
        event["custom_data"] = padding;
        batch["events"].push_back({{"type", "call"}, {"raw", event.dump()}});
    }
    batch["events"].push_back(
        {{"type", "call"},
         {"payload", nlohmann::ordered_json::parse(R"({"call_id":5823519046647808,"state":"hangup","note":"a \"quoted\" \u00e9","ratio":0.5})")}});
    auto const body = batch.dump();
    REQUIRE(body.size() > (1u << 20));
    auto const answer = mock.call_json("POST", "/__admin/events", "", body);
    CHECK(answer["deliveries"] == 2001);
    auto const got = client.wait_for_messages(2001);
    CHECK(got[1999] == batch["events"][1999]["raw"].get<std::string>());
    CHECK(got[2000] == R"({"call_id":5823519046647808,"state":"hangup","note":"a \"quoted\" é","ratio":0.5})");
}

TEST_CASE("mock feed: a scenario stopped before its player first ran leaves nothing waiting") {
    // On a paused clock the scenario's later events are due never; a player
    // that started after stop() would wait for them for ever, and the
    // io_context would never run out of work.
    harness::virtual_clock time{0.0, harness::wall_time{std::chrono::seconds{1767225600}}};
    boost::asio::io_context ioc{1};
    {
        harness::mock::mock_options options;
        options.port = 0;
        harness::mock::mock_server mock{ioc.get_executor(), options, time, &time};
        mock.start();
        std::string const body = R"({"seed":7})";
        auto const exchange = mock.serve_bytes("POST /__admin/scenarios/inbound_call_answered HTTP/1.1\r\n"
                                               "Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                               "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
        REQUIRE(exchange.answered == 1);
        CHECK(exchange.written.starts_with("HTTP/1.1 20"));
        mock.stop();  // before the io_context ran anything: the player has not started
    }
    // Every handler left runs at once (nothing is timed on a paused clock);
    // run() returns when no work is left, which is what is checked.
    for (int round = 0; round < 1000 && !ioc.stopped(); ++round) ioc.poll();
    CHECK(ioc.stopped());
}
