#pragma once
// What the fuzz targets share: the input as text, lines, how a finding is
// reported, and the fixed secrets that fuzz/make_seeds.mjs signs seeds with
// (it reads them from this file), so seeded tokens verify.

#include "core/cli/split_text.hpp"
#include "core/log/log.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

namespace harness::fuzz {

// The HS256 secret of signed seeds.
inline constexpr std::string_view k_hs256_secret = "fuzz-secret";
// The P-256 key of ES256 seeds; a test key, never used for anything else.
inline constexpr std::string_view k_es256_private_pem = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg42upN5XeNEUXxfLm
s/tcqaK1gka7GtBU6+omEpSWVjKhRANCAATiQTq1Re60duTxc/thXenLiH1ahvX8
/iKI6Cfvfr9Izp7+n9B5AgFU1YdbrSq/YnU3Z/Hd+puINsrmAWcaYvvq
-----END PRIVATE KEY-----
)";

inline std::string_view as_text(std::uint8_t const* data, std::size_t size) {
    return {reinterpret_cast<char const*>(data), size};
}

// Splits at '\n' (a trailing one ends the last line, as in a text file).
inline std::vector<std::string> lines_of(std::string_view text) { return cli::split_at(text, '\n'); }

// Every log line formatted (trace, JSON: client text goes through the
// escaping) and thrown away, so logging is fuzzed too without flooding
// the fuzzer's output. The stream is never destroyed: code may still log
// while other statics are torn down at exit.
inline void log_to_nowhere() {
    struct discard : std::streambuf {
        int overflow(int c) override { return c; }
        std::streamsize xsputn(char const*, std::streamsize n) override { return n; }
    };
    static auto* const nowhere = new std::ostream{new discard};
    configure_logging({.level = log_level::trace, .format = log_format::json, .program = "fuzz", .sink = nowhere});
}

// A broken promise of the code under test: abort, so libFuzzer keeps the
// input and the regression runner fails.
[[noreturn]] inline void finding(std::string_view what) {
    std::fprintf(stderr, "FUZZ FINDING: %.*s\n", static_cast<int>(what.size()), what.data());
    std::abort();
}

}  // namespace harness::fuzz
