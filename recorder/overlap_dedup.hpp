#pragma once
// While two connections are open (the next one is opened before the old one
// ends), Dialpad sends each event on both. A frame is dropped as a copy only
// when the identical bytes arrived on a *different* connection within the
// window and were not already matched: a frame that truly repeats on one
// connection (Dialpad can send duplicates) is kept, and so is a second
// repeat arriving on both.

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

namespace harness::recorder {

class overlap_dedup {
public:
    using time_point = std::chrono::steady_clock::time_point;

    explicit overlap_dedup(std::chrono::milliseconds window) : window_{window} {}

    // True when `text` on `connection` at `now` is the other connection's
    // copy of a frame already kept; false when it should be stored.
    bool is_copy(std::uint64_t connection, std::string_view text, time_point now);

    // Only needed while more than one connection is open.
    void clear() {
        recent_.clear();
        by_hash_.clear();
        first_sequence_ = next_sequence_;
    }
    std::size_t remembered() const { return recent_.size(); }

private:
    struct seen {
        std::size_t hash;
        std::string text;
        std::uint64_t connection;
        time_point at;
        // The connections that delivered their copy already (a bit per
        // overlap partner is overkill: there are at most a few).
        std::uint64_t matched_by = 0;
    };
    std::chrono::milliseconds window_;
    std::deque<seen> recent_;  // in arrival order: the oldest expire first
    // hash -> sequence numbers of recent_ entries (recent_[seq - first_sequence_]).
    std::unordered_multimap<std::size_t, std::uint64_t> by_hash_;
    std::uint64_t first_sequence_ = 0, next_sequence_ = 0;
};

}  // namespace harness::recorder
