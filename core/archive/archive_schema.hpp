#pragma once
// The archive's SQLite schema, its version (PRAGMA user_version) and the
// forward migrations between versions. Only archive.cpp calls this.

namespace SQLite {
class Database;
}

namespace harness::archive {

// Marks a file as ours (PRAGMA application_id): "DPHR".
inline constexpr int k_application_id = 0x44504852;
// The schema version this build writes and reads.
inline constexpr int k_schema_version = 1;

// Brings a freshly opened database to k_schema_version: creates the schema
// in an empty file, migrates an older one forward, and throws archive_error
// with a clear message for a newer version or a file that is not an archive.
void prepare_schema(SQLite::Database& db, bool writable);

}  // namespace harness::archive
