#pragma once
// Frames and sessions that archive tests share: texts chosen to break any
// storage that is not byte-exact.

#include "core/archive/archive.hpp"

#include <string>
#include <vector>

namespace harness::test {

// Event texts with unicode, escapes, 16-digit ids, long fractional numbers,
// odd whitespace and key order, plus one JWT.
std::vector<std::string> tricky_event_texts();

// A call event for leg `call_id` in `state`, optionally naming related legs.
std::string call_event(std::int64_t call_id, std::string const& state, std::int64_t entry_point_call_id = 0,
                       std::int64_t operator_call_id = 0);

// A session row with a recognisable name and metadata.
archive::session_info sample_session(std::string name = "sample");

// A websocket-wide connection opened at `opened_offset_ns`.
archive::connection_info sample_connection(archive::session_id session, std::int64_t opened_offset_ns = 0);

}  // namespace harness::test
