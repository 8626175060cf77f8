#include "recorder/overlap_dedup.hpp"

#include <functional>

namespace harness::recorder {

bool overlap_dedup::is_copy(std::uint64_t connection, std::string_view text, time_point now) {
    while (!recent_.empty() && now - recent_.front().at > window_) {
        auto const range = by_hash_.equal_range(recent_.front().hash);
        for (auto it = range.first; it != range.second; ++it)
            if (it->second == first_sequence_) {
                by_hash_.erase(it);
                break;
            }
        recent_.pop_front();
        ++first_sequence_;
    }
    auto const hash = std::hash<std::string_view>{}(text);
    // The earliest unmatched arrival of the same bytes on another connection.
    seen* earliest = nullptr;
    auto const range = by_hash_.equal_range(hash);
    for (auto it = range.first; it != range.second; ++it) {
        auto& s = recent_[it->second - first_sequence_];
        if (s.connection != connection && s.matched_by != connection && s.text == text &&
            (!earliest || s.at < earliest->at))
            earliest = &s;
    }
    if (earliest) {
        earliest->matched_by = connection;
        return true;
    }
    recent_.push_back({hash, std::string{text}, connection, now, 0});
    by_hash_.emplace(hash, next_sequence_++);
    return false;
}

}  // namespace harness::recorder
