#pragma once
// A P-256 key for ES256 (the algorithm of Dialpad's production websocket
// tokens). Wraps an OpenSSL EVP_PKEY; <openssl/*.h> stays in the .cpp.

#include <memory>
#include <string>
#include <string_view>

typedef struct evp_pkey_st EVP_PKEY;  // as OpenSSL's own headers declare it

namespace harness::jwt {

class es256_key {
public:
    // A fresh random key pair.
    static es256_key generate();
    // A PEM private key ("-----BEGIN PRIVATE KEY-----" or "EC PRIVATE KEY") or
    // public key ("-----BEGIN PUBLIC KEY-----"). Throws std::invalid_argument
    // if the text is not a P-256 key.
    static es256_key from_pem(std::string_view pem);

    bool has_private_key() const { return has_private_; }
    std::string public_pem() const;
    std::string private_pem() const;  // throws std::logic_error for a public-only key
    EVP_PKEY* native() const { return key_.get(); }

private:
    struct deleter {
        void operator()(EVP_PKEY* key) const;
    };
    es256_key(EVP_PKEY* key, bool has_private);
    std::shared_ptr<EVP_PKEY> key_;  // shared: an EVP_PKEY is immutable once built
    bool has_private_ = false;
};

}  // namespace harness::jwt
