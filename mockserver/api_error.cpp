#include "mockserver/api_error.hpp"

#include <nlohmann/json.hpp>

namespace harness::mock {

std::string_view default_reason(int status) {
    switch (status) {
    case 400: return "badRequest";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "notFound";
    case 405: return "methodNotAllowed";
    case 408: return "requestTimeout";
    case 409: return "conflict";
    case 413: return "requestEntityTooLarge";
    case 429: return "rateLimitExceeded";
    default: return status >= 500 ? "backendError" : "badRequest";
    }
}

web::response error_response(int status, std::string const& message, std::string_view reason) {
    nlohmann::ordered_json item;
    item["domain"] = "global";
    item["message"] = message;
    item["reason"] = reason.empty() ? default_reason(status) : reason;
    nlohmann::ordered_json body;
    body["error"]["code"] = status;
    body["error"]["errors"] = nlohmann::ordered_json::array({item});
    body["error"]["message"] = message;
    // Messages quote what the client sent (a path, a header), which need not
    // be UTF-8: such bytes become U+FFFD rather than a failed answer.
    return web::response::json(status, body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

}  // namespace harness::mock
