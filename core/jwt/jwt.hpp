#pragma once
// Compact JWTs (RFC 7519) as Dialpad uses them: HS256 event payloads signed
// with a webhook/websocket secret, and the websocket URL tokens (HS256 in the
// spec, ES256 in production).
//
// The payload is carried as exact bytes, never re-serialised, so a signed
// event keeps its key order and number formatting. Verification pins the
// algorithm: a token is checked only against the algorithm the caller
// expects, so `alg: none` and HS/ES confusion are refused.

#include "core/jwt/es256_key.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace harness::jwt {

enum class algorithm { hs256, es256 };

std::string_view to_string(algorithm alg);  // "HS256", "ES256"

// Compact JSON header, `alg` first: {"alg":"HS256","typ":"JWT"}.
std::string make_header(algorithm alg, std::string_view typ = "JWT");

// A token split into its three parts, each decoded from base64url.
struct decoded_token {
    std::string header_json;  // exact bytes of the header
    std::string payload;      // exact bytes of the payload
    std::string signature;    // raw signature bytes
    std::string alg;          // the header's "alg" value
    std::string typ;          // the header's "typ" value, or empty
};

// Decodes without verifying. nullopt unless the text is three base64url
// parts and the header is a JSON object with a string "alg".
std::optional<decoded_token> decode(std::string_view token);

// True when `text` has the shape of a compact JWT (cheap, no decoding);
// used to tell a signed event frame from a plain JSON one.
bool looks_like_jwt(std::string_view text);

// Builds header.payload.signature; `header_json` and `payload` are used
// byte for byte.
std::string sign_hs256(std::string_view header_json, std::string_view payload, std::string_view secret);
// Throws std::invalid_argument if `key` has no private part.
std::string sign_es256(std::string_view header_json, std::string_view payload, es256_key const& key);

enum class verdict {
    valid,
    bad_signature,    // well formed, right algorithm, signature does not match
    wrong_algorithm,  // header names another algorithm (including "none")
    malformed,        // not a decodable compact JWT
};
std::string_view to_string(verdict v);

verdict verify_hs256(std::string_view token, std::string_view secret);
verdict verify_es256(std::string_view token, es256_key const& key);

}  // namespace harness::jwt
