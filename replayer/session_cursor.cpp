#include "replayer/session_cursor.hpp"

namespace harness::replayer {

using std::chrono::nanoseconds;

session_cursor::session_cursor(frame_source& source, int loops, std::optional<nanoseconds> max_gap)
    : source_{&source}, loops_{loops}, max_gap_{max_gap} {}

chunk_entry const* session_cursor::current() {
    while (!ended_) {
        if (!chunk_) {
            chunk_ = source_->chunk(chunk_index_);
            if (!chunk_) {
                // The end of one loop: the next starts where this one ended.
                if (++loop_ >= loops_ || entries_this_loop_ == 0) {
                    ended_ = true;
                    break;
                }
                chunk_index_ = 0;
                entry_ = 0;
                entries_this_loop_ = 0;
                loop_start_ = at_;
                first_offset_.reset();
                previous_offset_.reset();
                cut_ = nanoseconds{0};
                continue;
            }
        }
        if (entry_ < chunk_->entries.size()) {
            auto const& entry = chunk_->entries[entry_];
            if (!placed_) {
                if (!first_offset_) first_offset_ = entry.offset_ns;
                if (previous_offset_ && max_gap_) {
                    auto const gap = nanoseconds{entry.offset_ns - *previous_offset_};
                    if (gap > *max_gap_) cut_ += gap - *max_gap_;
                }
                previous_offset_ = entry.offset_ns;
                at_ = loop_start_ + nanoseconds{entry.offset_ns - *first_offset_} - cut_;
                placed_ = true;
                ++entries_this_loop_;
            }
            return &entry;
        }
        chunk_.reset();
        ++chunk_index_;
        entry_ = 0;
    }
    return nullptr;
}

void session_cursor::advance() {
    if (!current()) return;
    ++entry_;
    placed_ = false;
}

}  // namespace harness::replayer
