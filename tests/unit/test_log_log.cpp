#include "core/log/log.hpp"

#include "core/clock/virtual_clock.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <sstream>

using harness::log_level;

namespace {

// Points the process-wide logger at a string for one test, then restores it.
struct captured_log {
    explicit captured_log(log_level level, harness::log_format format = harness::log_format::text)
        : clock{0.0, harness::wall_time{std::chrono::milliseconds{1767225600123}}} {
        harness::configure_logging({level, format, "test", &out, &clock});
    }
    ~captured_log() { harness::configure_logging({}); }
    std::ostringstream out;
    harness::virtual_clock clock;
};

}  // namespace

TEST_CASE("log: levels parse from their names") {
    CHECK(harness::parse_log_level("trace") == log_level::trace);
    CHECK(harness::parse_log_level("warning") == log_level::warn);
    CHECK(harness::parse_log_level("off") == log_level::off);
    CHECK_FALSE(harness::parse_log_level("loud").has_value());
    CHECK_FALSE(harness::parse_log_level("INFO").has_value());
    CHECK(harness::to_string(log_level::error) == "error");
    CHECK(harness::parse_log_format("json") == harness::log_format::json);
    CHECK_FALSE(harness::parse_log_format("xml").has_value());
}

TEST_CASE("log: a text line has time, level, program, event and fields") {
    captured_log log{log_level::info};
    HLOG(info, "ws.open").field("conn", 3).field("path", "/events/x").field("note", "two words").field("ok", true);
    CHECK(log.out.str() ==
          "2026-01-01T00:00:00.123Z info test ws.open conn=3 path=/events/x note=\"two words\" ok=true\n");
}

TEST_CASE("log: text values that could be misread are quoted and escaped") {
    captured_log log{log_level::info};
    HLOG(warn, "x").field("empty", "").field("eq", "a=b").field("nl", "line\nbreak").field("q", "say \"hi\"");
    CHECK(log.out.str() ==
          "2026-01-01T00:00:00.123Z warn test x empty=\"\" eq=\"a=b\" nl=\"line\\nbreak\" q=\"say \\\"hi\\\"\"\n");
}

TEST_CASE("log: json lines are one object each, with typed fields") {
    captured_log log{log_level::debug, harness::log_format::json};
    HLOG(debug, "frame").field("bytes", 512).field("ratio", 0.5).field("text", "a\tb");
    HLOG(error, "second");
    std::istringstream lines{log.out.str()};
    std::string line;
    REQUIRE(std::getline(lines, line));
    auto const first = nlohmann::json::parse(line);
    CHECK(first.at("ts") == "2026-01-01T00:00:00.123Z");
    CHECK(first.at("level") == "debug");
    CHECK(first.at("program") == "test");
    CHECK(first.at("event") == "frame");
    CHECK(first.at("bytes") == 512);
    CHECK(first.at("ratio") == 0.5);
    CHECK(first.at("text") == "a\tb");
    REQUIRE(std::getline(lines, line));
    CHECK(nlohmann::json::parse(line).at("event") == "second");
    CHECK_FALSE(std::getline(lines, line));
}

TEST_CASE("log: lines below the level are dropped without evaluating their fields") {
    captured_log log{log_level::warn};
    int evaluated = 0;
    auto costly = [&] {
        ++evaluated;
        return 1;
    };
    HLOG(info, "quiet").field("n", costly());
    HLOG(debug, "quieter").field("n", costly());
    CHECK(evaluated == 0);
    CHECK(log.out.str().empty());
    HLOG(error, "loud").field("n", costly());
    CHECK(evaluated == 1);
    CHECK_FALSE(log.out.str().empty());
}

TEST_CASE("log: off silences everything") {
    captured_log log{log_level::off};
    HLOG(error, "nothing");
    CHECK(log.out.str().empty());
    CHECK_FALSE(harness::log_enabled(log_level::error));
}
