#include "core/replay/frame_transform.hpp"

#include "core/jwt/jwt.hpp"

#include <charconv>
#include <regex>
#include <stdexcept>

namespace harness::replay {
namespace {

// "key": 1767225601250 for the time keys. Inside a JSON string a quote is
// escaped (\"), so text that merely mentions such a key never matches.
std::regex const& time_field() {
    static std::regex const pattern{R"re("(event_timestamp|date|created_date|date_[A-Za-z0-9_]+)"(\s*:\s*)(-?[0-9]+)(?![0-9.eE]))re"};
    return pattern;
}

}  // namespace

std::string rebase_times(std::string_view json, std::int64_t offset_ms) {
    std::string out;
    out.reserve(json.size() + 16);
    auto begin = json.begin();
    using iterator = std::string_view::const_iterator;
    for (std::regex_iterator<iterator> it{json.begin(), json.end(), time_field()}, end; it != end; ++it) {
        auto const& m = *it;
        std::int64_t value = 0;
        auto const digits = m[3].str();
        auto const [ptr, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (error != std::errc{}) continue;  // too large to be a time: leave it
        out.append(begin, m[3].first);
        out.append(std::to_string(value + offset_ms));
        begin = m[3].second;
    }
    out.append(begin, json.end());
    return out;
}

std::optional<std::int64_t> event_timestamp(std::string_view json) {
    static std::regex const pattern{R"re("event_timestamp"\s*:\s*(-?[0-9]+))re"};
    std::match_results<std::string_view::const_iterator> m;
    if (!std::regex_search(json.begin(), json.end(), m, pattern)) return std::nullopt;
    std::int64_t value = 0;
    auto const digits = m[1].str();
    auto const [ptr, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error != std::errc{}) return std::nullopt;
    return value;
}

std::optional<std::string> event_json_of(std::string_view frame) {
    if (!jwt::looks_like_jwt(frame)) return std::string{frame};
    auto const token = jwt::decode(frame);
    if (!token) return std::nullopt;
    return token->payload;
}

std::string transform_frame(std::string const& frame, std::optional<std::int64_t> offset_ms,
                            std::optional<std::string> const& secret) {
    if (!offset_ms && !secret) return frame;
    bool const is_jwt = jwt::looks_like_jwt(frame);
    if (is_jwt && !secret)
        throw std::invalid_argument{"the session holds signed (JWT) frames: --rebase-time needs --sign to re-sign them"};
    auto event = event_json_of(frame);
    if (!event) return frame;  // not a decodable token: served as recorded
    if (offset_ms) event = rebase_times(*event, *offset_ms);
    if (!secret) return *event;
    return jwt::sign_hs256(jwt::make_header(jwt::algorithm::hs256), *event, *secret);
}

}  // namespace harness::replay
