#pragma once
// The test-control API under /__admin/ (WireMock's convention): health,
// reset, the request journal, events, scenarios, replays, faults and the
// clock. Served to loopback clients only.

#include "core/clock/virtual_clock.hpp"
#include "core/web/http_message.hpp"
#include "mockserver/fixture_library.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace harness::mock {

class request_journal;
class feed_hub;
class mock_replays;

struct admin_actions {
    std::function<void()> reset;  // drops every resource, keeps the keys
    std::uint64_t default_seed = 1;  // for scenarios asked for without a seed
    fixture_library fixtures;        // sessions POST /__admin/replay finds by name
    // Set: every admin request must carry `Authorization: Bearer <token>`.
    std::optional<std::string> admin_token;
    // Answer clients beyond loopback too (only ever with a token).
    bool expose = false;
};

class admin_api {
public:
    // `steerable`: the virtual clock tests may move; null on the system clock.
    admin_api(request_journal& journal, feed_hub& feed, mock_replays& replays, clock const& time_source,
              virtual_clock* steerable, admin_actions actions);
    static bool owns(std::string_view path);
    web::response handle(web::request const& request);

private:
    web::response events(web::request const& request);
    web::response connections(web::request const& request);
    web::response clock_endpoint(web::request const& request);
    web::response scenarios(web::request const& request);
    web::response replays(web::request const& request);

    request_journal& journal_;
    feed_hub& feed_;
    mock_replays& replays_;
    clock const& clock_;
    virtual_clock* steerable_;
    admin_actions actions_;
};

}  // namespace harness::mock
