#pragma once
// Base64url without padding (RFC 4648 §5), the encoding of every JWT part.

#include <optional>
#include <string>
#include <string_view>

namespace harness::jwt {

std::string base64url_encode(std::string_view bytes);
// Strict: rejects padding, characters outside the url-safe alphabet and
// impossible lengths; nullopt on any of them.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace harness::jwt
