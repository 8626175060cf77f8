#include "bench/support/archive_ceiling.hpp"

#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>

namespace harness::bench {
namespace {

using steady = std::chrono::steady_clock;

void check(int rc, sqlite3* db) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        std::string message = "sqlite: ";
        message.append(sqlite3_errmsg(db));
        throw std::runtime_error{message};
    }
}

}  // namespace

std::vector<std::string> make_call_frames(std::size_t count) {
    static char const* const states[] = {"ringing", "connected", "hangup", "recording", "voicemail_uploaded"};
    std::vector<std::string> frames;
    frames.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        auto const call = 5823519046647808 + static_cast<std::int64_t>(i / 4);
        std::string text = R"({"call_id": )";
        text.append(std::to_string(call))
            .append(R"(, "state": ")")
            .append(states[i % 5])
            .append(R"(", "direction": "inbound", "external_number": "+14155550142", "internal_number": "+14155550100",)"
                    R"( "date_started": 1767225600412, "date_rang": 1767225600530, "date_connected": null,)"
                    R"( "duration": null, "total_duration": 8951.029999999999, "target": {"id": 5100000000000001,)"
                    R"( "type": "user", "name": "Avery Kim", "email": "avery@example.com", "phone": "+14155550111",)"
                    R"( "office_id": 5200000000000001}, "contact": {"id": 6000000000000001, "type": "local",)"
                    R"( "name": "(415) 555-0142", "email": "", "phone": "+14155550142"}, "entry_point_call_id": )")
            .append(std::to_string(call - 1))
            .append(R"(, "entry_point_target": {"id": 5300000000000001, "type": "department", "name": "Support"},)"
                    R"( "operator_call_id": null, "master_call_id": null, "group_id": "Department:5300000000000001",)"
                    R"( "proxy_target": {}, "is_internal": false, "is_transferred": false, "labels": [],)"
                    R"( "routing_breadcrumbs": [], "was_recorded": false, "recording_details": [],)"
                    R"( "integrations": {}, "event_timestamp": )")
            .append(std::to_string(1767225601250 + static_cast<std::int64_t>(i)))
            .append("}");
        frames.push_back(std::move(text));
    }
    return frames;
}

prepared_session fresh_archive(std::string const& path, std::string const& name) {
    for (auto suffix : {"", "-wal", "-shm"}) {
        std::string file = path;
        file.append(suffix);
        std::filesystem::remove(file);
    }
    archive::archive a{path, archive::open_mode::read_write};
    archive::session_info s;
    s.name = name;
    auto const session = a.create_session(s);
    archive::connection_info c;
    c.session = session;
    return {path, session, a.add_connection(c)};
}

double bare_insert_seconds(prepared_session const& target, std::vector<std::string> const& frames,
                           std::vector<model::event_index> const& indexes) {
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

}  // namespace harness::bench
