#include "mockserver/admin_api.hpp"

#include "core/version.hpp"
#include "mockserver/api_error.hpp"
#include "mockserver/request_journal.hpp"

#include <nlohmann/json.hpp>

namespace harness::mock {

admin_api::admin_api(request_journal& journal, admin_actions actions)
    : journal_{journal}, actions_{std::move(actions)} {}

bool admin_api::owns(std::string_view path) { return path == "/__admin" || path.starts_with("/__admin/"); }

web::response admin_api::handle(web::request const& request) {
    if (!request.remote_is_loopback)
        return error_response(403, "the admin API answers loopback clients only", "forbidden");
    auto const& path = request.path;
    auto const method_not_allowed = [&](std::string allowed) {
        auto r = error_response(405, "method " + request.method + " is not allowed on " + path);
        r.set_header("Allow", std::move(allowed));
        return r;
    };

    if (path == "/__admin/health") {
        if (request.method != "GET") return method_not_allowed("GET");
        nlohmann::ordered_json body;
        body["status"] = "ok";
        body["version"] = std::string{version()};
        return web::response::json(200, body.dump());
    }
    if (path == "/__admin/reset") {
        if (request.method != "POST") return method_not_allowed("POST");
        actions_.reset();
        journal_.clear();
        return web::response::json(200, R"({"reset":true})");
    }
    if (path == "/__admin/requests") {
        if (request.method == "DELETE") {
            journal_.clear();
            return web::response::json(200, R"({"cleared":true})");
        }
        if (request.method != "GET") return method_not_allowed("GET, DELETE");
        nlohmann::ordered_json body;
        auto& list = body["requests"] = nlohmann::ordered_json::array();
        for (auto const& e : journal_.entries()) {
            nlohmann::ordered_json j;
            j["seq"] = e.sequence;
            j["time_ms"] = e.wall_ms;
            j["method"] = e.method;
            j["path"] = e.path;
            j["status"] = e.status;
            j["company"] = e.company;
            j["body"] = e.body;
            list.push_back(std::move(j));
        }
        return web::response::json(200, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    return error_response(404, "no such admin endpoint: " + path, "notFound");
}

}  // namespace harness::mock
