#pragma once
// Text cut at a separator: option values that are comma lists (--subscribe
// call:ringing,hangup, --filter family=call,sms), path segments, lines.

#include <string>
#include <string_view>
#include <vector>

namespace harness::cli {

// The pieces between separators, empty ones included ("a,,b" is "a", "",
// "b"), so a caller can refuse them; a trailing separator ends the last
// piece, as a newline ends a text file's last line; "" is no pieces.
inline std::vector<std::string> split_at(std::string_view text, char separator) {
    std::vector<std::string> pieces;
    while (!text.empty()) {
        auto const at = text.find(separator);
        pieces.emplace_back(text.substr(0, at));
        if (at == std::string_view::npos) break;
        text.remove_prefix(at + 1);
    }
    return pieces;
}

}  // namespace harness::cli
