#pragma once
// dialpad-replay's archive commands: list, show, export, import, verify and
// redact. Each writes its report to `out` and throws (archive_error,
// redact_error, std::runtime_error) with one line naming the file, and for
// JSON Lines the line, when the input is bad.

#include "core/redact/redactor.hpp"

#include <optional>
#include <ostream>
#include <string>

namespace harness::replayer {

// One line per session: id, name, source, start and end, frames, connections, gaps.
void list_sessions(std::string const& archive_path, std::ostream& out);

// A session's connections, gaps, and event counts per family and state.
void show_session(std::string const& archive_path, std::string const& session_ref, std::ostream& out);

// The session as JSON Lines, to `out`.
void export_session_jsonl(std::string const& archive_path, std::string const& session_ref, std::ostream& out);

// Imports a JSON Lines session into the archive (created when missing);
// returns the new session's id.
std::int64_t import_session_jsonl(std::string const& jsonl_path, std::string const& archive_path);

// Integrity, schema and counts; false (and the problems in `out`) when damaged.
bool verify_archive(std::string const& archive_path, std::ostream& out);

// Copies every session of `archive_path` into `out_path` with personal data
// pseudonymised (the recorder's --redact). JWT frames are re-signed with
// `secret`; without it an archive holding JWT frames is refused.
void redact_archive(std::string const& archive_path, std::string const& out_path,
                    std::optional<std::string> const& secret, redact::redact_rules rules);

}  // namespace harness::replayer
