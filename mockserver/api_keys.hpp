#pragma once
// The API keys the mock accepts and the company each belongs to. Resources
// are visible only to keys of the same company, as with Dialpad.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace harness::mock {

struct api_key {
    std::string key;
    std::string company;
};

// The company of keys given without one.
inline constexpr std::string_view k_default_company = "default";

class api_keys {
public:
    // "KEY" or "KEY@COMPANY". Throws std::invalid_argument for an empty key
    // or company.
    static api_key parse(std::string_view spec);

    explicit api_keys(std::vector<api_key> keys);

    // The company of `key`, comparing in constant time so response timing
    // does not reveal how much of a guessed key was right.
    std::optional<std::string> company_of(std::string_view key) const;
    std::vector<std::string> keys() const;

private:
    std::vector<api_key> keys_;
};

}  // namespace harness::mock
