#pragma once
// Sessions as JSON Lines, the text form of the archive used for fixtures,
// review and moving sessions between archives.
//
// Line 1 describes the session, its connections and gaps:
//   {"dialpad_harness_session":1,"session":{...},"connections":[...],"gaps":[...]}
// then one line per frame, in arrival order:
//   {"conn":1,"kind":"event","offset_ns":120000000,"wall_ns":...,"text":"<the exact frame>"}
// `text` holds the frame bytes as a JSON string (`text_base64` if they are
// not UTF-8); a JWT frame whose signature was checked carries `signature`.
// Export -> import -> export is byte-identical.

#include "core/archive/archive.hpp"

#include <iosfwd>
#include <string>

namespace harness::archive {

inline constexpr int k_jsonl_format_version = 1;

// Writes session `id` of `source` to `out`.
void export_session(archive const& source, session_id id, std::ostream& out);

// Reads one session from `in` into `target` and returns its new id. All or
// nothing: on any malformed line it throws archive_error naming
// `input_name:LINE` and the archive is left as it was.
session_id import_session(archive& target, std::istream& in, std::string const& input_name);

}  // namespace harness::archive
