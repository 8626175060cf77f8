#pragma once
// Mints and checks the tokens in websocket URLs (`/events/<token>`): JWTs
// with header typ `vnd.dialpad.websocket+jwt` and claims iss, sub, iat and
// exp = iat + 1 hour, signed ES256 with a key made at start, as production
// tokens are. Clients treat them as opaque.

#include "core/clock/clock.hpp"
#include "core/jwt/es256_key.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace harness::mock {

inline constexpr std::string_view k_token_type = "vnd.dialpad.websocket+jwt";

struct token_claims {
    std::string issuer;
    std::string subject;  // endpoint:<websocket_id>:* or endpoint:<websocket_id>:<kind>:<subscription_id>
    std::int64_t issued_at = 0;   // Unix seconds
    std::int64_t expires_at = 0;  // Unix seconds
};

// "endpoint:<id>:*": every subscription of websocket `websocket_id`.
std::string websocket_scope(std::int64_t websocket_id);
// "endpoint:<id>:<kind>:<subscription_id>": one subscription.
std::string subscription_scope(std::int64_t websocket_id, std::string_view kind, std::int64_t subscription_id);

class token_service {
public:
    token_service(clock const& time_source, std::string issuer = "https://dialpad.com",
                  std::chrono::seconds lifetime = std::chrono::hours{1});

    // A fresh token for `subject`, issued now by the injected clock.
    std::string mint(std::string_view subject) const;
    // The claims of a token this service minted, if its signature holds and
    // it has not expired by the injected clock.
    std::optional<token_claims> verify(std::string_view token) const;

private:
    clock const& clock_;
    std::string issuer_;
    std::chrono::seconds lifetime_;
    jwt::es256_key key_;
};

}  // namespace harness::mock
