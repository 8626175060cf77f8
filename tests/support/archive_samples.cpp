#include "tests/support/archive_samples.hpp"

#include "core/jwt/jwt.hpp"

namespace harness::test {

std::vector<std::string> tricky_event_texts() {
    return {
        R"({"call_id": 5823519046647808, "state": "ringing", "total_duration": 8951.029999999999, "duration": 126395.0})",
        R"({"state":"hangup","call_id":6421977457180672,"mos_score":4.41,"labels":[],"integrations":{}})",
        "{\"id\": 6312345678901248, \"from_number\": \"+14155550142\", \"to_number\": [\"+14155550111\"], "
        "\"text\": \"Caf\xc3\xa9 \xe2\x98\x95 \xf0\x9f\x93\x9e \\u00e9 \\\"quoted\\\" back\\\\slash\\n\\ttab\"}",
        "  {\n  \"event\" : \"Created\",\r\n  \"contact\" : {\"id\": \"5911111111111112\"}\n}  ",
        R"({"z":1,"a":2,"m":{"y":[1,2,{"x":null}],"b":true},"big":1e400,"neg":-0.0,"exp":1E-7})",
        jwt::sign_hs256(jwt::make_header(jwt::algorithm::hs256), R"({"call_id":7,"state":"connected"})", "secret"),
    };
}

std::string call_event(std::int64_t call_id, std::string const& state, std::int64_t entry_point_call_id,
                       std::int64_t operator_call_id) {
    auto id_or_null = [](std::int64_t v) { return v ? std::to_string(v) : std::string{"null"}; };
    return R"({"call_id":)" + std::to_string(call_id) + R"(,"state":")" + state +
           R"(","direction":"inbound","entry_point_call_id":)" + id_or_null(entry_point_call_id) +
           R"(,"operator_call_id":)" + id_or_null(operator_call_id) +
           R"(,"master_call_id":null,"target":{"id":5100000000000001,"type":"user"},"event_timestamp":1767225601250})";
}

archive::session_info sample_session(std::string name) {
    archive::session_info s;
    s.name = std::move(name);
    s.source = archive::session_source::sandbox;
    s.base_url = "https://sandbox.dialpad.com";
    s.started_wall_ns = 1767225600000000000;
    s.metadata_json = R"({"zeta":1,"alpha":{"nested":[1,2]},"websocket_id":"6300000000000001"})";
    return s;
}

archive::connection_info sample_connection(archive::session_id session, std::int64_t opened_offset_ns) {
    archive::connection_info c;
    c.session = session;
    c.url = "wss://platform-websockets.example/events/<token>";
    c.scope = archive::token_scope::websocket;
    c.opened_offset_ns = opened_offset_ns;
    return c;
}

}  // namespace harness::test
