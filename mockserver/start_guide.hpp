#pragma once
// What dialpad-mock prints for a person who just started it: the curl that
// creates a websocket and a call subscription, how to connect to the URL it
// returns, and the admin calls that play a fixture or a scenario, with this
// mock's address and key filled in, ready to paste.

#include "mockserver/fixture_library.hpp"
#include "mockserver/mock_server.hpp"

#include <string>
#include <vector>

namespace harness::mock {

std::string start_guide(mock_endpoints const& at, std::vector<fixture_entry> const& fixtures);

}  // namespace harness::mock
