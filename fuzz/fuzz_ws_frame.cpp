// The event websocket's inputs: the token in `/events/<token>` and the
// frames a client sends.
//
// Input: the first line is the request target, checked by the mock's
// upgrade handler (mockserver/feed_hub, token_service, core/jwt) as on a
// connection, with bad tokens refused (--bad-token reject). A target of
// `/events/mint:ws` or `/events/mint:sub` uses a token the mock minted for
// its one websocket or subscription, `/events/mint:<subject>` one minted
// for that subject: those must verify, and give back their subject. The
// rest is the client's bytes, read frame by frame with parse_client_frame
// (core/web/ws_frame) as ws_connection reads them; each frame parsed must
// parse the same when masked again, each error must be a close the server
// can send.

#include "core/clock/virtual_clock.hpp"
#include "core/web/http_message.hpp"
#include "core/web/ws_frame.hpp"
#include "fuzz/fuzz_support.hpp"
#include "mockserver/feed_hub.hpp"

#include <boost/asio/io_context.hpp>

using namespace harness;

namespace {

// ws_connection's limit on a client frame in encoded mode.
constexpr std::size_t k_client_frame_max = 1u << 20;

// The mock's side, made once: nothing in it changes while upgrades are
// only decided (the sessions are not run).
struct feed_fixture {
    net::io_context ioc{1};
    virtual_clock time{0.0, wall_time{std::chrono::seconds{1767225600}}};
    mock::resource_store store;
    mock::token_service tokens{time};
    mock::api_keys keys{{{"dev-key", "default"}}};
    mock::feed_hub feed{ioc.get_executor(), store, tokens, keys, time,
                        mock::feed_options{.bad_token = mock::bad_token_mode::reject}};
    std::int64_t websocket_id = 0;
    std::int64_t subscription_id = 0;

    feed_fixture() {
        fuzz::log_to_nowhere();
        mock::endpoint websocket;
        websocket.id = websocket_id = store.next_id();
        websocket.company = "default";
        store.add_endpoint(websocket);
        mock::subscription calls;
        calls.id = subscription_id = store.next_id();
        calls.company = "default";
        calls.endpoint_id = websocket_id;
        store.add_subscription(calls);
    }
};

feed_fixture& fixture() {
    static feed_fixture instance;
    return instance;
}

bool printable(std::string_view text) {
    for (unsigned char c : text)
        if (c < 0x20 || c > 0x7e) return false;
    return true;
}

void check_upgrade(std::string target) {
    auto& f = fixture();
    std::optional<std::string> minted_for;
    if (auto const what = std::string_view{target}; what.starts_with("/events/mint:")) {
        auto const rest = what.substr(13);
        if (rest == "ws")
            minted_for = mock::websocket_scope(f.websocket_id);
        else if (rest == "sub")
            minted_for = mock::subscription_scope(f.websocket_id, "call", f.subscription_id);
        else if (printable(rest))  // the mock mints only for subjects it made
            minted_for = std::string{rest};
        if (minted_for) {
            auto const token = f.tokens.mint(*minted_for);
            auto const claims = f.tokens.verify(token);
            if (!claims || claims->subject != *minted_for) fuzz::finding("a minted token does not verify");
            target = "/events/" + token;
        }
    }
    web::request request;
    request.method = "GET";
    request.target = target;
    request.path = web::percent_decode(std::string_view{target}.substr(0, target.find('?')));
    request.remote_address = "127.0.0.1";
    request.remote_is_loopback = true;
    auto const decision = f.feed.upgrade(request);
    bool const accepted = !decision.refusal;
    if (accepted && !decision.session) fuzz::finding("an accepted upgrade has no session");
    if (!accepted && decision.refusal->status != 401) fuzz::finding("a bad token was not refused with 401");
    bool const own_scope = minted_for && (*minted_for == mock::websocket_scope(f.websocket_id) ||
                                          *minted_for == mock::subscription_scope(f.websocket_id, "call",
                                                                                  f.subscription_id));
    if (own_scope && !accepted) fuzz::finding("a token for the mock's own websocket was refused");
    if (!minted_for && accepted) fuzz::finding("a token the mock did not mint was accepted");
}

std::string masked_frame(web::client_frame const& frame) {
    std::string out;
    out.push_back(static_cast<char>((frame.fin ? 0x80 : 0) | static_cast<std::uint8_t>(frame.opcode)));
    auto const size = frame.payload.size();
    if (size < 126) {
        out.push_back(static_cast<char>(0x80 | size));
    } else if (size <= 0xFFFF) {
        out.push_back(static_cast<char>(0x80 | 126));
        out.push_back(static_cast<char>(size >> 8));
        out.push_back(static_cast<char>(size & 0xFF));
    } else {
        out.push_back(static_cast<char>(0x80 | 127));
        for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((std::uint64_t{size} >> shift) & 0xFF));
    }
    char const mask[4] = {0x12, 0x34, 0x56, 0x78};
    out.append(mask, 4);
    for (std::size_t i = 0; i < size; ++i) out.push_back(static_cast<char>(frame.payload[i] ^ mask[i & 3]));
    return out;
}

void check_frames(std::string_view bytes) {
    while (!bytes.empty()) {
        auto const parsed = web::parse_client_frame(bytes, k_client_frame_max);
        using status = web::client_frame_parse::status;
        if (parsed.outcome == status::incomplete) return;
        if (parsed.outcome == status::error) {
            if (parsed.close_code != 1002 && parsed.close_code != 1009) fuzz::finding("an error with an odd close code");
            if (parsed.message.empty()) fuzz::finding("an error without a reason");
            if (web::close_payload(parsed.close_code, parsed.message).size() > 125)
                fuzz::finding("a close payload over 125 bytes");
            return;
        }
        if (parsed.consumed == 0 || parsed.consumed > bytes.size()) fuzz::finding("a frame consumed a wrong count");
        auto const& frame = parsed.frame;
        if (frame.payload.size() > k_client_frame_max) fuzz::finding("a frame over the limit was accepted");
        if (static_cast<std::uint8_t>(frame.opcode) >= 0x8 && (frame.payload.size() > 125 || !frame.fin))
            fuzz::finding("a control frame over 125 bytes or fragmented was accepted");
        auto const again = masked_frame(frame);
        auto const reparsed = web::parse_client_frame(again, k_client_frame_max);
        if (reparsed.outcome != status::frame || reparsed.consumed != again.size() ||
            reparsed.frame.payload != frame.payload || reparsed.frame.opcode != frame.opcode ||
            reparsed.frame.fin != frame.fin)
            fuzz::finding("a frame masked again parses differently");
        bytes.remove_prefix(parsed.consumed);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    auto const text = fuzz::as_text(data, size);
    auto const newline = text.find('\n');
    check_upgrade(std::string{text.substr(0, newline)});
    if (newline != std::string_view::npos) check_frames(text.substr(newline + 1));
    return 0;
}
