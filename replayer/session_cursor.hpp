#pragma once
// Walks the served session entry by entry, through every loop, and places
// each entry on the replay's timeline: its recorded offset from the first
// entry, with idle gaps cut to --max-gap and each loop going on where the
// last one ended. Copyable: a copy is a bookmark (a client cut by a replayed
// close resumes from one).

#include "replayer/frame_source.hpp"

#include <chrono>
#include <memory>
#include <optional>

namespace harness::replayer {

class session_cursor {
public:
    session_cursor(frame_source& source, int loops, std::optional<std::chrono::nanoseconds> max_gap);

    // The entry at the cursor, or null once every loop is done.
    chunk_entry const* current();
    // Its place on the timeline (valid after current() returned an entry).
    std::chrono::nanoseconds at() const { return at_; }
    std::shared_ptr<frame_chunk const> const& chunk() const { return chunk_; }
    std::size_t index() const { return entry_; }
    void advance();

private:
    frame_source* source_;
    int loops_;
    std::optional<std::chrono::nanoseconds> max_gap_;
    int loop_ = 0;
    std::shared_ptr<frame_chunk const> chunk_;
    std::size_t chunk_index_ = 0;
    std::size_t entry_ = 0;
    bool placed_ = false;  // at_ is the current entry's
    bool ended_ = false;
    std::size_t entries_this_loop_ = 0;
    std::optional<std::int64_t> first_offset_, previous_offset_;
    std::chrono::nanoseconds loop_start_{0}, cut_{0}, at_{0};
};

}  // namespace harness::replayer
