#include "mockserver/request_journal.hpp"

#include "core/cli/split_text.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace harness::mock {

std::string mask_api_key(std::string_view target) {
    auto const question = target.find('?');
    if (question == std::string_view::npos) return std::string{target};
    std::string out{target.substr(0, question + 1)};
    auto query = target.substr(question + 1);
    bool first = true;
    while (true) {
        auto const amp = query.find('&');
        auto const pair = query.substr(0, amp);
        if (!first) out += '&';
        first = false;
        auto const eq = pair.find('=');
        std::string name{pair.substr(0, eq)};
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        if (name == "apikey" && eq != std::string_view::npos)
            out += std::string{pair.substr(0, eq)} + "=***";
        else
            out += pair;
        if (amp == std::string_view::npos) break;
        query = query.substr(amp + 1);
    }
    return out;
}

std::string operation_of(web::request const& request) {
    std::string_view path{request.path};
    if (!path.starts_with("/api/v2/")) return {};
    path.remove_prefix(8);
    while (path.ends_with('/')) path.remove_suffix(1);
    auto const parts = cli::split_at(path, '/');
    std::size_t const collection_length = !parts.empty() && parts[0] == "subscriptions" ? 2 : 1;
    if (parts.size() < collection_length || parts.size() > collection_length + 1) return {};
    std::string name;
    for (std::size_t i = 0; i < collection_length; ++i) {
        if (i > 0) name += '.';
        name += parts[i];
    }
    bool const item = parts.size() == collection_length + 1;
    auto const& m = request.method;
    char const* verb = !item ? (m == "GET" ? "list" : m == "POST" ? "create" : nullptr)
                             : (m == "GET" ? "get" : m == "PATCH" ? "update" : m == "DELETE" ? "delete" : nullptr);
    return verb ? name + "." + verb : std::string{};
}

request_journal::request_journal(std::size_t capacity) : capacity_{capacity == 0 ? 1 : capacity} {}

void request_journal::record(web::request const& request, int status, std::string company, std::int64_t wall_ms) {
    if (entries_.size() == capacity_) entries_.pop_front();
    entries_.push_back({next_sequence_++, wall_ms, request.method, mask_api_key(request.target), status, request.body,
                        std::move(company), operation_of(request)});
}

void request_journal::clear() { entries_.clear(); }

}  // namespace harness::mock
