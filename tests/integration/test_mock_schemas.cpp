// Every success response of dialpad-mock's REST surface validates against
// Dialpad's response schemas (tests/data/schemas, derived from Dialpad's
// OpenAPI file), and every error body against the error schema.

#include "tests/support/mock_fixture.hpp"

#include <doctest/doctest.h>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include <fstream>
#include <map>

using harness::test::mock_fixture;
using nlohmann::json;

namespace {

class schema_set {
public:
    valijson::Schema const& get(std::string const& name) {
        auto it = schemas_.find(name);
        if (it != schemas_.end()) return *it->second;
        std::ifstream in{std::string{HARNESS_TEST_DATA_DIR} + "/schemas/" + name + ".json"};
        REQUIRE_MESSAGE(in.good(), "missing schema " << name);
        auto const document = json::parse(in);
        auto schema = std::make_unique<valijson::Schema>();
        valijson::SchemaParser parser;
        valijson::adapters::NlohmannJsonAdapter adapter{document};
        parser.populateSchema(adapter, *schema);
        return *schemas_.emplace(name, std::move(schema)).first->second;
    }

private:
    std::map<std::string, std::unique_ptr<valijson::Schema>> schemas_;
};

// Checks one response body against the named schema, reporting every error.
void expect_valid(schema_set& schemas, std::string const& schema_name, std::string const& body) {
    auto const document = json::parse(body);
    valijson::Validator validator;
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter target{document};
    bool const valid = validator.validate(schemas.get(schema_name), target, &results);
    std::string problems;
    valijson::ValidationResults::Error error;
    while (results.popError(error)) {
        std::string where;
        for (auto const& part : error.context) where += part;
        problems += where + ": " + error.description + "\n";
    }
    INFO(schema_name << " rejects " << body << "\n" << problems);
    CHECK(valid);
}

}  // namespace

TEST_CASE("mock REST: every success response matches Dialpad's response schemas") {
    mock_fixture mock;
    schema_set schemas;
    auto call = [&](std::string const& method, std::string const& path, std::string const& body,
                    std::string const& schema) {
        auto const response = mock.call(method, path, "key-a", body);
        INFO(method << " " << path << " -> " << response.body);
        REQUIRE(response.status == 200);
        expect_valid(schemas, schema, response.body);
        return json::parse(response.body);
    };

    auto const ws = call("POST", "/api/v2/websockets", R"({"secret":"s"})", "websocket");
    call("POST", "/api/v2/websockets", "", "websocket");
    auto const ws_id = ws["id"].get<std::string>();
    call("GET", "/api/v2/websockets/" + ws_id, "", "websocket");
    call("PATCH", "/api/v2/websockets/" + ws_id, R"({"secret":"t"})", "websocket");
    call("GET", "/api/v2/websockets", "", "websocket_collection");
    call("GET", "/api/v2/websockets?limit=1", "", "websocket_collection");

    auto const hook = call("POST", "/api/v2/webhooks", R"({"hook_url":"https://h.test","secret":"x"})", "webhook");
    auto const hook_id = hook["id"].get<std::string>();
    call("GET", "/api/v2/webhooks/" + hook_id, "", "webhook");
    call("PATCH", "/api/v2/webhooks/" + hook_id, R"({"hook_url":"https://h2.test"})", "webhook");
    call("GET", "/api/v2/webhooks", "", "webhook_collection");

    struct kind_case {
        std::string kind;
        std::string body_fields;
        std::string patch;
    };
    std::vector<kind_case> const kinds{
        {"call", R"("call_states":["ringing","hangup"],"target_type":"office","target_id":77)", R"({"enabled":false})"},
        {"sms", R"("direction":"all","status":true)", R"({"include_internal":true})"},
        {"contact", R"("contact_type":"local")", R"({"contact_type":"shared"})"},
        {"agent_status", R"("agent_type":"callcenter")", R"({"enabled":false})"},
        {"changelog", "", R"({"enabled":false})"},
    };
    for (auto const& k : kinds) {
        CAPTURE(k.kind);
        auto const path = "/api/v2/subscriptions/" + k.kind;
        auto const schema = "subscription_" + k.kind;
        for (auto const& endpoint : {ws_id, hook_id}) {
            auto const body = R"({"endpoint_id":")" + endpoint + "\"" + (k.body_fields.empty() ? "" : ",") + k.body_fields + "}";
            auto const sub = call("POST", path, body, schema);
            auto const id = sub["id"].get<std::string>();
            call("GET", path + "/" + id, "", schema);
            call("PATCH", path + "/" + id, k.patch, schema);
            call("GET", path, "", schema + "_collection");
            call("DELETE", path + "/" + id, "", schema);
        }
    }
    call("DELETE", "/api/v2/webhooks/" + hook_id, "", "webhook");
    call("DELETE", "/api/v2/websockets/" + ws_id, "", "websocket");

    // Error bodies, whatever the status.
    for (auto const& [method, path, key, body] : std::vector<std::tuple<std::string, std::string, std::string, std::string>>{
             {"GET", "/api/v2/websockets", "", ""},
             {"GET", "/api/v2/websockets/1", "key-a", ""},
             {"PUT", "/api/v2/websockets", "key-a", ""},
             {"POST", "/api/v2/webhooks", "key-a", "{"},
             {"GET", "/nowhere", "key-a", ""}}) {
        auto const response = mock.call(method, path, key, body);
        CHECK(response.status >= 400);
        expect_valid(schemas, "error", response.body);
    }
}

TEST_CASE("mock REST: the response schemas reject shapes Dialpad does not send") {
    schema_set schemas;
    auto rejects = [&](std::string const& schema_name, json const& document) {
        valijson::Validator validator;
        valijson::adapters::NlohmannJsonAdapter target{document};
        INFO(schema_name << " should reject " << document.dump());
        CHECK_FALSE(validator.validate(schemas.get(schema_name), target, nullptr));
    };
    json const ws = {{"id", "5700000000007919"}, {"signature", json::object()},
                     {"websocket_url", "ws://127.0.0.1:1/events/a.b.c"}};
    valijson::Validator validator;
    valijson::adapters::NlohmannJsonAdapter good{ws};
    CHECK(validator.validate(schemas.get("websocket"), good, nullptr));

    auto integer_id = ws;
    integer_id["id"] = 5700000000007919;
    rejects("websocket", integer_id);
    auto no_signature = ws;
    no_signature.erase("signature");
    rejects("websocket", no_signature);
    auto odd_signature = ws;
    odd_signature["signature"] = {{"algo", "RS256"}, {"secret", "s"}, {"type", "jwt"}};
    rejects("websocket", odd_signature);
    json const sub = {{"id", "1"}, {"enabled", true}, {"changelog", true}, {"websocket", ws}};
    rejects("subscription_changelog", sub);  // unknown key
    json both = {{"id", "1"}, {"enabled", true}, {"websocket", ws},
                 {"webhook", {{"hook_url", "https://h"}, {"id", "2"}, {"signature", json::object()}}}};
    rejects("subscription_changelog", both);
    json const call = {{"id", "1"}, {"enabled", true}, {"call_states", {"dancing"}}, {"group_calls_only", false},
                       {"target_type", nullptr}, {"target_id", nullptr}, {"websocket", ws}};
    rejects("subscription_call", call);
    rejects("error", json{{"error", {{"code", 400}, {"message", "m"}}}});
}
