#pragma once
// Websocket framing (RFC 6455 §5) for servers that encode their frames ahead
// of time: a frame built once can be sent to thousands of connections, and
// many frames can go out in one socket write. Pure byte work, no I/O, so it
// is tested (and fuzzed) on its own; ws_connection does the I/O.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace harness::web {

enum class ws_opcode : std::uint8_t { continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA };

// Appends one unmasked, final server frame carrying `payload`.
void append_server_frame(std::string& out, ws_opcode opcode, std::string_view payload);
std::string server_frame(ws_opcode opcode, std::string_view payload);
// The payload of a close frame: the code in network order, then the reason
// (cut to fit the 125-byte control frame limit).
std::string close_payload(int code, std::string_view reason);

struct client_frame {
    ws_opcode opcode = ws_opcode::text;
    bool fin = true;
    std::string payload;  // unmasked
};

// The outcome of parsing the front of a byte stream from a client.
struct client_frame_parse {
    enum class status { incomplete, frame, error } outcome = status::incomplete;
    client_frame frame{};
    std::size_t consumed = 0;  // bytes the frame took (outcome == frame)
    int close_code = 0;        // outcome == error: 1002 protocol error, 1009 too big
    std::string message{};     // outcome == error: why, one line
};

// Parses one client frame from the start of `bytes`. Client frames must be
// masked; reserved bits (no extensions are negotiated) and unknown opcodes
// are protocol errors; a payload over `max_payload` is an error 1009.
client_frame_parse parse_client_frame(std::string_view bytes, std::size_t max_payload);

}  // namespace harness::web
