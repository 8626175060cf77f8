#include "mockserver/start_guide.hpp"

#include <sstream>

namespace harness::mock {

std::string start_guide(mock_endpoints const& at, std::vector<fixture_entry> const& fixtures) {
    auto const key = at.api_keys.empty() ? std::string{"KEY"} : at.api_keys.front();
    auto const auth = " -H 'Authorization: Bearer " + key + "'";
    std::ostringstream out;
    // Keys from DIALPAD_MOCK_API_KEYS or --api-keys-file are never listed.
    auto const key_note = at.api_keys.empty() ? std::string{"its API keys unlisted: KEY below stands for one"}
                                              : "API key " + key;
    out << "\ndialpad-mock is ready on " << at.http << " (" << key_note << "). Ctrl-C stops it.\n\n"
        << "1. Create a websocket and a call subscription (as with https://dialpad.com; add \"secret\" to get\n"
        << "   HS256-signed JWT frames instead of plain JSON):\n\n"
        << "   curl -s -X POST " << at.http << "/api/v2/websockets" << auth << " -d '{}'\n"
        << "   curl -s -X POST " << at.http << "/api/v2/subscriptions/call" << auth
        << " -d '{\"endpoint_id\":\"ID\",\"call_states\":[\"all\"]}'\n\n"
        << "   (ID: the \"id\" of the first answer.)\n\n"
        << "2. Connect to its \"websocket_url\" (" << at.ws << "<token>; GET /api/v2/websockets/ID gives a\n"
        << "   fresh one: tokens last an hour, and every connection is cut an hour after it opens), e.g. in a\n"
        << "   browser's developer console:\n\n"
        << "   ws = new WebSocket('WEBSOCKET_URL'); ws.onmessage = (e) => console.log(JSON.parse(e.data))\n\n"
        << "3. Make events:\n\n";
    bool const busy_hour = [&] {
        for (auto const& f : fixtures)
            if (f.name == "busy_hour") return true;
        return false;
    }();
    if (busy_hour)
        out << "   curl -s -X POST " << at.admin << "/replay -d '{\"fixture\":\"busy_hour\",\"speed\":60,\"rebase_time\":true}'\n";
    out << "   curl -s -X POST " << at.admin << "/scenarios/inbound_call_answered -d '{\"params\":{\"immediate\":true}}'\n\n";
    if (!fixtures.empty()) {
        out << "   Fixtures:";
        for (auto const& f : fixtures) out << ' ' << f.name;
        out << "\n";
    }
    out << "   Scenarios: curl -s " << at.admin << "/scenarios     Everything else: README.md, \"dialpad-mock\".\n";
    return out.str();
}

}  // namespace harness::mock
