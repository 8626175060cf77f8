// dialpad-mock's REST surface over real HTTP on 127.0.0.1: every resource,
// operation and error status, company isolation, tokens, pagination, CORS.

#include "core/jwt/jwt.hpp"
#include "tests/support/mock_fixture.hpp"

#include <doctest/doctest.h>

#include <set>

using harness::test::mock_fixture;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// The token inside a websocket_url, decoded.
json token_claims(json const& url_value, json* header = nullptr) {
    auto const websocket_url = url_value.get<std::string>();
    auto const token = websocket_url.substr(websocket_url.rfind('/') + 1);
    auto const decoded = harness::jwt::decode(token);
    REQUIRE(decoded.has_value());
    if (header) *header = json::parse(decoded->header_json);
    return json::parse(decoded->payload);
}

void check_error_shape(json const& body, int status) {
    REQUIRE(body.contains("error"));
    CHECK(body["error"]["code"] == status);
    CHECK(body["error"]["message"].is_string());
    REQUIRE(body["error"]["errors"].is_array());
    REQUIRE(body["error"]["errors"].size() == 1);
    CHECK(body["error"]["errors"][0]["domain"] == "global");
    CHECK(body["error"]["errors"][0]["message"] == body["error"]["message"]);
    CHECK(body["error"]["errors"][0]["reason"].is_string());
}

std::string message_of(json const& body) { return body["error"]["message"].get<std::string>(); }

}  // namespace

TEST_CASE("mock REST: websockets are created, read, updated and deleted") {
    mock_fixture mock;
    auto const created = mock.call_json("POST", "/api/v2/websockets", "key-a", R"({"secret":"s3cret"})");
    auto const id = created["id"].get<std::string>();
    CHECK(id.size() == 16);
    CHECK(created["signature"] == json({{"algo", "HS256"}, {"secret", "s3cret"}, {"type", "jwt"}}));
    auto const url = created["websocket_url"].get<std::string>();
    CHECK(url.starts_with(mock.endpoints().ws));

    json header;
    auto const claims = token_claims(url, &header);
    CHECK(header["typ"] == "vnd.dialpad.websocket+jwt");
    CHECK(header["alg"] == "ES256");
    CHECK(claims["sub"] == "endpoint:" + id + ":*");
    CHECK(claims["iss"] == "https://dialpad.com");
    CHECK(claims["iat"] == harness::test::k_fixture_start_unix_seconds);
    CHECK(claims["exp"].get<long>() == claims["iat"].get<long>() + 3600);

    // Every GET mints a fresh token, issued by the (virtual) clock's now.
    mock.clock().advance(90s);
    auto const fetched = mock.call_json("GET", "/api/v2/websockets/" + id);
    CHECK(fetched["id"] == id);
    CHECK(fetched["websocket_url"] != url);
    CHECK(token_claims(fetched["websocket_url"])["iat"] == harness::test::k_fixture_start_unix_seconds + 90);

    auto const unsigned_ws = mock.call_json("POST", "/api/v2/websockets", "key-a", "");
    CHECK(unsigned_ws["signature"] == json::object());

    auto const patched = mock.call_json("PATCH", "/api/v2/websockets/" + id, "key-a", R"({"secret":"rotated"})");
    CHECK(patched["signature"]["secret"] == "rotated");
    auto const cleared = mock.call_json("PATCH", "/api/v2/websockets/" + id, "key-a", R"({"secret":null})");
    CHECK(cleared["signature"] == json::object());

    auto const deleted = mock.call_json("DELETE", "/api/v2/websockets/" + id);
    CHECK(deleted["id"] == id);
    auto const gone = mock.call_json("GET", "/api/v2/websockets/" + id, "key-a", "", 404);
    check_error_shape(gone, 404);
}

