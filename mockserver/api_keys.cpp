#include "mockserver/api_keys.hpp"

#include <openssl/crypto.h>

#include <stdexcept>

namespace harness::mock {

api_key api_keys::parse(std::string_view spec) {
    auto const at = spec.rfind('@');
    api_key result{std::string{spec.substr(0, at)},
                   at == std::string_view::npos ? std::string{k_default_company} : std::string{spec.substr(at + 1)}};
    if (result.key.empty()) throw std::invalid_argument{"--api-key needs a key (KEY or KEY@COMPANY)"};
    if (result.company.empty()) throw std::invalid_argument{"--api-key KEY@COMPANY needs a company after '@'"};
    return result;
}

api_keys::api_keys(std::vector<api_key> keys) : keys_{std::move(keys)} {}

std::optional<std::string> api_keys::company_of(std::string_view key) const {
    std::optional<std::string> found;
    // Every key is compared, whichever matches.
    for (auto const& candidate : keys_) {
        bool const same_length = candidate.key.size() == key.size();
        bool const equal = same_length && CRYPTO_memcmp(candidate.key.data(), key.data(), key.size()) == 0;
        if (equal) found = candidate.company;
    }
    return found;
}

std::vector<std::string> api_keys::keys() const {
    std::vector<std::string> result;
    for (auto const& k : keys_) result.push_back(k.key);
    return result;
}

}  // namespace harness::mock
