#pragma once
// Takes frames from the network thread and commits them on its own thread,
// in batches, so the network thread never waits for the disk.
//
// Durability: a frame is committed at most `durability_window` after it was
// handed over (plus the commit itself); a process killed with SIGKILL loses
// at most that window. A commit only appends to SQLite's write-ahead log:
// the checkpoints that copy the log into the database and sync the disk run
// on a thread of their own (wal_checkpointer), never inside a commit. Window 0 commits as soon as the thread gets to it,
// never waiting for more frames. close() (and the destructor) commit
// everything handed over before returning.
//
// Connections and gaps are named by handles the writer gives out at once;
// their rows are written in order with the frames, so the calling thread
// never waits for a row id. write_frame computes an event frame's index on
// the calling thread (a SIMD JSON parse, about a microsecond per KB, no I/O
// or waiting), which leaves the writer thread's time to SQLite alone.

#include "core/archive/archive_types.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace harness::archive {

struct frame_writer_options {
    std::chrono::milliseconds durability_window{100};
    // Most operations in one transaction; a larger backlog commits in
    // several. Small transactions keep each commit's WAL growth small.
    std::size_t max_batch = 1000;
};

// What open_connection needs beyond the stored row.
struct connection_spec {
    connection_info info;  // id and session are filled in by the writer
    // Family of the subscription behind a subscription token, for frames
    // whose fields do not tell.
    std::optional<model::event_family> family_hint;
    // The websocket's secret, to verify JWT frames. Kept in memory only.
    std::optional<std::string> secret;
};

struct connection_close {
    std::int64_t closed_offset_ns = 0;
    std::optional<int> close_code;
    std::string close_reason;
    bool abrupt = false;
    end_reason ended_by = end_reason::stop;
};

struct frame_writer_stats {
    std::uint64_t frames_submitted = 0;
    std::uint64_t frames_committed = 0;
    std::uint64_t bytes_committed = 0;
    std::uint64_t commits = 0;
};

class frame_writer {
public:
    using connection_handle = std::uint64_t;
    using gap_handle = std::uint64_t;

    // Opens `path` for writing (its own connection, used by its own thread)
    // to append to session `session`. Throws archive_error at once if the
    // file is not an archive or the session does not exist.
    frame_writer(std::string path, session_id session, frame_writer_options options = {});
    frame_writer(frame_writer const&) = delete;
    frame_writer& operator=(frame_writer const&) = delete;
    ~frame_writer();

    // These hand work over and return at once; safe from any thread.
    connection_handle open_connection(connection_spec spec);
    void close_connection(connection_handle connection, connection_close close);
    // Returns the event frame's family as indexed (unknown for other kinds).
    model::event_family write_frame(connection_handle connection, frame_kind kind, std::int64_t offset_ns,
                                    std::int64_t wall_ns, std::string text);
    gap_handle begin_gap(std::int64_t start_offset_ns, std::string reason);
    void end_gap(gap_handle gap, std::int64_t end_offset_ns);
    void end_session(std::int64_t ended_wall_ns);

    // Blocks until everything handed over so far is committed. Throws
    // archive_error if the writer failed.
    void flush();
    // Flushes and stops the thread. Idempotent; throws like flush().
    void close();

    frame_writer_stats stats() const;
    // Bytes of frames handed over and not committed yet; a caller that can
    // slow its source (stop reading a socket) keeps memory bounded with it.
    std::uint64_t backlog_bytes() const;
    // The failure that stopped the writer, if any (it then drops new work).
    std::optional<std::string> error() const;
    // Runs on the writer thread after each commit. Set before writing.
    void on_commit(std::function<void(frame_writer_stats const&)> callback);

private:
    struct state;
    std::unique_ptr<state> state_;
};

}  // namespace harness::archive
