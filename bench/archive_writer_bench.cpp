// Recorder ingest: how close frame_writer (batched commits on its own thread,
// event index included) comes to the ceiling, a bare loop of prepared INSERTs
// of the same rows in 1000-row transactions on the same SQLite settings.
//
//   build/release/bench/archive_writer_bench [--frames N] [--rounds R] [--dir D]
//
// Prints each round and the medians; the ratio is the figure that matters
// (machines here are noisy, absolute rates are not comparable across runs).

#include "core/archive/archive.hpp"
#include "core/archive/frame_writer.hpp"
#include "core/cli/program.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <vector>

using namespace harness::archive;
using steady = std::chrono::steady_clock;

namespace {

// ~1 KB call events of several shapes, each different.
std::vector<std::string> make_frames(std::size_t count) {
    static char const* const states[] = {"ringing", "connected", "hangup", "recording", "voicemail_uploaded"};
    std::vector<std::string> frames;
    frames.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        auto const call = 5823519046647808 + static_cast<std::int64_t>(i / 4);
        std::string text = R"({"call_id": )" + std::to_string(call) + R"(, "state": ")" + states[i % 5] +
                           R"(", "direction": "inbound", "external_number": "+14155550142", "internal_number": "+14155550100",)"
                           R"( "date_started": 1767225600412, "date_rang": 1767225600530, "date_connected": null,)"
                           R"( "duration": null, "total_duration": 8951.029999999999, "target": {"id": 5100000000000001,)"
                           R"( "type": "user", "name": "Avery Kim", "email": "avery@example.com", "phone": "+14155550111",)"
                           R"( "office_id": 5200000000000001}, "contact": {"id": 6000000000000001, "type": "local",)"
                           R"( "name": "(415) 555-0142", "email": "", "phone": "+14155550142"}, "entry_point_call_id": )" +
                           std::to_string(call - 1) +
                           R"(, "entry_point_target": {"id": 5300000000000001, "type": "department", "name": "Support"},)"
                           R"( "operator_call_id": null, "master_call_id": null, "group_id": "Department:5300000000000001",)"
                           R"( "proxy_target": {}, "is_internal": false, "is_transferred": false, "labels": [],)"
                           R"( "routing_breadcrumbs": [], "was_recorded": false, "recording_details": [],)"
                           R"( "integrations": {}, "event_timestamp": )" +
                           std::to_string(1767225601250 + static_cast<std::int64_t>(i)) + "}";
        frames.push_back(std::move(text));
    }
    return frames;
}

struct prepared_session {
    std::string path;
    session_id session;
    connection_id connection;
};

prepared_session fresh_archive(std::filesystem::path const& dir, std::string const& name) {
    auto const path = (dir / name).string();
    for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    archive a{path, open_mode::read_write};
    session_info s;
    s.name = name;
    auto const id = a.create_session(s);
    connection_info c;
    c.session = id;
    auto const conn = a.add_connection(c);
    return {path, id, conn};
}

double run_frame_writer(prepared_session const& target, std::vector<std::string> const& frames) {
    frame_writer writer{target.path, target.session};  // default options: a 100 ms durability window
    connection_spec spec;
    spec.info.scope = token_scope::websocket;
    auto const start = steady::now();
    auto const connection = writer.open_connection(spec);
    std::int64_t offset = 0;
    for (auto const& text : frames) {
        ++offset;
        writer.write_frame(connection, frame_kind::event, offset, offset, text);
    }
    writer.close();
    return std::chrono::duration<double>(steady::now() - start).count();
}

void check(int rc, sqlite3* db) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
        throw std::runtime_error{std::string{"sqlite: "} + sqlite3_errmsg(db)};
}

