#pragma once
// The test-control API under /__admin/ (WireMock's convention): health,
// reset, and the request journal. Served to loopback clients only.

#include "core/web/http_message.hpp"

#include <functional>

namespace harness::mock {

class request_journal;

struct admin_actions {
    std::function<void()> reset;  // drops every resource, keeps the keys
};

class admin_api {
public:
    admin_api(request_journal& journal, admin_actions actions);
    static bool owns(std::string_view path);
    web::response handle(web::request const& request);

private:
    request_journal& journal_;
    admin_actions actions_;
};

}  // namespace harness::mock
