#include "core/log/log.hpp"

#include "core/clock/clock.hpp"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <mutex>
#include <sstream>

namespace harness {
namespace {

struct logger_state {
    std::mutex mutex;  // guards config and serialises writes to the sink
    log_config config;
    std::atomic<log_level> level{log_level::info};
};

logger_state& logger() {
    static logger_state state;
    return state;
}

// ISO 8601 UTC with milliseconds: 2026-11-27T18:33:46.123Z
std::string format_time(wall_time t) {
    auto const millis = unix_millis(t);
    auto const seconds = static_cast<std::time_t>(millis / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    std::ostringstream out;
    out << std::put_time(&utc, "%Y-%m-%dT%H:%M:%S") << '.' << std::setw(3) << std::setfill('0')
        << (millis % 1000) << 'Z';
    return out.str();
}

void append_json_string(std::string& out, std::string_view text) {
    out += '"';
    for (unsigned char c : text) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                char buffer[8];
                std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
                out += buffer;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    out += '"';
}

// Text values are bare when that cannot be misread, quoted (JSON-style
// escapes) when they hold spaces, quotes, '=' or control characters.
void append_text_value(std::string& out, std::string_view value, bool is_string) {
    bool bare = !value.empty() || !is_string;
    for (unsigned char c : value)
        if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) bare = false;
    if (bare)
        out += value;
    else
        append_json_string(out, value);
}

}  // namespace

std::optional<log_level> parse_log_level(std::string_view name) {
    if (name == "trace") return log_level::trace;
    if (name == "debug") return log_level::debug;
    if (name == "info") return log_level::info;
    if (name == "warn" || name == "warning") return log_level::warn;
    if (name == "error") return log_level::error;
    if (name == "off") return log_level::off;
    return std::nullopt;
}

std::string_view to_string(log_level level) {
    switch (level) {
    case log_level::trace: return "trace";
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
    case log_level::off: return "off";
    }
    return "off";
}

std::optional<log_format> parse_log_format(std::string_view name) {
    if (name == "text") return log_format::text;
    if (name == "json") return log_format::json;
    return std::nullopt;
}

void configure_logging(log_config config) {
    auto& state = logger();
    std::lock_guard lock{state.mutex};
    state.level.store(config.level, std::memory_order_relaxed);
    state.config = std::move(config);
}

bool log_enabled(log_level level) {
    return level != log_level::off && level >= logger().level.load(std::memory_order_relaxed);
}

log_record::log_record(log_level level, std::string_view event) : level_{level}, event_{event} {}

log_record& log_record::field(std::string_view key, std::string_view value) {
    return add(key, std::string{value}, true);
}
log_record& log_record::field(std::string_view key, char const* value) {
    return add(key, value ? std::string{value} : std::string{}, true);
}
log_record& log_record::field(std::string_view key, std::string const& value) {
    return add(key, value, true);
}
log_record& log_record::field(std::string_view key, bool value) {
    return add(key, value ? "true" : "false", false);
}
log_record& log_record::field(std::string_view key, double value) {
    if (!std::isfinite(value)) return add(key, "null", false);
    std::ostringstream out;
    out << std::setprecision(15) << value;
    return add(key, out.str(), false);
}

log_record& log_record::add(std::string_view key, std::string value, bool is_string) {
    fields_.push_back(entry{std::string{key}, std::move(value), is_string});
    return *this;
}

log_record::~log_record() {
    auto& state = logger();
    std::lock_guard lock{state.mutex};
    auto const& config = state.config;
    clock const& time_source = config.time_source ? *config.time_source : system_clock_instance();
    auto const when = format_time(time_source.wall_now());

    std::string line;
    if (config.format == log_format::json) {
        line += "{\"ts\":\"" + when + "\",\"level\":\"";
        line += to_string(level_);
        line += '"';
        if (!config.program.empty()) {
            line += ",\"program\":";
            append_json_string(line, config.program);
        }
        line += ",\"event\":";
        append_json_string(line, event_);
        for (auto const& f : fields_) {
            line += ',';
            append_json_string(line, f.key);
            line += ':';
            if (f.is_string)
                append_json_string(line, f.value);
            else
                line += f.value;
        }
        line += '}';
    } else {
        line += when;
        line += ' ';
        line += to_string(level_);
        if (!config.program.empty()) {
            line += ' ';
            line += config.program;
        }
        line += ' ';
        line += event_;
        for (auto const& f : fields_) {
            line += ' ';
            line += f.key;
            line += '=';
            append_text_value(line, f.value, f.is_string);
        }
    }
    line += '\n';
    std::ostream& sink = config.sink ? *config.sink : std::cerr;
    sink << line;
    sink.flush();
}

}  // namespace harness
