#include "core/jwt/base64url.hpp"

#include <array>
#include <cstdint>

namespace harness::jwt {
namespace {

constexpr std::string_view k_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<std::int8_t, 256> make_reverse_table() {
    std::array<std::int8_t, 256> table{};
    for (auto& v : table) v = -1;
    for (std::size_t i = 0; i < k_alphabet.size(); ++i)
        table[static_cast<unsigned char>(k_alphabet[i])] = static_cast<std::int8_t>(i);
    return table;
}
constexpr auto k_reverse = make_reverse_table();

}  // namespace

std::string base64url_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() * 4 + 2) / 3);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        std::uint32_t const n = (std::uint32_t(std::uint8_t(bytes[i])) << 16) |
                                (std::uint32_t(std::uint8_t(bytes[i + 1])) << 8) |
                                std::uint32_t(std::uint8_t(bytes[i + 2]));
        out += k_alphabet[(n >> 18) & 63];
        out += k_alphabet[(n >> 12) & 63];
        out += k_alphabet[(n >> 6) & 63];
        out += k_alphabet[n & 63];
    }
    auto const rest = bytes.size() - i;
    if (rest == 1) {
        std::uint32_t const n = std::uint32_t(std::uint8_t(bytes[i])) << 16;
        out += k_alphabet[(n >> 18) & 63];
        out += k_alphabet[(n >> 12) & 63];
    } else if (rest == 2) {
        std::uint32_t const n = (std::uint32_t(std::uint8_t(bytes[i])) << 16) |
                                (std::uint32_t(std::uint8_t(bytes[i + 1])) << 8);
        out += k_alphabet[(n >> 18) & 63];
        out += k_alphabet[(n >> 12) & 63];
        out += k_alphabet[(n >> 6) & 63];
    }
    return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
    if (text.size() % 4 == 1) return std::nullopt;
    std::string out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t accumulator = 0;
    int bits = 0;
    for (unsigned char c : text) {
        auto const value = k_reverse[c];
        if (value < 0) return std::nullopt;
        accumulator = (accumulator << 6) | std::uint32_t(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((accumulator >> bits) & 0xff);
        }
    }
    // Leftover bits must be zero, or two encodings would map to one value.
    if (bits > 0 && (accumulator & ((1u << bits) - 1)) != 0) return std::nullopt;
    return out;
}

}  // namespace harness::jwt
