#pragma once
// Structured logging to stderr: one line per event, an event name plus
// key=value fields, as text for people or JSON Lines for machines. Stdout is
// left to each program's machine-readable output.
//
//   HLOG(info, "ws.open").field("conn", id).field("path", target);
//
// The fields are not evaluated when the level is off.

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace harness {

class clock;

enum class log_level { trace, debug, info, warn, error, off };

enum class log_format { text, json };

// "trace", "debug", "info", "warn", "error", "off" (also "warning").
std::optional<log_level> parse_log_level(std::string_view name);
std::string_view to_string(log_level level);
std::optional<log_format> parse_log_format(std::string_view name);

struct log_config {
    log_level level = log_level::info;
    log_format format = log_format::text;
    std::string program;             // e.g. "dialpad-mock"; empty = not shown
    std::ostream* sink = nullptr;    // nullptr = std::cerr
    clock const* time_source = nullptr;  // nullptr = the real clock
};

// Replaces the process-wide configuration. Thread-safe.
void configure_logging(log_config config);
bool log_enabled(log_level level);

// One log line under construction; written (atomically, whole) when it is
// destroyed. Built by HLOG, not by hand.
class log_record {
public:
    log_record(log_level level, std::string_view event);
    log_record(log_record const&) = delete;
    log_record& operator=(log_record const&) = delete;
    ~log_record();

    log_record& field(std::string_view key, std::string_view value);
    log_record& field(std::string_view key, char const* value);
    log_record& field(std::string_view key, std::string const& value);
    log_record& field(std::string_view key, bool value);
    log_record& field(std::string_view key, double value);
    template <class Integer>
        requires std::is_integral_v<Integer>
    log_record& field(std::string_view key, Integer value) {
        return add(key, std::to_string(value), false);
    }

private:
    log_record& add(std::string_view key, std::string value, bool quoted);
    struct entry {
        std::string key;
        std::string value;
        bool is_string;
    };
    log_level level_;
    std::string event_;
    std::vector<entry> fields_;
};

// Lets HLOG be a single expression that is skipped when the level is off.
struct log_voidify {
    void operator&(log_record const&) const {}
};

}  // namespace harness

#define HLOG(level, event)                                                    \
    !::harness::log_enabled(::harness::log_level::level)                      \
        ? (void)0                                                             \
        : ::harness::log_voidify{} & ::harness::log_record(::harness::log_level::level, (event))
