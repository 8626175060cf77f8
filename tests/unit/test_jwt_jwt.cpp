#include "core/jwt/jwt.hpp"

#include "core/jwt/base64url.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <stdexcept>

namespace jwt = harness::jwt;
using jwt::verdict;

namespace {

// The two known vectors (invented values, generated independently of this
// code): an HS256-signed call event and an HS256 websocket URL token.
constexpr std::string_view k_event_secret = "emulator-test-secret";
constexpr std::string_view k_event_token =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJjYWxsX2lkIjo1ODIzNTE5MDQ2NjQ3ODA4LCJzdGF0ZSI6InJpbmdpbmciLCJkaXJlY3Rpb24iOiJpbmJvdW5kIiwiZXh0ZXJuYWxfbnVt"
    "YmVyIjoiKzE0MTU1NTUwMTQyIiwiaW50ZXJuYWxfbnVtYmVyIjoiKzE0MTU1NTUwMTAwIiwiZXZlbnRfdGltZXN0YW1wIjoxNzY3MjI1NjAx"
    "MjUwfQ."
    "VveCL_0p0CfoMHn83GTldwH3IHD1k_rYsH_xqq1_25g";
constexpr std::string_view k_event_payload =
    R"({"call_id":5823519046647808,"state":"ringing","direction":"inbound","external_number":"+14155550142",)"
    R"("internal_number":"+14155550100","event_timestamp":1767225601250})";

constexpr std::string_view k_url_token_key = "emulator-token-key";
constexpr std::string_view k_url_token =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6InZuZC5kaWFscGFkLndlYnNvY2tldCtqd3QifQ."
    "eyJpc3MiOiJodHRwczovL2RpYWxwYWQuY29tIiwic3ViIjoiZW5kcG9pbnQ6NjMwMDAwMDAwMDAwMDAwMTpjYWxsOjYzMDAwMDAwMDAwMDAw"
    "MDIiLCJpYXQiOjE3NjcyMjU2MDAsImV4cCI6MTc2NzIyOTIwMH0."
    "1XVtDAZNTIJ7iMlOSsxjvwV5p8R6Hn0EYDfMANiOhtE";

// A P-384 public key: a real EC key, but not one ES256 accepts.
constexpr std::string_view k_p384_public_pem = R"(-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEznZEFCuWXQEfXGpk47reLgu4oaBB20v8
QZVQPyj2BPHpb2IHfBPT4A/H2EXpzldjY+G07jc2KsDDaen4zS1pGYqEAzpbhYRJ
WAHOBPSuaw6N64CkHOXftmeqyu8eonzX
-----END PUBLIC KEY-----
)";

std::string replace_part(std::string_view token, int index, std::string_view replacement) {
    std::string parts[3];
    std::size_t start = 0;
    for (int i = 0; i < 3; ++i) {
        auto const end = i < 2 ? token.find('.', start) : token.size();
        parts[i] = std::string{token.substr(start, end - start)};
        start = end + 1;
    }
    parts[index] = std::string{replacement};
    return parts[0] + '.' + parts[1] + '.' + parts[2];
}

}  // namespace

TEST_CASE("jwt: the known event vector verifies and decodes to its exact payload bytes") {
    CHECK(jwt::verify_hs256(k_event_token, k_event_secret) == verdict::valid);
    auto const decoded = jwt::decode(k_event_token);
    REQUIRE(decoded.has_value());
    CHECK(decoded->alg == "HS256");
    CHECK(decoded->typ == "JWT");
    CHECK(decoded->payload == k_event_payload);
    CHECK(decoded->signature.size() == 32);
}

TEST_CASE("jwt: signing the known payload reproduces the known token byte for byte") {
    auto const header = jwt::make_header(jwt::algorithm::hs256);
    CHECK(header == R"({"alg":"HS256","typ":"JWT"})");
    CHECK(jwt::sign_hs256(header, k_event_payload, k_event_secret) == k_event_token);
}

TEST_CASE("jwt: the known websocket URL token verifies and carries its scope") {
    CHECK(jwt::verify_hs256(k_url_token, k_url_token_key) == verdict::valid);
    auto const decoded = jwt::decode(k_url_token);
    REQUIRE(decoded.has_value());
    CHECK(decoded->typ == "vnd.dialpad.websocket+jwt");
    auto const claims = nlohmann::json::parse(decoded->payload);
    CHECK(claims.at("sub").get<std::string>() == "endpoint:6300000000000001:call:6300000000000002");
    CHECK(claims.at("exp").get<long>() - claims.at("iat").get<long>() == 3600);
    auto const header = jwt::make_header(jwt::algorithm::hs256, "vnd.dialpad.websocket+jwt");
    CHECK(jwt::sign_hs256(header, decoded->payload, k_url_token_key) == k_url_token);
}

TEST_CASE("jwt: payload bytes survive signing exactly, whatever their formatting") {
    std::string_view const payload = "{ \"z\": 1,\n\"a\":8951.029999999999, \"id\":12345678901234567890 }";
    auto const token = jwt::sign_hs256(jwt::make_header(jwt::algorithm::hs256), payload, "s");
    auto const decoded = jwt::decode(token);
    REQUIRE(decoded.has_value());
    CHECK(decoded->payload == payload);
    CHECK(jwt::verify_hs256(token, "s") == verdict::valid);
}

