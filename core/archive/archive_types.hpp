#pragma once
// The archive's data model as plain values: sessions hold connections, which
// hold frames; an event frame carries a decoded index beside its exact bytes;
// gaps mark spans with no open connection. See archive_schema.cpp for the
// tables these map to.

#include "core/model/event_index.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace harness::archive {

// Where a session's frames came from.
enum class session_source { live, sandbox, mock, import };

// What a stored frame is.
enum class frame_kind {
    event,    // one Dialpad event (plain JSON or a JWT)
    control,  // other server text, e.g. the legacy service's key prompt
    open,     // the connection opened (text: the redacted URL)
    close,    // the connection closed (text: code and reason, or "abrupt")
};

// Which token a connection used: websocket-wide (`endpoint:<id>:*`), one
// subscription (`endpoint:<id>:<kind>:<sub>`), or not known (e.g. --url).
enum class token_scope { websocket, subscription, unknown };

// Why a connection ended.
enum class end_reason { hour_cut, token_refresh, error, stop, server_close };

std::string_view to_string(session_source v);
std::string_view to_string(frame_kind v);
std::string_view to_string(token_scope v);
std::string_view to_string(end_reason v);
std::optional<session_source> parse_session_source(std::string_view text);
std::optional<frame_kind> parse_frame_kind(std::string_view text);
std::optional<token_scope> parse_token_scope(std::string_view text);
std::optional<end_reason> parse_end_reason(std::string_view text);

using session_id = std::int64_t;
using connection_id = std::int64_t;
using frame_id = std::int64_t;

struct session_info {
    session_id id = 0;
    std::string name;
    session_source source = session_source::live;
    std::string base_url;  // with any token or key removed
    std::int64_t started_wall_ns = 0;  // Unix epoch, nanoseconds
    std::optional<std::int64_t> ended_wall_ns;
    std::string metadata_json = "{}";  // free-form JSON object
};

struct connection_info {
    connection_id id = 0;
    session_id session = 0;
    std::string url;  // redacted: never holds the token
    token_scope scope = token_scope::unknown;
    std::string subscription;  // for a subscription token: "call:<id>" etc.
    std::int64_t opened_offset_ns = 0;  // since the session started
    std::optional<std::int64_t> closed_offset_ns;
    std::optional<int> close_code;  // absent when abrupt or still open
    std::string close_reason;
    bool abrupt = false;  // ended without a close frame
    std::optional<end_reason> ended_by;
};

struct frame_record {
    frame_id id = 0;  // arrival order within the archive
    connection_id connection = 0;
    frame_kind kind = frame_kind::event;
    std::int64_t offset_ns = 0;  // receive time since the session started (monotonic)
    std::int64_t wall_ns = 0;    // receive wall time, Unix epoch
    std::string text;            // exactly the bytes received
    std::optional<model::event_index> index;  // event frames only
};

struct gap_info {
    std::int64_t start_offset_ns = 0;
    std::optional<std::int64_t> end_offset_ns;  // absent: the session ended inside it
    std::string reason;
};

}  // namespace harness::archive
