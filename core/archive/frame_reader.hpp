#pragma once
// Streams one session's frames in arrival order, a page at a time, so a
// session of any size is read in bounded memory. Each page is its own read
// transaction: a reader sees frames a recorder commits while it reads, and
// never holds up the recorder's checkpoints.

#include "core/archive/archive.hpp"

#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace harness::archive {

// Which frames to return. Empty sets and absent bounds mean "any". The event
// fields (families, states, call) restrict event frames only; open, close and
// control frames pass them and are selected by `kinds` alone.
struct frame_filter {
    std::set<frame_kind> kinds{};
    std::set<model::event_family> families{};
    std::set<std::string> states{};
    // One call leg, or with `whole_call_graph` every leg linked to it through
    // master_call_id, entry_point_call_id or operator_call_id.
    std::optional<std::int64_t> call_id{};
    bool whole_call_graph = false;
    std::optional<std::int64_t> from_offset_ns{};  // inclusive
    std::optional<std::int64_t> to_offset_ns{};    // exclusive
};

class frame_reader {
public:
    // Opens its own read-only connection to `path`. Without `with_index`
    // frames come without their decoded index (faster, for serving bytes).
    frame_reader(std::string const& path, session_id session, frame_filter filter = {},
                 std::size_t page_size = 512, bool with_index = true);
    ~frame_reader();

    // The next matching frame, or nullopt at the end of what is committed now
    // (calling again later picks up frames committed since).
    std::optional<frame_record> next();

    // Goes on from just after frame `id` (0: from the start), so one reader
    // can serve any position of the session.
    void seek_after(frame_id id) {
        last_id_ = id;
        page_.clear();
    }

    // The call ids the filter's call graph resolved to (empty without one).
    std::vector<std::int64_t> const& call_graph() const { return call_graph_; }

private:
    void resolve_call_graph();
    void load_page();
    void load_lean_page(std::vector<std::pair<char const*, std::variant<std::int64_t, std::string>>> const& values);

    archive archive_;
    session_id session_;
    frame_filter filter_;
    std::size_t page_size_;
    bool with_index_;
    std::string sql_;
    std::string call_ids_json_;
    std::vector<std::int64_t> call_graph_;
    frame_id last_id_ = 0;
    std::deque<frame_record> page_;
};

}  // namespace harness::archive
