#pragma once
// The inside of harness::archive, shared by archive.cpp and frame_reader.cpp
// (and nobody else): the SQLite connection and its cached statements.

#include "core/archive/archive.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <optional>

namespace harness::archive {

struct archive::impl {
    impl(std::string const& path, open_mode mode);

    // A prepared statement built on first use and reused after.
    SQLite::Statement& statement(std::optional<SQLite::Statement>& slot, char const* sql);

    std::string path;
    SQLite::Database db;
    std::optional<SQLite::Statement> insert_frame, insert_index, insert_connection, insert_gap;
};

// Reads one `frames` row joined with its `event_index` row, as selected by
// k_frame_columns. (frame_reader reads k_frame_only_columns itself.)
frame_record read_frame_row(SQLite::Statement& row);
inline constexpr char const* k_frame_only_columns = "f.id, f.connection_id, f.kind, f.offset_ns, f.wall_ns, f.text";
inline constexpr char const* k_frame_columns =
    "f.id, f.connection_id, f.kind, f.offset_ns, f.wall_ns, f.text, "
    "i.frame_id, i.family, i.state, i.direction, i.call_id, i.master_call_id, i.entry_point_call_id, "
    "i.operator_call_id, i.target_type, i.target_id, i.event_timestamp, i.is_jwt, i.signature, i.parsed";

}  // namespace harness::archive
