#include "replayer/archive_tool.hpp"

#include "core/archive/archive.hpp"
#include "core/archive/frame_reader.hpp"
#include "core/archive/session_jsonl.hpp"
#include "core/jwt/jwt.hpp"
#include "core/model/event_index.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace harness::replayer {
namespace {

// Nanoseconds since the epoch as an ISO-8601 UTC time, to the millisecond.
std::string iso_time(std::int64_t wall_ns) {
    auto const millis = wall_ns / 1'000'000;
    std::time_t const seconds = static_cast<std::time_t>(millis / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[40];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    char full[48];
    std::snprintf(full, sizeof full, "%s.%03dZ", text, static_cast<int>(millis % 1000));
    return full;
}

std::string seconds_text(std::int64_t ns) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3fs", double(ns) / 1e9);
    return text;
}

}  // namespace

void list_sessions(std::string const& archive_path, std::ostream& out) {
    archive::archive store{archive_path, archive::open_mode::read_only};
    out << "id\tname\tsource\tstarted\tended\tframes\tconnections\tgaps\n";
    for (auto const& s : store.sessions()) {
        out << s.id << '\t' << s.name << '\t' << archive::to_string(s.source) << '\t' << iso_time(s.started_wall_ns)
            << '\t' << (s.ended_wall_ns ? iso_time(*s.ended_wall_ns) : std::string{"-"}) << '\t'
            << store.frame_count(s.id) << '\t' << store.connections(s.id).size() << '\t' << store.gaps(s.id).size()
            << '\n';
    }
}

void show_session(std::string const& archive_path, std::string const& session_ref, std::ostream& out) {
    archive::archive store{archive_path, archive::open_mode::read_only};
    auto const s = store.resolve_session(session_ref);
    out << "session " << s.id << " '" << s.name << "' (" << archive::to_string(s.source) << ") from " << s.base_url
        << "\n  started " << iso_time(s.started_wall_ns) << ", "
        << (s.ended_wall_ns ? "ended " + iso_time(*s.ended_wall_ns) : std::string{"not ended (interrupted?)"}) << '\n';
    out << "connections:\n";
    for (auto const& c : store.connections(s.id)) {
        out << "  " << c.id << "  " << c.url << "  opened " << seconds_text(c.opened_offset_ns);
        if (c.closed_offset_ns) {
            out << ", closed " << seconds_text(*c.closed_offset_ns);
            if (c.ended_by) out << " by " << archive::to_string(*c.ended_by);
            if (c.abrupt) out << " (abrupt)";
            else if (c.close_code) out << " (" << *c.close_code << (c.close_reason.empty() ? "" : " " + c.close_reason) << ")";
        } else {
            out << ", never closed";
        }
        out << '\n';
    }
    auto const gaps = store.gaps(s.id);
    out << "gaps:" << (gaps.empty() ? " none" : "") << '\n';
    for (auto const& g : gaps)
        out << "  " << seconds_text(g.start_offset_ns) << " .. "
            << (g.end_offset_ns ? seconds_text(*g.end_offset_ns) : std::string{"end"}) << "  " << g.reason << '\n';

    // Counts per family and state, streamed: a session of any size.
    std::map<std::string, std::map<std::string, std::int64_t>> counts;
    std::map<std::string, std::int64_t> kinds;
    archive::frame_reader reader{archive_path, s.id};
    while (auto f = reader.next()) {
        ++kinds[std::string{archive::to_string(f->kind)}];
        if (f->kind != archive::frame_kind::event) continue;
        // Frames stored without their index (older imports) are indexed here.
        auto const index = f->index ? *f->index : model::index_event(f->text);
        ++counts[std::string{model::to_string(index.family)}][index.state];
    }
    out << "frames:";
    for (auto const& [kind, n] : kinds) out << ' ' << kind << ' ' << n;
    out << "\nevents:\n";
    for (auto const& [family, states] : counts) {
        std::int64_t total = 0;
        for (auto const& [state, n] : states) total += n;
        out << "  " << family << ' ' << total << ':';
        for (auto const& [state, n] : states) out << ' ' << (state.empty() ? "-" : state) << ' ' << n;
        out << '\n';
    }
}

void export_session_jsonl(std::string const& archive_path, std::string const& session_ref, std::ostream& out) {
    archive::archive store{archive_path, archive::open_mode::read_only};
    archive::export_session(store, store.resolve_session(session_ref).id, out);
}

std::int64_t import_session_jsonl(std::string const& jsonl_path, std::string const& archive_path) {
    std::ifstream in{jsonl_path, std::ios::binary};
    if (!in) throw std::runtime_error{jsonl_path + ": cannot be read"};
    archive::archive store{archive_path, archive::open_mode::read_write};
    return archive::import_session(store, in, jsonl_path);
}

bool verify_archive(std::string const& archive_path, std::ostream& out) {
    // Opening checks that it is an archive and that its schema is one we know.
    archive::archive store{archive_path, archive::open_mode::read_only};
    auto const integrity = store.integrity_check();
    bool ok = integrity == "ok";
    out << archive_path << ": integrity " << integrity << '\n';
    for (auto const& s : store.sessions()) {
        auto const frames = store.frame_count(s.id);
        auto const connections = store.connections(s.id);
        std::size_t unclosed = 0;
        for (auto const& c : connections)
            if (!c.closed_offset_ns) ++unclosed;
        out << "session " << s.id << " '" << s.name << "': " << frames << " frames, " << connections.size()
            << " connections, " << store.gaps(s.id).size() << " gaps";
        if (!s.ended_wall_ns) out << ", not ended (the recorder was interrupted)";
        if (unclosed > 0 && s.ended_wall_ns) {
            out << ", " << unclosed << " connections never closed";
            ok = false;
        }
        out << '\n';
    }
    out << (ok ? "ok" : "damaged") << '\n';
    return ok;
}

void redact_archive(std::string const& archive_path, std::string const& out_path,
                    std::optional<std::string> const& secret, redact::redact_rules rules) {
    if (std::filesystem::exists(out_path))
        throw std::runtime_error{out_path + ": exists already; redact writes a new archive"};
    auto const redactor = redact::redactor::with_random_key(rules);
    archive::archive source{archive_path, archive::open_mode::read_only};
    auto const sessions = source.sessions();
    // Everything is checked and redacted before the output is created: a
    // refusal leaves nothing behind.
    std::vector<std::string> redacted_sessions;
    for (auto const& s : sessions) {
        std::stringstream exported;
        archive::export_session(source, s.id, exported);
        std::string redacted;
        std::string line;
        std::size_t number = 0;
        while (std::getline(exported, line)) {
            ++number;
            if (number > 1) {
                auto frame = nlohmann::ordered_json::parse(line);
                if (frame.value("kind", "") == "event" && frame.contains("text")) {
                    auto const text = frame["text"].get<std::string>();
                    if (jwt::looks_like_jwt(text) && !secret)
                        throw std::runtime_error{archive_path + ": session " + std::to_string(s.id) +
                                                 " holds signed (JWT) frames: set DIALPAD_WEBSOCKET_SECRET or give --secret-file to re-sign them after redaction"};
                    frame["text"] = redactor.redact_frame(text, secret);
                    line = frame.dump();
                }
            }
            redacted.append(line).push_back('\n');
        }
        redacted_sessions.push_back(std::move(redacted));
    }
    archive::archive target{out_path, archive::open_mode::read_write};
    for (auto const& text : redacted_sessions) {
        std::istringstream in{text};
        archive::import_session(target, in, archive_path);
    }
}

}  // namespace harness::replayer
