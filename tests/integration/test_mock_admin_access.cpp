// Who may use dialpad-mock's admin API: loopback clients, and with an admin
// token only those that send it; the REST API is not affected.
#include "tests/support/mock_fixture.hpp"

#include <doctest/doctest.h>

using harness::test::mock_fixture;

TEST_CASE("mock admin access: with an admin token, admin requests need it; the REST API does not") {
    auto options = mock_fixture::default_options();
    options.admin_token = "admin-token-for-tests";
    mock_fixture mock{options};

    auto const anonymous = mock.call("GET", "/__admin/health", "");
    CHECK(anonymous.status == 401);
    CHECK(anonymous.header("WWW-Authenticate").value_or("").starts_with("Bearer"));
    CHECK(anonymous.body.find("admin-token-for-tests") == std::string::npos);
    CHECK(mock.call("GET", "/__admin/health", "admin-token-for-tests-not").status == 401);
    CHECK(mock.call("GET", "/__admin/health", "admin-token-for-test").status == 401);  // a prefix
    CHECK(mock.call("GET", "/__admin/health", "key-a").status == 401);  // an API key is not the admin token
    CHECK(mock.call("POST", "/__admin/reset", "").status == 401);
    CHECK(mock.call("GET", "/__admin/health", "admin-token-for-tests").status == 200);
    CHECK(mock.call("POST", "/__admin/reset", "admin-token-for-tests").status == 200);

    CHECK(mock.call("GET", "/api/v2/websockets", "key-a").status == 200);
    CHECK(mock.call("GET", "/api/v2/websockets", "admin-token-for-tests").status == 401);  // nor the reverse
}

TEST_CASE("mock admin access: without a token, loopback clients need nothing") {
    mock_fixture mock;
    CHECK(mock.call("GET", "/__admin/health", "").status == 200);
}
