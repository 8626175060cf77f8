#include "mockserver/token_service.hpp"

#include "core/jwt/jwt.hpp"

#include <nlohmann/json.hpp>

namespace harness::mock {

std::string websocket_scope(std::int64_t websocket_id) { return "endpoint:" + std::to_string(websocket_id) + ":*"; }

std::string subscription_scope(std::int64_t websocket_id, std::string_view kind, std::int64_t subscription_id) {
    return "endpoint:" + std::to_string(websocket_id) + ":" + std::string{kind} + ":" + std::to_string(subscription_id);
}

token_service::token_service(clock const& time_source, std::string issuer, std::chrono::seconds lifetime)
    : clock_{time_source}, issuer_{std::move(issuer)}, lifetime_{lifetime}, key_{jwt::es256_key::generate()} {}

std::string token_service::mint(std::string_view subject) const {
    auto const now = std::chrono::duration_cast<std::chrono::seconds>(clock_.wall_now().time_since_epoch()).count();
    nlohmann::ordered_json claims;  // the claim order of real tokens
    claims["iss"] = issuer_;
    claims["sub"] = subject;
    claims["iat"] = now;
    claims["exp"] = now + lifetime_.count();
    return jwt::sign_es256(jwt::make_header(jwt::algorithm::es256, k_token_type), claims.dump(), key_);
}

std::optional<token_claims> token_service::verify(std::string_view token) const {
    if (jwt::verify_es256(token, key_) != jwt::verdict::valid) return std::nullopt;
    auto const decoded = jwt::decode(token);
    if (!decoded || decoded->typ != k_token_type) return std::nullopt;
    auto const claims = nlohmann::json::parse(decoded->payload, nullptr, false);
    if (!claims.is_object()) return std::nullopt;
    auto const iss = claims.find("iss"), sub = claims.find("sub"), iat = claims.find("iat"), exp = claims.find("exp");
    if (iss == claims.end() || sub == claims.end() || iat == claims.end() || exp == claims.end() ||
        !iss->is_string() || !sub->is_string() || !iat->is_number_integer() || !exp->is_number_integer())
        return std::nullopt;
    token_claims result{iss->get<std::string>(), sub->get<std::string>(), iat->get<std::int64_t>(),
                        exp->get<std::int64_t>()};
    auto const now = std::chrono::duration_cast<std::chrono::seconds>(clock_.wall_now().time_since_epoch()).count();
    if (now >= result.expires_at) return std::nullopt;
    return result;
}

}  // namespace harness::mock
