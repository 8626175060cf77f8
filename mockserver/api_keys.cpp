#include "mockserver/api_keys.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <stdexcept>

namespace harness::mock {

api_key api_keys::parse(std::string_view spec) {
    auto const at = spec.rfind('@');
    api_key result{std::string{spec.substr(0, at)},
                   at == std::string_view::npos ? std::string{k_default_company} : std::string{spec.substr(at + 1)}};
    if (result.key.empty()) throw std::invalid_argument{"an API key needs a key (KEY or KEY@COMPANY)"};
    if (result.company.empty()) throw std::invalid_argument{"an API key KEY@COMPANY needs a company after '@'"};
    return result;
}

std::vector<api_key> api_keys::parse_unlisted(std::string_view text) {
    constexpr std::string_view k_separators = ", \t\r\n";
    constexpr char k_comment = '#';
    auto const separates = [&](char c) { return k_separators.find(c) != std::string_view::npos; };
    std::vector<api_key> result;
    std::size_t at = 0;
    while (at < text.size()) {
        char const c = text[at];
        if (c == k_comment) {
            at = std::min(text.find('\n', at), text.size());
        } else if (separates(c)) {
            ++at;
        } else {
            auto end = at;
            while (end < text.size() && text[end] != k_comment && !separates(text[end])) ++end;
            auto key = parse(text.substr(at, end - at));
            key.listed = false;
            result.push_back(std::move(key));
            at = end;
        }
    }
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

std::vector<std::string> api_keys::listed_keys() const {
    std::vector<std::string> result;
    for (auto const& k : keys_)
        if (k.listed) result.push_back(k.key);
    return result;
}

}  // namespace harness::mock
