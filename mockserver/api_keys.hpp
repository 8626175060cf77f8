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
    // Printed in the ready line and the start guide. Keys from a file or
    // the environment are not: only a made-up key goes on the command
    // line, and a key used anywhere else must not reach a terminal or log.
    bool listed = true;
};

// The environment variable holding keys the mock accepts unlisted.
inline constexpr char const* k_api_keys_env = "DIALPAD_MOCK_API_KEYS";

// The company of keys given without one.
inline constexpr std::string_view k_default_company = "default";

class api_keys {
public:
    // "KEY" or "KEY@COMPANY". Throws std::invalid_argument for an empty key
    // or company.
    static api_key parse(std::string_view spec);
    // Several specs, as a keys file or DIALPAD_MOCK_API_KEYS holds them:
    // separated by whitespace or commas, '#' to the end of a line a comment.
    // Each is parsed as parse() does and marked unlisted.
    static std::vector<api_key> parse_unlisted(std::string_view text);

    explicit api_keys(std::vector<api_key> keys);

    // The company of `key`, comparing in constant time so response timing
    // does not reveal how much of a guessed key was right.
    std::optional<std::string> company_of(std::string_view key) const;
    // The listed keys, in the order given.
    std::vector<std::string> listed_keys() const;

private:
    std::vector<api_key> keys_;
};

}  // namespace harness::mock
