#include "core/jwt/es256_key.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstring>
#include <stdexcept>

namespace harness::jwt {
namespace {

struct bio_deleter {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;

bool is_p256(EVP_PKEY* key) {
    if (EVP_PKEY_is_a(key, "EC") != 1) return false;
    char group[64] = {};
    std::size_t length = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof group, &length) != 1) return false;
    return std::strcmp(group, "prime256v1") == 0 || std::strcmp(group, "P-256") == 0;
}

std::string drain(BIO* bio) {
    char* data = nullptr;
    auto const length = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(length));
}

}  // namespace

void es256_key::deleter::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

es256_key::es256_key(EVP_PKEY* key, bool has_private) : key_{key, deleter{}}, has_private_{has_private} {}

es256_key es256_key::generate() {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    if (!key) throw std::runtime_error{"could not generate a P-256 key"};
    return es256_key{key, true};
}

es256_key es256_key::from_pem(std::string_view pem) {
    // Private first: a private PEM also yields the public half.
    for (bool private_part : {true, false}) {
        bio_ptr bio{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
        if (!bio) throw std::runtime_error{"out of memory reading a PEM key"};
        EVP_PKEY* key = private_part ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                                     : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
        if (!key) continue;
        if (!is_p256(key)) {
            EVP_PKEY_free(key);
            throw std::invalid_argument{"the PEM key is not an EC P-256 key (ES256 needs one)"};
        }
        return es256_key{key, private_part};
    }
    throw std::invalid_argument{"not a PEM private or public key"};
}

std::string es256_key::public_pem() const {
    bio_ptr bio{BIO_new(BIO_s_mem())};
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1)
        throw std::runtime_error{"could not write the public key as PEM"};
    return drain(bio.get());
}

std::string es256_key::private_pem() const {
    if (!has_private_) throw std::logic_error{"this ES256 key has no private part"};
    bio_ptr bio{BIO_new(BIO_s_mem())};
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
        throw std::runtime_error{"could not write the private key as PEM"};
    return drain(bio.get());
}

}  // namespace harness::jwt
