#pragma once
// Option values that are comma lists (--subscribe call:ringing,hangup,
// --filter family=call,sms).

#include <string>
#include <string_view>
#include <vector>

namespace harness::cli {

// The items between commas, empty ones included ("a,,b" is "a", "", "b"),
// so a caller can refuse them; "" is no items.
inline std::vector<std::string> split_commas(std::string_view text) {
    std::vector<std::string> items;
    while (!text.empty()) {
        auto const comma = text.find(',');
        items.emplace_back(text.substr(0, comma));
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return items;
}

}  // namespace harness::cli
