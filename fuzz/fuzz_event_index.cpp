// Event frames -> the archive's event index (core/model/event_index). Any
// bytes, plain JSON or a JWT, must give an index: index_event never throws.
// A frame that is not a JWT is also signed as one: the index of the token
// must be the index of its payload, valid under its secret and bad under
// another.

#include "core/jwt/jwt.hpp"
#include "core/model/event_index.hpp"
#include "fuzz/fuzz_support.hpp"

using namespace harness;

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    auto const text = fuzz::as_text(data, size);
    auto const plain = model::index_event(text);

    // The subscription's family as a hint, and the websocket's secret.
    auto const hint = static_cast<model::event_family>(size % 6);
    auto const hinted = model::index_event(text, {hint, std::string{fuzz::k_hs256_secret}});
    if (plain.parsed && plain.family != model::event_family::unknown && hinted.family != plain.family)
        fuzz::finding("a hint overrode the family the fields tell");

    if (jwt::looks_like_jwt(text)) return 0;
    auto const token = jwt::sign_hs256(jwt::make_header(jwt::algorithm::hs256), text, fuzz::k_hs256_secret);
    auto from_token = model::index_event(token, {std::nullopt, std::string{fuzz::k_hs256_secret}});
    if (!from_token.is_jwt || from_token.signature != model::signature_check::valid)
        fuzz::finding("a freshly signed frame is not a valid JWT");
    from_token.is_jwt = false;
    from_token.signature = model::signature_check::not_jwt;
    if (!(from_token == plain)) fuzz::finding("a signed frame indexes differently from its payload");
    auto const other_secret = model::index_event(token, {std::nullopt, std::string{"another secret"}});
    if (other_secret.signature != model::signature_check::bad_signature)
        fuzz::finding("a frame verified under the wrong secret");
    return 0;
}
