// Compact JWTs (core/jwt). Any text goes through decode and both pinned
// verifiers, which must agree with each other: a token that does not decode
// is malformed, one that verifies names the pinned algorithm, and an HS256
// token that verifies is exactly what signing its decoded parts gives
// (base64url has one encoding per value). Any text is also a payload:
// signed with either algorithm it decodes to the same bytes, verifies, and
// is refused by the other algorithm's verifier.

#include "core/jwt/base64url.hpp"
#include "core/jwt/es256_key.hpp"
#include "core/jwt/jwt.hpp"
#include "fuzz/fuzz_support.hpp"

using namespace harness;

namespace {

jwt::es256_key const& es256_key() {
    static auto const key = jwt::es256_key::from_pem(fuzz::k_es256_private_pem);
    return key;
}

void check_token(std::string_view text) {
    auto const decoded = jwt::decode(text);
    auto const hs256 = jwt::verify_hs256(text, fuzz::k_hs256_secret);
    auto const es256 = jwt::verify_es256(text, es256_key());
    for (auto const verdict : {hs256, es256})
        if (!decoded && verdict != jwt::verdict::malformed) fuzz::finding("an undecodable token was not malformed");
    if (hs256 == jwt::verdict::valid) {
        if (decoded->alg != "HS256") fuzz::finding("HS256 verified a token of another algorithm");
        if (jwt::sign_hs256(decoded->header_json, decoded->payload, fuzz::k_hs256_secret) != text)
            fuzz::finding("a valid HS256 token differs from signing its own parts");
    }
    if (es256 == jwt::verdict::valid && decoded->alg != "ES256")
        fuzz::finding("ES256 verified a token of another algorithm");
    if (hs256 == jwt::verdict::valid && es256 != jwt::verdict::wrong_algorithm)
        fuzz::finding("one token passed for both algorithms");
}

void check_payload(std::string_view payload) {
    auto const hs256 = jwt::sign_hs256(jwt::make_header(jwt::algorithm::hs256), payload, fuzz::k_hs256_secret);
    auto const decoded = jwt::decode(hs256);
    if (!decoded || decoded->payload != payload || decoded->alg != "HS256" || decoded->typ != "JWT")
        fuzz::finding("an HS256 token does not decode to what was signed");
    if (!jwt::looks_like_jwt(hs256)) fuzz::finding("a signed token does not look like a JWT");
    if (jwt::verify_hs256(hs256, fuzz::k_hs256_secret) != jwt::verdict::valid)
        fuzz::finding("a freshly signed HS256 token does not verify");
    if (jwt::verify_es256(hs256, es256_key()) != jwt::verdict::wrong_algorithm)
        fuzz::finding("ES256 did not refuse an HS256 token");

    auto const es256 = jwt::sign_es256(jwt::make_header(jwt::algorithm::es256, "vnd.dialpad.websocket+jwt"), payload,
                                       es256_key());
    if (jwt::verify_es256(es256, es256_key()) != jwt::verdict::valid)
        fuzz::finding("a freshly signed ES256 token does not verify");
    if (jwt::verify_hs256(es256, fuzz::k_hs256_secret) != jwt::verdict::wrong_algorithm)
        fuzz::finding("HS256 did not refuse an ES256 token");
}

void check_base64url(std::string_view text) {
    if (jwt::base64url_decode(jwt::base64url_encode(text)) != std::string{text})
        fuzz::finding("base64url does not round-trip");
    if (auto const bytes = jwt::base64url_decode(text); bytes && jwt::base64url_encode(*bytes) != text)
        fuzz::finding("base64url accepted a second encoding of a value");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    auto const text = fuzz::as_text(data, size);
    check_token(text);
    check_payload(text);
    check_base64url(text);
    return 0;
}
