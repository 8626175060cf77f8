#include "core/jwt/jwt.hpp"

#include "core/jwt/base64url.hpp"

#include <nlohmann/json.hpp>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <memory>
#include <stdexcept>

namespace harness::jwt {
namespace {

// JWS raw ECDSA signature: R and S, 32 bytes each, big-endian (RFC 7518 §3.4).
constexpr std::size_t k_es256_signature_size = 64;
constexpr std::size_t k_es256_coordinate_size = 32;

struct token_parts {
    std::string_view header;
    std::string_view payload;
    std::string_view signature;
    std::string_view signing_input;  // header.payload, the bytes that are signed
};

std::optional<token_parts> split(std::string_view token) {
    auto const first = token.find('.');
    if (first == std::string_view::npos) return std::nullopt;
    auto const second = token.find('.', first + 1);
    if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
        return std::nullopt;
    token_parts parts{token.substr(0, first), token.substr(first + 1, second - first - 1),
                      token.substr(second + 1), token.substr(0, second)};
    if (parts.header.empty()) return std::nullopt;
    return parts;
}

std::array<unsigned char, 32> hmac_sha256(std::string_view key, std::string_view data) {
    std::array<unsigned char, 32> out{};
    unsigned int length = 0;
    auto const* result = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                              reinterpret_cast<unsigned char const*>(data.data()), data.size(), out.data(),
                              &length);
    if (!result || length != out.size()) throw std::runtime_error{"HMAC-SHA256 failed"};
    return out;
}

struct md_ctx_deleter {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, md_ctx_deleter>;
struct ecdsa_sig_deleter {
    void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};
using ecdsa_sig_ptr = std::unique_ptr<ECDSA_SIG, ecdsa_sig_deleter>;

std::string es256_sign_raw(EVP_PKEY* key, std::string_view data) {
    md_ctx_ptr ctx{EVP_MD_CTX_new()};
    std::size_t der_length = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &der_length,
                       reinterpret_cast<unsigned char const*>(data.data()), data.size()) != 1)
        throw std::runtime_error{"ES256 signing failed"};
    std::string der(der_length, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &der_length,
                       reinterpret_cast<unsigned char const*>(data.data()), data.size()) != 1)
        throw std::runtime_error{"ES256 signing failed"};
    // OpenSSL signs in DER; JWS wants the fixed-size R || S form.
    auto const* cursor = reinterpret_cast<unsigned char const*>(der.data());
    ecdsa_sig_ptr sig{d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der_length))};
    if (!sig) throw std::runtime_error{"ES256 signing produced an unreadable signature"};
    std::string raw(k_es256_signature_size, '\0');
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, k_es256_coordinate_size) < 0 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + k_es256_coordinate_size, k_es256_coordinate_size) < 0)
        throw std::runtime_error{"ES256 signature does not fit 64 bytes"};
    return raw;
}

bool es256_verify_raw(EVP_PKEY* key, std::string_view data, std::string_view raw) {
    if (raw.size() != k_es256_signature_size) return false;
    auto const* bytes = reinterpret_cast<unsigned char const*>(raw.data());
    ecdsa_sig_ptr sig{ECDSA_SIG_new()};
    BIGNUM* r = BN_bin2bn(bytes, k_es256_coordinate_size, nullptr);
    BIGNUM* s = BN_bin2bn(bytes + k_es256_coordinate_size, k_es256_coordinate_size, nullptr);
    if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return false;
    }
    unsigned char* der = nullptr;
    int const der_length = i2d_ECDSA_SIG(sig.get(), &der);
    if (der_length <= 0) return false;
    std::unique_ptr<unsigned char, void (*)(unsigned char*)> der_owner{
        der, [](unsigned char* p) { OPENSSL_free(p); }};
    md_ctx_ptr ctx{EVP_MD_CTX_new()};
    return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
           EVP_DigestVerify(ctx.get(), der, static_cast<std::size_t>(der_length),
                            reinterpret_cast<unsigned char const*>(data.data()), data.size()) == 1;
}