TEST_CASE("jwt: HS256 refuses wrong secrets and tampering") {
    CHECK(jwt::verify_hs256(k_event_token, "emulator-test-secreT") == verdict::bad_signature);
    CHECK(jwt::verify_hs256(k_event_token, "") == verdict::bad_signature);
    auto const forged_payload = jwt::base64url_encode(R"({"call_id":1,"state":"hangup"})");
    CHECK(jwt::verify_hs256(replace_part(k_event_token, 1, forged_payload), k_event_secret) ==
          verdict::bad_signature);
    CHECK(jwt::verify_hs256(replace_part(k_event_token, 2, "AAAA"), k_event_secret) == verdict::bad_signature);
    CHECK(jwt::verify_hs256(replace_part(k_event_token, 2, ""), k_event_secret) == verdict::bad_signature);
}

TEST_CASE("jwt: the algorithm is pinned: none and HS/ES confusion are refused") {
    auto const none_header = jwt::base64url_encode(R"({"alg":"none","typ":"JWT"})");
    auto const unsigned_token = replace_part(replace_part(k_event_token, 0, none_header), 2, "");
    CHECK(jwt::verify_hs256(unsigned_token, k_event_secret) == verdict::wrong_algorithm);

    auto const key = jwt::es256_key::generate();
    CHECK(jwt::verify_es256(k_event_token, key) == verdict::wrong_algorithm);

    // An ES256 token whose header was rewritten to HS256, "signed" with the
    // public key as an HMAC secret: the classic confusion attack.
    auto const hs_header = jwt::make_header(jwt::algorithm::hs256);
    auto const confused = jwt::sign_hs256(hs_header, k_event_payload, key.public_pem());
    CHECK(jwt::verify_es256(confused, key) == verdict::wrong_algorithm);

    auto const lowercase = replace_part(k_event_token, 0, jwt::base64url_encode(R"({"alg":"hs256"})"));
    CHECK(jwt::verify_hs256(lowercase, k_event_secret) == verdict::wrong_algorithm);
}

TEST_CASE("jwt: malformed tokens are reported, never thrown") {
    for (std::string_view bad : {"", "abc", "a.b", "a.b.c.d", ".e30.", "!!!.e30.AA", "e30.e30.AA",
                                 "eyJhbGciOjF9.e30.AA" /* alg is a number */, "WzFd.e30.AA" /* header [1] */}) {
        CAPTURE(bad);
        CHECK(jwt::verify_hs256(bad, "s") == verdict::malformed);
        CHECK_FALSE(jwt::decode(bad).has_value());
    }
    CHECK(jwt::to_string(verdict::bad_signature) == "bad_signature");
}

TEST_CASE("jwt: looks_like_jwt tells a signed frame from a JSON one") {
    CHECK(jwt::looks_like_jwt(k_event_token));
    CHECK_FALSE(jwt::looks_like_jwt(k_event_payload));
    CHECK_FALSE(jwt::looks_like_jwt("eyJ.only-one-dot"));
    CHECK_FALSE(jwt::looks_like_jwt("eyJ.a b.c"));
}

TEST_CASE("jwt: ES256 signs in the 64-byte JWS form and verifies") {
    auto const key = jwt::es256_key::generate();
    auto const header = jwt::make_header(jwt::algorithm::es256, "vnd.dialpad.websocket+jwt");
    auto const token = jwt::sign_es256(header, R"({"sub":"endpoint:1000:*"})", key);
    auto const decoded = jwt::decode(token);
    REQUIRE(decoded.has_value());
    CHECK(decoded->alg == "ES256");
    CHECK(decoded->signature.size() == 64);
    CHECK(jwt::verify_es256(token, key) == verdict::valid);

    auto const public_only = jwt::es256_key::from_pem(key.public_pem());
    CHECK_FALSE(public_only.has_private_key());
    CHECK(jwt::verify_es256(token, public_only) == verdict::valid);
    CHECK_THROWS_AS(jwt::sign_es256(header, "{}", public_only), std::invalid_argument);

    auto const other = jwt::es256_key::generate();
    CHECK(jwt::verify_es256(token, other) == verdict::bad_signature);
    auto const tampered = replace_part(token, 1, jwt::base64url_encode(R"({"sub":"endpoint:1001:*"})"));
    CHECK(jwt::verify_es256(tampered, key) == verdict::bad_signature);
    CHECK(jwt::verify_es256(replace_part(token, 2, "AAAA"), key) == verdict::bad_signature);
}

TEST_CASE("jwt: ES256 keys round-trip through PEM; other keys are refused") {
    auto const key = jwt::es256_key::generate();
    auto const reloaded = jwt::es256_key::from_pem(key.private_pem());
    CHECK(reloaded.has_private_key());
    CHECK(reloaded.public_pem() == key.public_pem());
    auto const token = jwt::sign_es256(jwt::make_header(jwt::algorithm::es256), "{}", reloaded);
    CHECK(jwt::verify_es256(token, key) == verdict::valid);

    CHECK_THROWS_AS(jwt::es256_key::from_pem("not a key"), std::invalid_argument);
    CHECK_THROWS_AS(jwt::es256_key::from_pem(k_p384_public_pem), std::invalid_argument);
}
