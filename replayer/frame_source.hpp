#pragma once
// The session as served: read from the archive a chunk at a time, each frame
// already encoded as a websocket frame, so the bytes are built once per
// event whatever the number of clients. Chunks are shared by every client at
// the same place in the session and freed once no client (and none of the
// few most recently loaded) holds them: memory follows how far apart the
// clients are, not the session's length. A loader thread reads a few chunks
// ahead of the furthest client, so reading the archive overlaps sending.

#include "core/archive/frame_reader.hpp"

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace harness::replayer {

enum class entry_kind {
    message,  // an event or other server text, as recorded
    close,    // the service closed the connection here (a close frame)
    cut,      // the connection was dropped here with no close frame
};

struct chunk_entry {
    std::int64_t offset_ns = 0;  // recorded receive offset
    std::uint32_t begin = 0;     // the encoded frame is wire[begin, end); empty for a cut
    std::uint32_t end = 0;
    std::uint32_t payload_begin = 0;
    entry_kind kind = entry_kind::message;
    bool is_event = false;  // an event (not other server text): what --rebase-time changes
};

struct frame_chunk {
    std::size_t index = 0;
    std::string wire;                // encoded websocket frames back to back
    std::vector<chunk_entry> entries;
    bool last = false;               // nothing follows this chunk

    std::string_view payload(std::size_t i) const {
        auto const& e = entries[i];
        return std::string_view{wire}.substr(e.payload_begin, e.end - e.payload_begin);
    }
    // The digest's SHA-256 of entries [first, first + count), each of its
    // payload. Made on first use, by the thread that serves the chunk, so the
    // loader thread (the bottleneck for one fast client) does not hash.
    std::string_view hashes_of(std::size_t first, std::size_t count) const;

private:
    mutable std::string hashes_;  // 32 bytes per entry once made
};

struct source_options {
    std::string archive_path;
    archive::session_id session = 0;
    archive::frame_filter filter{};  // kinds are set by the source
    // Reproduce the closes and drops the service made (hour cuts, server
    // closes, errors) where they happened; closes the recorder made are not
    // the service's and are never replayed.
    bool replay_closes = false;
    // Applied as frames are loaded (the same for every client): times shifted
    // by this many ms, and/or each event re-signed with the secret.
    std::optional<std::int64_t> rebase_ms{};
    std::optional<std::string> sign_secret{};
};

class frame_source {
public:
    explicit frame_source(source_options options);
    ~frame_source();
    frame_source(frame_source const&) = delete;
    frame_source& operator=(frame_source const&) = delete;

    // Chunk `index` (0 first), or null past the end; waits for the loader
    // when it is not read yet. Chunks are found in order: `index` may be at
    // most one past the highest handed out so far. Throws what loading
    // threw (std::invalid_argument when a frame cannot be transformed,
    // archive errors). Call from one thread.
    std::shared_ptr<frame_chunk const> chunk(std::size_t index);

    std::size_t chunks_loaded() const;
    // Starts reading the first chunks now, before any client asks.
    void read_ahead();

private:
    struct chunk_start {
        archive::frame_id after_id = 0;  // the chunk's first frame follows this one
        std::int64_t after_offset = -1;  // closes after this offset belong to it or later
    };
    struct close_point {
        std::int64_t offset_ns = 0;
        std::optional<int> code;  // absent: a drop with no close frame
        std::string reason;
    };
    std::shared_ptr<frame_chunk const> load(std::size_t index);  // on the loader thread
    void run_loader();
    void want_up_to(std::size_t index);  // starts the loader if need be; under mutex_
    void add_close(frame_chunk& chunk, close_point const& close) const;
    std::string transformed(std::string text, archive::frame_kind kind) const;

    source_options options_;
    // The loader thread's alone.
    archive::frame_reader reader_;
    std::optional<archive::frame_record> peeked_;  // read past the end of the previous chunk
    std::optional<std::size_t> reader_at_;         // the chunk the reader is positioned at
    std::vector<chunk_start> starts_{chunk_start{}};
    std::vector<close_point> closes_;
    // The caller's alone.
    std::map<std::size_t, std::weak_ptr<frame_chunk const>> live_;
    std::vector<std::shared_ptr<frame_chunk const>> recent_;  // kept a little longer for trailing clients
    // Shared, under mutex_.
    mutable std::mutex mutex_;
    std::condition_variable work_;    // the loader waits here
    std::condition_variable loaded_;  // chunk() waits here
    std::map<std::size_t, std::shared_ptr<frame_chunk const>> ready_;  // loaded, not yet handed out
    std::set<std::size_t> reloads_;   // chunks wanted again after they were freed
    std::size_t next_ = 0;            // the next chunk to read ahead
    std::optional<std::size_t> loading_;  // the chunk the loader is reading now
    std::size_t wanted_up_to_ = 0;    // read ahead up to this index
    std::optional<std::size_t> end_index_;  // index of the last chunk, once known
    std::exception_ptr failure_;
    std::size_t loads_ = 0;
    bool stopping_ = false;
    std::thread loader_;
};

// The event_timestamp (ms) of the first event the filter selects, if any:
// what a shared --rebase-time offset is computed from.
std::optional<std::int64_t> first_event_timestamp(std::string const& path, archive::session_id session,
                                                  archive::frame_filter filter);

}  // namespace harness::replayer
