#pragma once
// What a replay may change in a frame on its way out, leaving every other
// byte as recorded: event times shifted so the session reads "now"
// (--rebase-time), and the event signed with the consumer's secret
// (--sign). Shared by dialpad-replay serve and the mock's replay.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace harness::replay {

// Adds `offset_ms` to every event time in `json`: event_timestamp, date,
// created_date and date_* fields holding whole milliseconds, at any depth.
// The rest of the text is untouched.
std::string rebase_times(std::string_view json, std::int64_t offset_ms);

// The event's event_timestamp (milliseconds), if it has one.
std::optional<std::int64_t> event_timestamp(std::string_view json);

// The event JSON inside a frame: the frame itself, or a JWT's payload.
std::optional<std::string> event_json_of(std::string_view frame);

// The frame as served: times shifted when `offset_ms` is set, and signed with
// `secret` when given. A JWT frame without a secret cannot be changed:
// throws std::invalid_argument.
std::string transform_frame(std::string const& frame, std::optional<std::int64_t> offset_ms,
                            std::optional<std::string> const& secret);

}  // namespace harness::replay
