#include "core/archive/archive_types.hpp"

#include <array>
#include <utility>

namespace harness::archive {
namespace {

template <class Enum, std::size_t N>
std::string_view name_of(std::array<std::pair<Enum, std::string_view>, N> const& names, Enum value) {
    for (auto const& [v, name] : names)
        if (v == value) return name;
    return {};
}

template <class Enum, std::size_t N>
std::optional<Enum> value_of(std::array<std::pair<Enum, std::string_view>, N> const& names, std::string_view text) {
    for (auto const& [v, name] : names)
        if (name == text) return v;
    return std::nullopt;
}

constexpr std::array<std::pair<session_source, std::string_view>, 4> k_sources{{
    {session_source::live, "live"},
    {session_source::sandbox, "sandbox"},
    {session_source::mock, "mock"},
    {session_source::import, "import"},
}};
constexpr std::array<std::pair<frame_kind, std::string_view>, 4> k_kinds{{
    {frame_kind::event, "event"},
    {frame_kind::control, "control"},
    {frame_kind::open, "open"},
    {frame_kind::close, "close"},
}};
constexpr std::array<std::pair<token_scope, std::string_view>, 3> k_scopes{{
    {token_scope::websocket, "websocket"},
    {token_scope::subscription, "subscription"},
    {token_scope::unknown, "unknown"},
}};
constexpr std::array<std::pair<end_reason, std::string_view>, 5> k_end_reasons{{
    {end_reason::hour_cut, "hour_cut"},
    {end_reason::token_refresh, "token_refresh"},
    {end_reason::error, "error"},
    {end_reason::stop, "stop"},
    {end_reason::server_close, "server_close"},
}};

}  // namespace

std::string_view to_string(session_source v) { return name_of(k_sources, v); }
std::string_view to_string(frame_kind v) { return name_of(k_kinds, v); }
std::string_view to_string(token_scope v) { return name_of(k_scopes, v); }
std::string_view to_string(end_reason v) { return name_of(k_end_reasons, v); }
std::optional<session_source> parse_session_source(std::string_view t) { return value_of(k_sources, t); }
std::optional<frame_kind> parse_frame_kind(std::string_view t) { return value_of(k_kinds, t); }
std::optional<token_scope> parse_token_scope(std::string_view t) { return value_of(k_scopes, t); }
std::optional<end_reason> parse_end_reason(std::string_view t) { return value_of(k_end_reasons, t); }

}  // namespace harness::archive
