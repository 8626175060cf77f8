// Websocket framing for frames encoded ahead of time: server frames as RFC
// 6455 lays them out, and client frames parsed from a byte stream, cut
// anywhere, with every protocol error refused.
#include "core/web/ws_frame.hpp"
#include "replayer/lag_histogram.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace harness;
using web::ws_opcode;

namespace {

// A masked client frame, as a browser would send it.
std::string client_bytes(ws_opcode opcode, std::string const& payload, bool fin = true) {
    std::string out;
    out.push_back(static_cast<char>((fin ? 0x80 : 0) | static_cast<int>(opcode)));
    if (payload.size() < 126) {
        out.push_back(static_cast<char>(0x80 | payload.size()));
    } else if (payload.size() <= 0xFFFF) {
        out.push_back(static_cast<char>(0x80 | 126));
        out.push_back(static_cast<char>(payload.size() >> 8));
        out.push_back(static_cast<char>(payload.size() & 0xFF));
    } else {
        out.push_back(static_cast<char>(0x80 | 127));
        for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((payload.size() >> shift) & 0xFF));
    }
    char const mask[4] = {0x12, 0x34, 0x56, 0x78};
    out.append(mask, 4);
    for (std::size_t i = 0; i < payload.size(); ++i) out.push_back(static_cast<char>(payload[i] ^ mask[i & 3]));
    return out;
}

}  // namespace

TEST_CASE("ws_frame: server frames use the shortest length form and no mask") {
    auto const small = web::server_frame(ws_opcode::text, "hi");
    CHECK(small == std::string{"\x81\x02hi", 4});
    auto const medium = web::server_frame(ws_opcode::text, std::string(300, 'x'));
    REQUIRE(medium.size() == 4 + 300);
    CHECK(static_cast<unsigned char>(medium[1]) == 126);
    CHECK(static_cast<unsigned char>(medium[2]) == 1);
    CHECK(static_cast<unsigned char>(medium[3]) == 44);
    auto const large = web::server_frame(ws_opcode::binary, std::string(70000, 'y'));
    REQUIRE(large.size() == 10 + 70000);
    CHECK(static_cast<unsigned char>(large[0]) == 0x82);
    CHECK(static_cast<unsigned char>(large[1]) == 127);
    CHECK(static_cast<unsigned char>(large[7]) == 0x01);  // 70000 = 0x011170
    CHECK(static_cast<unsigned char>(large[8]) == 0x11);
    CHECK(static_cast<unsigned char>(large[9]) == 0x70);
    auto const close = web::close_payload(4001, std::string(200, 'r'));
    CHECK(close.size() == 125);  // a control frame's limit
    CHECK(static_cast<unsigned char>(close[0]) == 0x0F);
    CHECK(static_cast<unsigned char>(close[1]) == 0xA1);
}

TEST_CASE("ws_frame: client frames parse whole, and wait for more when cut anywhere") {
    for (std::size_t size : {0u, 5u, 125u, 126u, 65535u, 65536u}) {
        std::string payload(size, 'p');
        for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<char>('a' + i % 26);
        auto const bytes = client_bytes(ws_opcode::text, payload) + client_bytes(ws_opcode::ping, "x");
        auto const first = web::parse_client_frame(bytes, 1 << 20);
        REQUIRE(first.outcome == web::client_frame_parse::status::frame);
        CHECK(first.frame.payload == payload);
        CHECK(first.frame.opcode == ws_opcode::text);
        auto const second = web::parse_client_frame(std::string_view{bytes}.substr(first.consumed), 1 << 20);
        REQUIRE(second.outcome == web::client_frame_parse::status::frame);
        CHECK(second.frame.opcode == ws_opcode::ping);
        CHECK(second.frame.payload == "x");
        for (std::size_t cut : {std::size_t{0}, std::size_t{1}, std::size_t{3}, first.consumed - 1})
            CHECK(web::parse_client_frame(std::string_view{bytes}.substr(0, cut), 1 << 20).outcome ==
                  web::client_frame_parse::status::incomplete);
    }
}

TEST_CASE("ws_frame: protocol errors are refused with the close code to send") {
    auto const code_of = [](std::string const& bytes, std::size_t limit = 1024) {
        auto const parsed = web::parse_client_frame(bytes, limit);
        return parsed.outcome == web::client_frame_parse::status::error ? parsed.close_code : 0;
    };
    auto unmasked = client_bytes(ws_opcode::text, "abc");
    unmasked[1] = static_cast<char>(unmasked[1] & 0x7F);
    CHECK(code_of(unmasked) == 1002);
    auto reserved = client_bytes(ws_opcode::text, "abc");
    reserved[0] = static_cast<char>(reserved[0] | 0x40);
    CHECK(code_of(reserved) == 1002);
    auto unknown = client_bytes(ws_opcode::text, "abc");
    unknown[0] = static_cast<char>(0x83);
    CHECK(code_of(unknown) == 1002);
    CHECK(code_of(client_bytes(ws_opcode::ping, std::string(126, 'p'))) == 1002);
    CHECK(code_of(client_bytes(ws_opcode::ping, "p", false)) == 1002);
    // Too big is known from the header alone: nothing is buffered for it.
    CHECK(code_of(client_bytes(ws_opcode::binary, std::string(2000, 'b')).substr(0, 8)) == 1009);
}

TEST_CASE("lag_histogram: percentiles within a bucket's width, the maximum exact") {
    replayer::lag_histogram lags;
    CHECK(lags.percentile(0.99).count() == 0);
    for (int i = 1; i <= 1000; ++i) lags.add(std::chrono::microseconds{i});
    lags.add(std::chrono::milliseconds{250}, 10);
    CHECK(lags.count() == 1010);
    CHECK(lags.max() == std::chrono::milliseconds{250});
    auto const p50 = double(lags.percentile(0.5).count());
    CHECK(p50 >= 505e3 * 0.95);
    CHECK(p50 <= 505e3 * 1.07);
    CHECK(lags.percentile(0.995) == std::chrono::milliseconds{250});
    CHECK(lags.percentile(1.0) == std::chrono::milliseconds{250});
}