// The ceiling: the same frame and index rows, indexes precomputed outside the
// timed part, straight through the C API in 1000-row transactions.
double run_bare_loop(prepared_session const& target, std::vector<std::string> const& frames,
                     std::vector<harness::model::event_index> const& indexes) {
    sqlite3* db = nullptr;
    check(sqlite3_open(target.path.c_str(), &db), db);
    check(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON", nullptr,
                       nullptr, nullptr),
          db);
    sqlite3_stmt* frame = nullptr;
    sqlite3_stmt* index = nullptr;
    check(sqlite3_prepare_v2(db,
                             "INSERT INTO frames (session_id, connection_id, kind, offset_ns, wall_ns, text) "
                             "VALUES (?, ?, 'event', ?, ?, ?)",
                             -1, &frame, nullptr),
          db);
    check(sqlite3_prepare_v2(db,
                             "INSERT INTO event_index (frame_id, family, state, direction, call_id, master_call_id, "
                             "entry_point_call_id, operator_call_id, target_type, target_id, event_timestamp, is_jwt, "
                             "signature, parsed) VALUES (?, ?, ?, ?, ?, NULL, ?, NULL, ?, ?, ?, 0, 'not_jwt', 1)",
                             -1, &index, nullptr),
          db);
    auto const start = steady::now();
    for (std::size_t i = 0; i < frames.size(); ++i) {
        if (i % 1000 == 0) check(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), db);
        auto const offset = static_cast<sqlite3_int64>(i + 1);
        sqlite3_bind_int64(frame, 1, target.session);
        sqlite3_bind_int64(frame, 2, target.connection);
        sqlite3_bind_int64(frame, 3, offset);
        sqlite3_bind_int64(frame, 4, offset);
        sqlite3_bind_text(frame, 5, frames[i].data(), static_cast<int>(frames[i].size()), SQLITE_STATIC);
        check(sqlite3_step(frame), db);
        sqlite3_reset(frame);
        auto const& x = indexes[i];
        sqlite3_bind_int64(index, 1, sqlite3_last_insert_rowid(db));
        sqlite3_bind_text(index, 2, "call", -1, SQLITE_STATIC);
        sqlite3_bind_text(index, 3, x.state.data(), static_cast<int>(x.state.size()), SQLITE_STATIC);
        sqlite3_bind_text(index, 4, x.direction.data(), static_cast<int>(x.direction.size()), SQLITE_STATIC);
        sqlite3_bind_int64(index, 5, *x.call_id);
        sqlite3_bind_int64(index, 6, *x.entry_point_call_id);
        sqlite3_bind_text(index, 7, x.target_type.data(), static_cast<int>(x.target_type.size()), SQLITE_STATIC);
        sqlite3_bind_text(index, 8, x.target_id.data(), static_cast<int>(x.target_id.size()), SQLITE_STATIC);
        sqlite3_bind_int64(index, 9, *x.event_timestamp);
        check(sqlite3_step(index), db);
        sqlite3_reset(index);
        if (i % 1000 == 999 || i + 1 == frames.size()) check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db);
    }
    auto const seconds = std::chrono::duration<double>(steady::now() - start).count();
    sqlite3_finalize(frame);
    sqlite3_finalize(index);
    sqlite3_close(db);
    return seconds;
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    harness::cli::option_parser parser{"archive_writer_bench", "[options]",
                                       "Measures frame_writer against a bare SQLite insert loop."};
    harness::cli::add_standard_options(parser);
    parser.value("frames", "N", "Frames per round.", "200000")
        .value("rounds", "R", "Rounds of each (medians are reported).", "5")
        .value("dir", "DIR", "Where the scratch archives go.", "the system temp directory");
    return harness::cli::run_program(argc, argv, parser, [](harness::cli::parsed_args const& args) {
        auto const count = std::stoul(args.value("frames").value_or("200000"));
        auto const rounds = std::stoul(args.value("rounds").value_or("5"));
        std::filesystem::path const dir = args.value("dir").value_or(std::filesystem::temp_directory_path().string());

        auto const frames = make_frames(count);
        std::vector<harness::model::event_index> indexes;
        std::size_t bytes = 0;
        for (auto const& f : frames) {
            indexes.push_back(harness::model::index_event(f));
            bytes += f.size();
        }
        std::printf("%zu frames, %.0f bytes each on average\n", count, double(bytes) / double(count));

        std::vector<double> writer_rates, bare_rates, ratios;
        for (std::size_t r = 0; r < rounds; ++r) {
            // Alternate the order so drift in machine load hits both alike.
            auto const measure_writer = [&] {
                auto const target = fresh_archive(dir, "bench-writer.db");
                writer_rates.push_back(double(count) / run_frame_writer(target, frames));
            };
            auto const measure_bare = [&] {
                auto const target = fresh_archive(dir, "bench-bare.db");
                bare_rates.push_back(double(count) / run_bare_loop(target, frames, indexes));
            };
            if (r % 2 == 0) {
                measure_writer();
                measure_bare();
            } else {
                measure_bare();
                measure_writer();
            }
            ratios.push_back(writer_rates.back() / bare_rates.back());
            std::printf("round %zu: frame_writer %.0f frames/s, bare loop %.0f frames/s, ratio %.2f\n", r + 1,
                        writer_rates.back(), bare_rates.back(), ratios.back());
        }
        // The ratio of each round pairs two runs made moments apart, so its
        // median is the figure least moved by the machine's noise.
        std::printf("median: frame_writer %.0f frames/s, bare loop (ceiling) %.0f frames/s; median ratio %.2f\n",
                    median(writer_rates), median(bare_rates), median(ratios));
        for (auto name : {"bench-writer.db", "bench-bare.db"})
            for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(dir / (std::string{name} + suffix));
        return 0;
    });
}
