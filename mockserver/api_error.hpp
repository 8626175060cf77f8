#pragma once
// Dialpad's error body (Google-API style), used for every error status:
//   {"error":{"code":400,"errors":[{"domain":"global","message":"...","reason":"badRequest"}],"message":"..."}}

#include "core/web/http_message.hpp"

#include <string>
#include <string_view>

namespace harness::mock {

// The `reason` Dialpad's style gives a status: 400 badRequest, 401
// unauthorized, 404 notFound, 429 rateLimitExceeded, ...
std::string_view default_reason(int status);

web::response error_response(int status, std::string const& message, std::string_view reason = {});

}  // namespace harness::mock
