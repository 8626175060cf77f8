#pragma once
// `serve --filter` expressions: which events of the session are served.
// Each expression is KEY=VALUE; several narrow the selection together.
//   family=call,sms          event families (call, sms, contact, agent_status, changelog)
//   state=hangup,missed      event states (the `state` field)
//   call=ID                  that call leg, and the legs that name it as their
//                            master, entry-point or operator call
//   call-graph=ID            every leg linked to it, however indirectly
//   from=90s  to=10m         a window of the session, from its start
// Frames other than events (server text) are kept unless a window excludes them.

#include "core/archive/frame_reader.hpp"

#include <string>
#include <vector>

namespace harness::replayer {

// Throws std::invalid_argument with a one-line message naming the expression.
archive::frame_filter parse_filter_expressions(std::vector<std::string> const& expressions);

}  // namespace harness::replayer
