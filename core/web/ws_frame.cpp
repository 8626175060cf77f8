#include "core/web/ws_frame.hpp"

namespace harness::web {

void append_server_frame(std::string& out, ws_opcode opcode, std::string_view payload) {
    auto const size = payload.size();
    out.push_back(static_cast<char>(0x80 | static_cast<std::uint8_t>(opcode)));  // FIN
    if (size < 126) {
        out.push_back(static_cast<char>(size));
    } else if (size <= 0xFFFF) {
        out.push_back(static_cast<char>(126));
        out.push_back(static_cast<char>(size >> 8));
        out.push_back(static_cast<char>(size & 0xFF));
    } else {
        out.push_back(static_cast<char>(127));
        for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((std::uint64_t{size} >> shift) & 0xFF));
    }
    out.append(payload);
}

std::string server_frame(ws_opcode opcode, std::string_view payload) {
    std::string out;
    out.reserve(payload.size() + 10);
    append_server_frame(out, opcode, payload);
    return out;
}

std::string close_payload(int code, std::string_view reason) {
    std::string out;
    out.push_back(static_cast<char>((code >> 8) & 0xFF));
    out.push_back(static_cast<char>(code & 0xFF));
    out.append(reason.substr(0, 123));
    return out;
}

namespace {

client_frame_parse failure(int code, std::string message) {
    client_frame_parse result;
    result.outcome = client_frame_parse::status::error;
    result.close_code = code;
    result.message = std::move(message);
    return result;
}

bool is_known(std::uint8_t opcode) {
    return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xA);
}

}  // namespace

client_frame_parse parse_client_frame(std::string_view bytes, std::size_t max_payload) {
    client_frame_parse result;
    if (bytes.size() < 2) return result;
    auto const b0 = static_cast<std::uint8_t>(bytes[0]);
    auto const b1 = static_cast<std::uint8_t>(bytes[1]);
    bool const fin = (b0 & 0x80) != 0;
    std::uint8_t const opcode = b0 & 0x0F;
    if ((b0 & 0x70) != 0) return failure(1002, "reserved bits set with no extension negotiated");
    if (!is_known(opcode)) return failure(1002, "unknown opcode " + std::to_string(opcode));
    if ((b1 & 0x80) == 0) return failure(1002, "client frames must be masked");
    bool const control = opcode >= 0x8;
    std::uint64_t length = b1 & 0x7F;
    std::size_t header = 2;
    if (length == 126) {
        if (bytes.size() < 4) return result;
        length = (std::uint64_t{static_cast<std::uint8_t>(bytes[2])} << 8) | static_cast<std::uint8_t>(bytes[3]);
        header = 4;
    } else if (length == 127) {
        if (bytes.size() < 10) return result;
        length = 0;
        for (std::size_t i = 2; i < 10; ++i) length = (length << 8) | static_cast<std::uint8_t>(bytes[i]);
        header = 10;
    }
    if (control && (length > 125 || !fin)) return failure(1002, "a control frame must be final and at most 125 bytes");
    if (length > max_payload)
        return failure(1009, "frame of " + std::to_string(length) + " bytes exceeds the limit of " + std::to_string(max_payload));
    if (bytes.size() < header + 4 + length) return result;
    char const* mask = bytes.data() + header;
    std::string_view const masked = bytes.substr(header + 4, static_cast<std::size_t>(length));
    result.frame.payload.resize(masked.size());
    for (std::size_t i = 0; i < masked.size(); ++i) result.frame.payload[i] = static_cast<char>(masked[i] ^ mask[i & 3]);
    result.frame.opcode = static_cast<ws_opcode>(opcode);
    result.frame.fin = fin;
    result.consumed = header + 4 + static_cast<std::size_t>(length);
    result.outcome = client_frame_parse::status::frame;
    return result;
}

}  // namespace harness::web
