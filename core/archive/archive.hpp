#pragma once
// One archive file: many recorded sessions with their connections, frames,
// event index and gaps, in SQLite (WAL, foreign keys on). SQLiteCpp stays
// behind this header.
//
// An archive object is one SQLite connection: use it from one thread at a
// time. Several objects (threads or processes) may open the same file; WAL
// lets readers run while one writer commits.

#include "core/archive/archive_error.hpp"
#include "core/archive/archive_types.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace harness::archive {

enum class open_mode { read_only, read_write };

class archive {
public:
    // Opens `path`; read_write creates the file when missing and brings an
    // older schema forward. Throws archive_error for a file that is not an
    // archive, is damaged, or has a newer schema.
    archive(std::string const& path, open_mode mode);
    archive(archive&&) noexcept;
    archive& operator=(archive&&) noexcept;
    ~archive();

    std::string const& path() const;

    // --- sessions ---
    // Stores a new session (info.id is ignored) and returns its id.
    session_id create_session(session_info const& info);
    void end_session(session_id id, std::int64_t ended_wall_ns);
    std::vector<session_info> sessions() const;
    std::optional<session_info> session(session_id id) const;
    // `ref` is a numeric id or a name (the latest session of that name); empty
    // means the only or latest session. Throws archive_error when none matches.
    session_info resolve_session(std::string_view ref) const;

    // --- connections and gaps ---
    // Stores a connection (info.id is ignored) and returns its id.
    connection_id add_connection(connection_info const& info);
    // Rewrites the closing fields of connection `info.id`.
    void close_connection(connection_info const& info);
    std::vector<connection_info> connections(session_id id) const;
    std::int64_t add_gap(session_id session, gap_info const& gap);
    void end_gap(std::int64_t gap_row, std::int64_t end_offset_ns);
    std::vector<gap_info> gaps(session_id id) const;

    // --- frames ---
    // Stores one frame (and its index, when it has one) of `session`.
    frame_id add_frame(session_id session, frame_record const& frame);
    // The session's frames, or only those of one kind.
    std::int64_t frame_count(session_id id, std::optional<frame_kind> kind = std::nullopt) const;

    // Groups writes: everything between begin() and commit() lands at once
    // or not at all. Destroying an uncommitted transaction rolls it back.
    class transaction {
    public:
        explicit transaction(archive& a);
        transaction(transaction const&) = delete;
        transaction& operator=(transaction const&) = delete;
        ~transaction();
        void commit();

    private:
        archive* archive_;
        bool done_ = false;
    };

    // PRAGMA integrity_check: "ok" or SQLite's list of problems.
    std::string integrity_check() const;

private:
    friend class frame_reader;
    friend class wal_checkpointer;
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace harness::archive
