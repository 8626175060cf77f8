#include "core/jwt/base64url.hpp"

#include <doctest/doctest.h>

using harness::jwt::base64url_decode;
using harness::jwt::base64url_encode;

TEST_CASE("jwt::base64url: RFC 4648 test vectors, url-safe and unpadded") {
    CHECK(base64url_encode("") == "");
    CHECK(base64url_encode("f") == "Zg");
    CHECK(base64url_encode("fo") == "Zm8");
    CHECK(base64url_encode("foo") == "Zm9v");
    CHECK(base64url_encode("foob") == "Zm9vYg");
    CHECK(base64url_encode("fooba") == "Zm9vYmE");
    CHECK(base64url_encode("foobar") == "Zm9vYmFy");
    CHECK(base64url_encode("\xfb\xff\xbf") == "-_-_");  // '+' and '/' in plain base64
    CHECK(base64url_encode(R"({"alg":"HS256","typ":"JWT"})") == "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
}

TEST_CASE("jwt::base64url: decoding round-trips every byte value") {
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    for (std::size_t length = 0; length <= all.size(); length += 37) {
        auto const slice = all.substr(0, length);
        CHECK(base64url_decode(base64url_encode(slice)) == slice);
    }
}

TEST_CASE("jwt::base64url: rejects padding, foreign characters and impossible lengths") {
    CHECK_FALSE(base64url_decode("Zg==").has_value());
    CHECK_FALSE(base64url_decode("Zm9v+").has_value());
    CHECK_FALSE(base64url_decode("Zm9v/w").has_value());
    CHECK_FALSE(base64url_decode("Z").has_value());        // 6 bits cannot make a byte
    CHECK_FALSE(base64url_decode("Zh").has_value());       // non-zero leftover bits
    CHECK_FALSE(base64url_decode("Zm 9v").has_value());
    CHECK(base64url_decode("") == "");
}