std::string assemble(std::string_view header_json, std::string_view payload) {
    return base64url_encode(header_json) + '.' + base64url_encode(payload);
}

// Common front half of verification: decodable, and the header names the
// expected algorithm.
verdict check_shape(std::string_view token, algorithm expected, std::string& signature,
                    std::string_view& signing_input) {
    auto decoded = decode(token);
    if (!decoded) return verdict::malformed;
    if (decoded->alg != to_string(expected)) return verdict::wrong_algorithm;
    signature = std::move(decoded->signature);
    signing_input = token.substr(0, token.rfind('.'));
    return verdict::valid;
}

}  // namespace

std::string_view to_string(algorithm alg) {
    return alg == algorithm::hs256 ? "HS256" : "ES256";
}

std::string make_header(algorithm alg, std::string_view typ) {
    nlohmann::ordered_json header;
    header["alg"] = to_string(alg);
    if (!typ.empty()) header["typ"] = typ;
    return header.dump();
}

std::optional<decoded_token> decode(std::string_view token) {
    auto const parts = split(token);
    if (!parts) return std::nullopt;
    auto header = base64url_decode(parts->header);
    auto payload = base64url_decode(parts->payload);
    auto signature = base64url_decode(parts->signature);
    if (!header || !payload || !signature) return std::nullopt;
    auto const parsed = nlohmann::json::parse(*header, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
    auto const alg = parsed.find("alg");
    if (alg == parsed.end() || !alg->is_string()) return std::nullopt;
    decoded_token result{std::move(*header), std::move(*payload), std::move(*signature),
                         alg->get<std::string>(), {}};
    if (auto const typ = parsed.find("typ"); typ != parsed.end() && typ->is_string())
        result.typ = typ->get<std::string>();
    return result;
}

bool looks_like_jwt(std::string_view text) {
    // A JSON event starts with '{'; a compact JWT is base64url with two dots
    // and a header that, encoded, always starts with "eyJ" ('{"').
    if (text.substr(0, 3) != "eyJ") return false;
    int dots = 0;
    for (char c : text) {
        if (c == '.')
            ++dots;
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                   c == '_'))
            return false;
    }
    return dots == 2;
}

std::string sign_hs256(std::string_view header_json, std::string_view payload, std::string_view secret) {
    auto signing_input = assemble(header_json, payload);
    auto const mac = hmac_sha256(secret, signing_input);
    std::string_view const mac_bytes{reinterpret_cast<char const*>(mac.data()), mac.size()};
    return signing_input + '.' + base64url_encode(mac_bytes);
}

std::string sign_es256(std::string_view header_json, std::string_view payload, es256_key const& key) {
    if (!key.has_private_key()) throw std::invalid_argument{"ES256 signing needs a private key"};
    auto signing_input = assemble(header_json, payload);
    auto const raw = es256_sign_raw(key.native(), signing_input);
    return signing_input + '.' + base64url_encode(raw);
}

std::string_view to_string(verdict v) {
    switch (v) {
    case verdict::valid: return "valid";
    case verdict::bad_signature: return "bad_signature";
    case verdict::wrong_algorithm: return "wrong_algorithm";
    case verdict::malformed: return "malformed";
    }
    return "malformed";
}

verdict verify_hs256(std::string_view token, std::string_view secret) {
    std::string signature;
    std::string_view signing_input;
    if (auto const v = check_shape(token, algorithm::hs256, signature, signing_input); v != verdict::valid)
        return v;
    auto const expected = hmac_sha256(secret, signing_input);
    if (signature.size() != expected.size()) return verdict::bad_signature;
    // Constant time, so timing does not reveal how much of a forgery matched.
    return CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) == 0 ? verdict::valid
                                                                                   : verdict::bad_signature;
}

verdict verify_es256(std::string_view token, es256_key const& key) {
    std::string signature;
    std::string_view signing_input;
    if (auto const v = check_shape(token, algorithm::es256, signature, signing_input); v != verdict::valid)
        return v;
    return es256_verify_raw(key.native(), signing_input, signature) ? verdict::valid : verdict::bad_signature;
}

}  // namespace harness::jwt