TEST_CASE("mock REST: webhooks need an http(s) hook_url") {
    mock_fixture mock;
    auto const hook = mock.call_json("POST", "/api/v2/webhooks", "key-a", R"({"hook_url":"https://example.test/hook"})");
    CHECK(hook["hook_url"] == "https://example.test/hook");
    CHECK(hook["signature"] == json::object());
    auto const id = hook["id"].get<std::string>();

    auto const missing = mock.call_json("POST", "/api/v2/webhooks", "key-a", R"({"secret":"x"})", 400);
    check_error_shape(missing, 400);
    CHECK(message_of(missing).find("hook_url") != std::string::npos);
    auto const bad = mock.call_json("POST", "/api/v2/webhooks", "key-a", R"({"hook_url":"ftp://x"})", 400);
    CHECK(message_of(bad).find("hook_url") != std::string::npos);
    auto const typed = mock.call_json("POST", "/api/v2/webhooks", "key-a", R"({"hook_url":42})", 400);
    CHECK(message_of(typed).find("'hook_url' must be a string") != std::string::npos);

    auto const patched =
        mock.call_json("PATCH", "/api/v2/webhooks/" + id, "key-a", R"({"secret":"s","hook_url":"http://h.test/x"})");
    CHECK(patched["hook_url"] == "http://h.test/x");
    CHECK(patched["signature"]["secret"] == "s");
    CHECK(mock.call_json("DELETE", "/api/v2/webhooks/" + id)["id"] == id);
}

TEST_CASE("mock REST: call subscriptions embed their websocket with a subscription-scoped token") {
    mock_fixture mock;
    auto const ws = mock.call_json("POST", "/api/v2/websockets", "key-a", R"({"secret":"s"})");
    auto const ws_id = ws["id"].get<std::string>();
    auto const sub = mock.call_json("POST", "/api/v2/subscriptions/call", "key-a",
                                    R"({"endpoint_id":)" + ws_id + R"(,"call_states":["ringing","hangup"]})");
    auto const sub_id = sub["id"].get<std::string>();
    CHECK(sub["call_states"] == json({"ringing", "hangup"}));
    CHECK(sub["enabled"] == true);
    CHECK(sub["group_calls_only"] == false);
    CHECK(sub["target_id"].is_null());
    CHECK(sub["websocket"]["id"] == ws_id);
    CHECK(sub["websocket"]["signature"]["secret"] == "s");
    CHECK(token_claims(sub["websocket"]["websocket_url"])["sub"] == "endpoint:" + ws_id + ":call:" + sub_id);

    // The id may come back as the string the API rendered; webhook_id is the older name.
    auto const by_string = mock.call_json("POST", "/api/v2/subscriptions/call", "key-a",
                                          R"({"webhook_id":")" + ws_id + R"(","target_type":"user","target_id":42})");
    CHECK(by_string["target_type"] == "user");
    CHECK(by_string["target_id"] == "42");
    CHECK(by_string["call_states"] == json({"all"}));

    auto const patched = mock.call_json("PATCH", "/api/v2/subscriptions/call/" + sub_id, "key-a",
                                        R"({"enabled":false,"group_calls_only":true})");
    CHECK(patched["enabled"] == false);
    CHECK(patched["group_calls_only"] == true);
    CHECK(patched["call_states"] == json({"ringing", "hangup"}));  // untouched

    auto const list = mock.call_json("GET", "/api/v2/subscriptions/call?target_type=user&target_id=42");
    REQUIRE(list["items"].size() == 1);
    CHECK(list["items"][0]["id"] == by_string["id"]);

    CHECK(mock.call_json("DELETE", "/api/v2/subscriptions/call/" + sub_id)["id"] == sub_id);
    mock.call_json("GET", "/api/v2/subscriptions/call/" + sub_id, "key-a", "", 404);
}

TEST_CASE("mock REST: every subscription kind, its defaults and its required fields") {
    mock_fixture mock;
    auto const ws_id = mock.call_json("POST", "/api/v2/websockets")["id"].get<std::string>();
    auto const hook_id =
        mock.call_json("POST", "/api/v2/webhooks", "key-a", R"({"hook_url":"https://h.test"})")["id"].get<std::string>();
    auto const endpoint = R"("endpoint_id":)" + ws_id;

    auto const sms = mock.call_json("POST", "/api/v2/subscriptions/sms", "key-a", "{" + endpoint + R"(,"direction":"inbound"})");
    CHECK(sms["direction"] == "inbound");
    CHECK(sms["include_internal"] == false);
    CHECK(sms["status"] == false);
    CHECK(token_claims(sms["websocket"]["websocket_url"])["sub"] ==
          "endpoint:" + ws_id + ":sms:" + sms["id"].get<std::string>());
    auto const no_direction = mock.call_json("POST", "/api/v2/subscriptions/sms", "key-a", "{" + endpoint + "}", 400);
    CHECK(message_of(no_direction).find("'direction' is required") != std::string::npos);
    auto const bad_direction =
        mock.call_json("POST", "/api/v2/subscriptions/sms", "key-a", "{" + endpoint + R"(,"direction":"sideways"})", 400);
    CHECK(message_of(bad_direction).find("'direction' must be one of") != std::string::npos);

    auto const contact = mock.call_json("POST", "/api/v2/subscriptions/contact", "key-a",
                                        R"({"endpoint_id":)" + hook_id + R"(,"contact_type":"shared"})");
    CHECK(contact["contact_type"] == "shared");
    CHECK(contact["webhook"]["id"] == hook_id);
    CHECK_FALSE(contact.contains("websocket"));
    auto const contact_missing = mock.call_json("POST", "/api/v2/subscriptions/contact", "key-a", "{" + endpoint + "}", 400);
    CHECK(message_of(contact_missing).find("contact_type") != std::string::npos);

    auto const agent = mock.call_json("POST", "/api/v2/subscriptions/agent_status", "key-a",
                                      "{" + endpoint + R"(,"agent_type":"callcenter"})");
    CHECK(agent["agent_type"] == "callcenter");
    auto const bad_agent = mock.call_json("POST", "/api/v2/subscriptions/agent_status", "key-a",
                                          "{" + endpoint + R"(,"agent_type":"office"})", 400);
    CHECK(message_of(bad_agent).find("agent_type") != std::string::npos);

    auto const changelog = mock.call_json("POST", "/api/v2/subscriptions/changelog", "key-a", "{" + endpoint + "}");
    CHECK(changelog["enabled"] == true);
    CHECK(token_claims(changelog["websocket"]["websocket_url"])["sub"] ==
          "endpoint:" + ws_id + ":changelog:" + changelog["id"].get<std::string>());

    SUBCASE("validation names the field") {
        auto check = [&](std::string const& path, std::string const& body, std::string const& field) {
            auto const error = mock.call_json("POST", path, "key-a", body, 400);
            check_error_shape(error, 400);
            INFO(message_of(error));
            CHECK(message_of(error).find(field) != std::string::npos);
        };
        check("/api/v2/subscriptions/call", "{}", "endpoint_id");
        check("/api/v2/subscriptions/call", R"({"endpoint_id":1})", "endpoint_id");
        check("/api/v2/subscriptions/call", R"({"endpoint_id":"abc"})", "endpoint_id");
        check("/api/v2/subscriptions/call", "{" + endpoint + R"(,"call_states":["ringing","dancing"]})", "call_states");
        check("/api/v2/subscriptions/call", "{" + endpoint + R"(,"call_states":"ringing"})", "call_states");
        check("/api/v2/subscriptions/call", "{" + endpoint + R"(,"target_type":"planet","target_id":1})", "target_type");
        check("/api/v2/subscriptions/call", "{" + endpoint + R"(,"target_type":"user"})", "target_id");
        check("/api/v2/subscriptions/call", "{" + endpoint + R"(,"enabled":"yes"})", "enabled");
        check("/api/v2/subscriptions/call", "{" + endpoint + R"(,"group_calls_only":1})", "group_calls_only");
        check("/api/v2/subscriptions/sms", "{" + endpoint + R"(,"direction":"all","status":"true"})", "status");
        check("/api/v2/subscriptions/call", "{not json", "not valid JSON");
        check("/api/v2/subscriptions/call", "[1,2]", "JSON object");
    }
}

TEST_CASE("mock REST: API keys and companies") {
    mock_fixture mock;
    auto const missing = mock.call("GET", "/api/v2/websockets", "");
    CHECK(missing.status == 401);
    CHECK(missing.header("WWW-Authenticate") == "Bearer");
    check_error_shape(json::parse(missing.body), 401);
    CHECK(mock.call("GET", "/api/v2/websockets", "wrong-key").status == 401);
    CHECK(mock.call("GET", "/api/v2/websockets", "", "", {{"Authorization", "Basic a2V5LWE6"}}).status == 401);
    CHECK(mock.call("GET", "/api/v2/websockets?apikey=key-a", "").status == 200);

    auto const ws_id = mock.call_json("POST", "/api/v2/websockets", "key-a")["id"].get<std::string>();
    // Another company's resources do not exist for it.
    mock.call_json("GET", "/api/v2/websockets/" + ws_id, "key-b", "", 404);
    mock.call_json("DELETE", "/api/v2/websockets/" + ws_id, "key-b", "", 404);
    CHECK(mock.call_json("GET", "/api/v2/websockets", "key-b")["items"].empty());
    auto const foreign = mock.call_json("POST", "/api/v2/subscriptions/call", "key-b", R"({"endpoint_id":)" + ws_id + "}", 400);
    CHECK(message_of(foreign).find("endpoint_id") != std::string::npos);
    CHECK(mock.call_json("GET", "/api/v2/websockets", "key-a")["items"].size() == 1);
}

TEST_CASE("mock REST: lists page through an opaque cursor") {
    mock_fixture mock;
    std::set<std::string> created;
    for (int i = 0; i < 45; ++i) created.insert(mock.call_json("POST", "/api/v2/websockets")["id"].get<std::string>());
    mock.call_json("POST", "/api/v2/websockets", "key-b");  // another company's: never listed

    std::set<std::string> seen;
    std::string cursor;
    int pages = 0;
    for (;;) {
        auto const page = mock.call_json("GET", "/api/v2/websockets?limit=20" + (cursor.empty() ? "" : "&cursor=" + cursor));
        ++pages;
        for (auto const& item : page["items"]) CHECK(seen.insert(item["id"].get<std::string>()).second);
        if (page["cursor"].is_null()) break;
        cursor = page["cursor"].get<std::string>();
        REQUIRE(pages < 10);
    }
    CHECK(pages == 3);
    CHECK(seen == created);
    CHECK(mock.call_json("GET", "/api/v2/websockets")["items"].size() == 20);  // default page

    auto const bad_cursor = mock.call_json("GET", "/api/v2/websockets?cursor=nonsense", "key-a", "", 400);
    CHECK(message_of(bad_cursor).find("cursor") != std::string::npos);
    mock.call_json("GET", "/api/v2/websockets?limit=0", "key-a", "", 400);
    mock.call_json("GET", "/api/v2/websockets?limit=101", "key-a", "", 400);
}

TEST_CASE("mock REST: paths, methods, sizes and malformed requests") {
    mock_fixture mock;
    auto const unknown = mock.call("GET", "/api/v2/nothing");
    CHECK(unknown.status == 404);
    check_error_shape(json::parse(unknown.body), 404);
    CHECK(mock.call("GET", "/elsewhere", "").status == 404);
    CHECK(mock.call("GET", "/api/v2/subscriptions/fax").status == 404);
    CHECK(mock.call("GET", "/api/v2/websockets/1/extra").status == 404);

    auto const wrong_method = mock.call("PUT", "/api/v2/websockets");
    CHECK(wrong_method.status == 405);
    CHECK(wrong_method.header("Allow") == "GET, POST");
    CHECK(mock.call("POST", "/api/v2/websockets/123").status == 405);
    check_error_shape(json::parse(wrong_method.body), 405);

    auto const huge = mock.call("POST", "/api/v2/webhooks", "key-a",
                                R"({"hook_url":"https://h.test","secret":")" + std::string(1 << 20, 'x') + "\"}");
    CHECK(huge.status == 413);
    check_error_shape(json::parse(huge.body), 413);

    CHECK(mock.call("GET", "/api/v2/websockets/not-a-number").status == 404);
    CHECK(mock.call("GET", "/api/v2/websockets/99999999999999999999").status == 404);
}

TEST_CASE("mock REST: CORS lets browser apps call it") {
    mock_fixture mock;
    auto const preflight = mock.call("OPTIONS", "/api/v2/websockets", "", "",
                                     {{"Origin", "http://app.test"},
                                      {"Access-Control-Request-Method", "POST"},
                                      {"Access-Control-Request-Headers", "authorization, content-type"}});
    CHECK(preflight.status == 204);
    CHECK(preflight.header("Access-Control-Allow-Origin") == "http://app.test");
    CHECK(preflight.header("Access-Control-Allow-Headers") == "authorization, content-type");
    CHECK(preflight.header("Access-Control-Allow-Methods")->find("PATCH") != std::string::npos);

    auto const answer = mock.call("GET", "/api/v2/websockets", "key-a", "", {{"Origin", "http://app.test"}});
    CHECK(answer.header("Access-Control-Allow-Origin") == "http://app.test");
    auto const error = mock.call("GET", "/api/v2/websockets", "", "", {{"Origin", "http://app.test"}});
    CHECK(error.status == 401);
    CHECK(error.header("Access-Control-Allow-Origin") == "http://app.test");
}

TEST_CASE("mock REST: subscription limits per company and kind") {
    mock_fixture mock;
    auto const ws_id = mock.call_json("POST", "/api/v2/websockets")["id"].get<std::string>();
    auto const company_wide = R"({"endpoint_id":)" + ws_id + "}";
    for (int i = 0; i < 10; ++i) mock.call_json("POST", "/api/v2/subscriptions/changelog", "key-a", company_wide);
    auto const refused = mock.call_json("POST", "/api/v2/subscriptions/changelog", "key-a", company_wide, 400);
    CHECK(refused["error"]["errors"][0]["reason"] == "limitExceeded");
    // Another company has its own allowance.
    auto const other_ws = mock.call_json("POST", "/api/v2/websockets", "key-b")["id"].get<std::string>();
    mock.call_json("POST", "/api/v2/subscriptions/changelog", "key-b", R"({"endpoint_id":)" + other_ws + "}");

    for (int i = 0; i < 100; ++i)
        mock.call_json("POST", "/api/v2/subscriptions/call", "key-a",
                       R"({"endpoint_id":)" + ws_id + R"(,"target_type":"user","target_id":)" + std::to_string(i + 1) + "}");
    auto const hundred_and_first = mock.call_json(
        "POST", "/api/v2/subscriptions/call", "key-a", R"({"endpoint_id":)" + ws_id + R"(,"target_type":"user","target_id":999})", 400);
    CHECK(message_of(hundred_and_first).find("100") != std::string::npos);
}

TEST_CASE("mock REST: Dialpad's rate limits, on the injected clock") {
    auto options = mock_fixture::default_options();
    options.rate_limits = true;
    mock_fixture mock{options};
    for (int i = 0; i < 20; ++i) CHECK(mock.call("GET", "/api/v2/websockets").status == 200);
    auto const limited = mock.call("GET", "/api/v2/websockets");
    CHECK(limited.status == 429);
    CHECK(limited.header("Retry-After") == "1");
    check_error_shape(json::parse(limited.body), 429);
    CHECK(mock.call("GET", "/api/v2/websockets", "key-b").status == 200);  // per company
    mock.clock().advance(1s);
    CHECK(mock.call("GET", "/api/v2/websockets").status == 200);

    // 100 webhook creations a minute, even when spread over seconds.
    int created = 0;
    for (int second = 0; second < 10; ++second) {
        mock.clock().advance(1s);
        for (int i = 0; i < 15; ++i)
            if (mock.call("POST", "/api/v2/webhooks", "key-b", R"({"hook_url":"https://h.test"})").status == 200) ++created;
    }
    CHECK(created == 100);
    mock.clock().advance(60s);
    CHECK(mock.call("POST", "/api/v2/webhooks", "key-b", R"({"hook_url":"https://h.test"})").status == 200);
}

TEST_CASE("mock admin: health, reset and a journal without API keys") {
    mock_fixture mock;
    CHECK(mock.call_json("GET", "/__admin/health", "")["status"] == "ok");
    auto const ws_id = mock.call_json("POST", "/api/v2/websockets", "key-a")["id"].get<std::string>();
    mock.call("GET", "/api/v2/websockets?apikey=key-b", "");

    auto const journal = mock.call("GET", "/__admin/requests", "");
    CHECK(journal.status == 200);
    CHECK(journal.body.find("key-a") == std::string::npos);
    CHECK(journal.body.find("key-b") == std::string::npos);
    auto const entries = json::parse(journal.body)["requests"];
    REQUIRE(entries.size() == 2);
    CHECK(entries[0]["method"] == "POST");
    CHECK(entries[0]["path"] == "/api/v2/websockets");
    CHECK(entries[0]["status"] == 200);
    CHECK(entries[0]["company"] == "acme");
    CHECK(entries[0]["operation"] == "websockets.create");
    CHECK(entries[1]["path"] == "/api/v2/websockets?apikey=***");
    CHECK(entries[1]["operation"] == "websockets.list");
    mock.call("GET", "/api/v2/websockets/" + ws_id);
    mock.call("PATCH", "/api/v2/subscriptions/call/1", "key-a", "{}");
    auto const later = mock.call_json("GET", "/__admin/requests", "")["requests"];
    CHECK(later[2]["operation"] == "websockets.get");
    CHECK(later[3]["operation"] == "subscriptions.call.update");

    CHECK(mock.call("POST", "/__admin/reset", "").status == 200);
    mock.call_json("GET", "/api/v2/websockets/" + ws_id, "key-a", "", 404);
    CHECK(mock.call("GET", "/api/v2/websockets", "key-a").status == 200);  // keys survive a reset
    CHECK(mock.call("GET", "/__admin/nothing", "").status == 404);
    CHECK(mock.call("DELETE", "/__admin/health", "").status == 405);
}
