#include "core/archive/archive_schema.hpp"

#include "core/archive/archive_error.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <array>
#include <string>

namespace harness::archive {
namespace {

// Version 1. Frames keep the received text exactly (TEXT bound with its
// length: SQLite stores the bytes as given). Offsets are nanoseconds since
// the session started on the monotonic clock; *_wall_ns are Unix nanoseconds.
constexpr char const* k_schema_v1 = R"sql(
CREATE TABLE sessions (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    source          TEXT NOT NULL CHECK (source IN ('live', 'sandbox', 'mock', 'import')),
    base_url        TEXT NOT NULL DEFAULT '',
    started_wall_ns INTEGER NOT NULL,
    ended_wall_ns   INTEGER,
    metadata        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX sessions_by_name ON sessions (name);

CREATE TABLE connections (
    id               INTEGER PRIMARY KEY,
    session_id       INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    url              TEXT NOT NULL DEFAULT '',
    scope            TEXT NOT NULL CHECK (scope IN ('websocket', 'subscription', 'unknown')),
    subscription     TEXT NOT NULL DEFAULT '',
    opened_offset_ns INTEGER NOT NULL,
    closed_offset_ns INTEGER,
    close_code       INTEGER,
    close_reason     TEXT NOT NULL DEFAULT '',
    abrupt           INTEGER NOT NULL DEFAULT 0,
    end_reason       TEXT CHECK (end_reason IN ('hour_cut', 'token_refresh', 'error', 'stop', 'server_close'))
);
CREATE INDEX connections_by_session ON connections (session_id);

CREATE TABLE frames (
    id            INTEGER PRIMARY KEY,
    session_id    INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    connection_id INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('event', 'control', 'open', 'close')),
    offset_ns     INTEGER NOT NULL,
    wall_ns       INTEGER NOT NULL,
    text          TEXT NOT NULL
);
CREATE INDEX frames_by_session ON frames (session_id, id);
CREATE INDEX frames_by_connection ON frames (connection_id);

CREATE TABLE event_index (
    frame_id            INTEGER PRIMARY KEY REFERENCES frames (id) ON DELETE CASCADE,
    family              TEXT NOT NULL,
    state               TEXT NOT NULL DEFAULT '',
    direction           TEXT NOT NULL DEFAULT '',
    call_id             INTEGER,
    master_call_id      INTEGER,
    entry_point_call_id INTEGER,
    operator_call_id    INTEGER,
    target_type         TEXT NOT NULL DEFAULT '',
    target_id           TEXT NOT NULL DEFAULT '',
    event_timestamp     INTEGER,
    is_jwt              INTEGER NOT NULL DEFAULT 0,
    signature           TEXT NOT NULL DEFAULT 'not_jwt',
    parsed              INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX event_index_by_call ON event_index (call_id);
CREATE INDEX event_index_by_master ON event_index (master_call_id);
CREATE INDEX event_index_by_entry_point ON event_index (entry_point_call_id);

CREATE TABLE gaps (
    id              INTEGER PRIMARY KEY,
    session_id      INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    start_offset_ns INTEGER NOT NULL,
    end_offset_ns   INTEGER,
    reason          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX gaps_by_session ON gaps (session_id);
)sql";

// migrations[i] takes the schema from version i to version i + 1.
constexpr std::array<char const*, k_schema_version> k_migrations = {k_schema_v1};

int pragma_int(SQLite::Database& db, char const* pragma) {
    SQLite::Statement query{db, std::string{"PRAGMA "} + pragma};
    return query.executeStep() ? query.getColumn(0).getInt() : 0;
}

}  // namespace

void prepare_schema(SQLite::Database& db, bool writable) {
    int application_id = 0;
    int version = 0;
    int objects = 0;
    try {
        application_id = pragma_int(db, "application_id");
        version = pragma_int(db, "user_version");
        SQLite::Statement count{db, "SELECT count(*) FROM sqlite_schema"};
        count.executeStep();
        objects = count.getColumn(0).getInt();
    } catch (SQLite::Exception const& e) {
        // "file is not a database", "database disk image is malformed", ...
        throw archive_error{std::string{"not a readable SQLite archive ("} + e.what() + ")"};
    }

    if (application_id != k_application_id && (objects > 0 || application_id != 0))
        throw archive_error{"not a dialpad-harness archive (a SQLite file of another kind)"};
    if (version > k_schema_version)
        throw archive_error{"archive schema version " + std::to_string(version) +
                            " is newer than this build reads (" + std::to_string(k_schema_version) +
                            "); use a newer dialpad-harness"};
    if (version == k_schema_version) return;
    if (!writable)
        throw archive_error{objects == 0 ? "the archive is empty (no schema yet)"
                                         : "the archive needs a schema upgrade; open it once for writing"};

    SQLite::Transaction transaction{db};
    for (int step = version; step < k_schema_version; ++step) db.exec(k_migrations[static_cast<std::size_t>(step)]);
    db.exec("PRAGMA application_id = " + std::to_string(k_application_id));
    db.exec("PRAGMA user_version = " + std::to_string(k_schema_version));
    transaction.commit();
}

}  // namespace harness::archive
