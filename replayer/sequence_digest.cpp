#include "replayer/sequence_digest.hpp"

#include <openssl/evp.h>

namespace harness::replayer {

namespace {

// OpenSSL 3 looks the algorithm up (under a lock) on every implicit use:
// fetch it once, and keep one context per thread.
struct frame_hasher {
    EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    ~frame_hasher() {
        EVP_MD_CTX_free(context);
        EVP_MD_free(sha256);
    }
};

}  // namespace

void append_frame_hash(std::string& out, std::string_view payload) {
    thread_local frame_hasher hasher;
    unsigned char bytes[EVP_MAX_MD_SIZE];
    unsigned length = 0;
    EVP_DigestInit_ex2(hasher.context, hasher.sha256, nullptr);
    EVP_DigestUpdate(hasher.context, payload.data(), payload.size());
    EVP_DigestFinal_ex(hasher.context, bytes, &length);
    out.append(reinterpret_cast<char const*>(bytes), length);
}

sequence_digest::sequence_digest() : context_{EVP_MD_CTX_new()} { EVP_DigestInit_ex(context_, EVP_sha256(), nullptr); }

sequence_digest::~sequence_digest() { EVP_MD_CTX_free(context_); }

void sequence_digest::add_hashes(std::string_view hashes) { EVP_DigestUpdate(context_, hashes.data(), hashes.size()); }

std::string sequence_digest::hex() const {
    EVP_MD_CTX* copy = EVP_MD_CTX_new();
    EVP_MD_CTX_copy_ex(copy, context_);
    unsigned char bytes[EVP_MAX_MD_SIZE];
    unsigned length = 0;
    EVP_DigestFinal_ex(copy, bytes, &length);
    EVP_MD_CTX_free(copy);
    static constexpr char k_hex[] = "0123456789abcdef";
    std::string text;
    for (unsigned i = 0; i < length; ++i) text.append({k_hex[bytes[i] >> 4], k_hex[bytes[i] & 15]});
    return text;
}

}  // namespace harness::replayer
