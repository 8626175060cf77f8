#include "core/archive/archive.hpp"

#include "core/archive/archive_impl.hpp"
#include "core/archive/archive_schema.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <filesystem>

namespace harness::archive {
namespace {

// A read-only archive is one reader's, used by one thread at a time: SQLite's
// per-call mutexes (a fifth of a replay's reading time) buy nothing there.
int open_flags(open_mode mode) {
    return mode == open_mode::read_only ? SQLite::OPEN_READONLY | SQLite::OPEN_NOMUTEX
                                        : SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE;
}

template <class T>
void bind_optional(SQLite::Statement& s, int index, std::optional<T> const& value) {
    if (value)
        s.bind(index, static_cast<std::int64_t>(*value));
    else
        s.bind(index);  // NULL
}

template <class T>
std::optional<T> optional_column(SQLite::Statement& s, int index) {
    auto column = s.getColumn(index);
    if (column.isNull()) return std::nullopt;
    return static_cast<T>(column.getInt64());
}

session_info read_session(SQLite::Statement& s) {
    session_info info;
    info.id = s.getColumn(0).getInt64();
    info.name = s.getColumn(1).getString();
    info.source = parse_session_source(s.getColumn(2).getString()).value_or(session_source::live);
    info.base_url = s.getColumn(3).getString();
    info.started_wall_ns = s.getColumn(4).getInt64();
    info.ended_wall_ns = optional_column<std::int64_t>(s, 5);
    info.metadata_json = s.getColumn(6).getString();
    return info;
}

constexpr char const* k_session_columns = "id, name, source, base_url, started_wall_ns, ended_wall_ns, metadata";

}  // namespace

archive::impl::impl(std::string const& p, open_mode mode) try : path{p}, db{p, open_flags(mode)} {
    db.setBusyTimeout(5000);  // a concurrent writer's commit is short; wait for it
    db.exec("PRAGMA foreign_keys = ON");
    prepare_schema(db, mode == open_mode::read_write);
    if (mode == open_mode::read_write) {
        db.exec("PRAGMA journal_mode = WAL");
        // In WAL mode NORMAL keeps every commit across a process crash
        // (SIGKILL); only a power loss can take the last commits.
        db.exec("PRAGMA synchronous = NORMAL");
    }
} catch (SQLite::Exception const& e) {
    throw archive_error{p + ": " + e.what()};
} catch (archive_error const& e) {
    throw archive_error{p + ": " + e.what()};
}

SQLite::Statement& archive::impl::statement(std::optional<SQLite::Statement>& slot, char const* sql) {
    if (!slot) slot.emplace(db, sql);
    slot->reset();  // every caller binds every parameter, so no clearBindings()
    return *slot;
}

frame_record read_frame_row(SQLite::Statement& row) {
    frame_record frame;
    frame.id = row.getColumn(0).getInt64();
    frame.connection = row.getColumn(1).getInt64();
    frame.kind = parse_frame_kind(row.getColumn(2).getText()).value_or(frame_kind::event);  // no copy
    frame.offset_ns = row.getColumn(3).getInt64();
    frame.wall_ns = row.getColumn(4).getInt64();
    frame.text = row.getColumn(5).getString();
    if (!row.getColumn(6).isNull()) {
        model::event_index index;
        index.family = model::parse_event_family(row.getColumn(7).getString()).value_or(model::event_family::unknown);
        index.state = row.getColumn(8).getString();
        index.direction = row.getColumn(9).getString();
        index.call_id = optional_column<std::int64_t>(row, 10);
        index.master_call_id = optional_column<std::int64_t>(row, 11);
        index.entry_point_call_id = optional_column<std::int64_t>(row, 12);
        index.operator_call_id = optional_column<std::int64_t>(row, 13);
        index.target_type = row.getColumn(14).getString();
        index.target_id = row.getColumn(15).getString();
        index.event_timestamp = optional_column<std::int64_t>(row, 16);
        index.is_jwt = row.getColumn(17).getInt() != 0;
        index.signature =
            model::parse_signature_check(row.getColumn(18).getString()).value_or(model::signature_check::not_jwt);
        index.parsed = row.getColumn(19).getInt() != 0;
        frame.index = std::move(index);
    }
    return frame;
}

archive::archive(std::string const& path, open_mode mode) {
    if (mode == open_mode::read_only && !std::filesystem::exists(path))
        throw archive_error{path + ": no such archive file"};
    impl_ = std::make_unique<impl>(path, mode);
}
archive::archive(archive&&) noexcept = default;
archive& archive::operator=(archive&&) noexcept = default;
archive::~archive() = default;

std::string const& archive::path() const { return impl_->path; }

session_id archive::create_session(session_info const& info) {
    auto const metadata = info.metadata_json.empty() ? std::string{"{}"} : info.metadata_json;
    if (auto const parsed = nlohmann::json::parse(metadata, nullptr, false); !parsed.is_object())
        throw archive_error{"session metadata must be a JSON object"};
    auto& s = impl_->db;
    SQLite::Statement insert{s,
                             "INSERT INTO sessions (name, source, base_url, started_wall_ns, ended_wall_ns, metadata) "
                             "VALUES (?, ?, ?, ?, ?, ?)"};
    insert.bind(1, info.name);
    insert.bind(2, std::string{to_string(info.source)});
    insert.bind(3, info.base_url);
    insert.bind(4, static_cast<std::int64_t>(info.started_wall_ns));
    bind_optional(insert, 5, info.ended_wall_ns);
    insert.bind(6, metadata);
    insert.exec();
    return s.getLastInsertRowid();
}

void archive::end_session(session_id id, std::int64_t ended_wall_ns) {
    SQLite::Statement update{impl_->db, "UPDATE sessions SET ended_wall_ns = ? WHERE id = ?"};
    update.bind(1, static_cast<std::int64_t>(ended_wall_ns));
    update.bind(2, static_cast<std::int64_t>(id));
    update.exec();
}

std::vector<session_info> archive::sessions() const {
    SQLite::Statement query{impl_->db, std::string{"SELECT "} + k_session_columns + " FROM sessions ORDER BY id"};
    std::vector<session_info> result;
    while (query.executeStep()) result.push_back(read_session(query));
    return result;
}

std::optional<session_info> archive::session(session_id id) const {
    SQLite::Statement query{impl_->db, std::string{"SELECT "} + k_session_columns + " FROM sessions WHERE id = ?"};
    query.bind(1, static_cast<std::int64_t>(id));
    if (!query.executeStep()) return std::nullopt;
    return read_session(query);
}

session_info archive::resolve_session(std::string_view ref) const {
    if (ref.empty()) {
        SQLite::Statement query{impl_->db,
                                std::string{"SELECT "} + k_session_columns + " FROM sessions ORDER BY id DESC LIMIT 1"};
        if (!query.executeStep()) throw archive_error{impl_->path + ": the archive holds no session"};
        return read_session(query);
    }
    session_id numeric = 0;
    auto const [end, error] = std::from_chars(ref.data(), ref.data() + ref.size(), numeric);
    if (error == std::errc{} && end == ref.data() + ref.size()) {
        if (auto found = session(numeric)) return *found;
    }
    SQLite::Statement query{impl_->db, std::string{"SELECT "} + k_session_columns +
                                           " FROM sessions WHERE name = ? ORDER BY id DESC LIMIT 1"};
    query.bind(1, std::string{ref});
    if (!query.executeStep())
        throw archive_error{impl_->path + ": no session with id or name '" + std::string{ref} + "'"};
    return read_session(query);
}

connection_id archive::add_connection(connection_info const& info) {
    auto& insert = impl_->statement(
        impl_->insert_connection,
        "INSERT INTO connections (session_id, url, scope, subscription, opened_offset_ns, closed_offset_ns, "
        "close_code, close_reason, abrupt, end_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    insert.bind(1, static_cast<std::int64_t>(info.session));
    insert.bind(2, info.url);
    insert.bind(3, std::string{to_string(info.scope)});
    insert.bind(4, info.subscription);
    insert.bind(5, static_cast<std::int64_t>(info.opened_offset_ns));
    bind_optional(insert, 6, info.closed_offset_ns);
    bind_optional(insert, 7, info.close_code);
    insert.bind(8, info.close_reason);
    insert.bind(9, info.abrupt ? 1 : 0);
    if (info.ended_by)
        insert.bind(10, std::string{to_string(*info.ended_by)});
    else
        insert.bind(10);
    insert.exec();
    return impl_->db.getLastInsertRowid();
}

void archive::close_connection(connection_info const& info) {
    SQLite::Statement update{impl_->db,
                             "UPDATE connections SET closed_offset_ns = ?, close_code = ?, close_reason = ?, "
                             "abrupt = ?, end_reason = ? WHERE id = ?"};
    bind_optional(update, 1, info.closed_offset_ns);
    bind_optional(update, 2, info.close_code);
    update.bind(3, info.close_reason);
    update.bind(4, info.abrupt ? 1 : 0);
    if (info.ended_by)
        update.bind(5, std::string{to_string(*info.ended_by)});
    else
        update.bind(5);
    update.bind(6, static_cast<std::int64_t>(info.id));
    if (update.exec() != 1) throw archive_error{"no connection with id " + std::to_string(info.id)};
}

std::vector<connection_info> archive::connections(session_id id) const {
    SQLite::Statement query{impl_->db,
                            "SELECT id, session_id, url, scope, subscription, opened_offset_ns, closed_offset_ns, "
                            "close_code, close_reason, abrupt, end_reason FROM connections WHERE session_id = ? "
                            "ORDER BY id"};
    query.bind(1, static_cast<std::int64_t>(id));
    std::vector<connection_info> result;
    while (query.executeStep()) {
        connection_info c;
        c.id = query.getColumn(0).getInt64();
        c.session = query.getColumn(1).getInt64();
        c.url = query.getColumn(2).getString();
        c.scope = parse_token_scope(query.getColumn(3).getString()).value_or(token_scope::unknown);
        c.subscription = query.getColumn(4).getString();
        c.opened_offset_ns = query.getColumn(5).getInt64();
        c.closed_offset_ns = optional_column<std::int64_t>(query, 6);
        c.close_code = optional_column<int>(query, 7);
        c.close_reason = query.getColumn(8).getString();
        c.abrupt = query.getColumn(9).getInt() != 0;
        if (!query.getColumn(10).isNull()) c.ended_by = parse_end_reason(query.getColumn(10).getString());
        result.push_back(std::move(c));
    }
    return result;
}

std::int64_t archive::add_gap(session_id session, gap_info const& gap) {
    auto& insert = impl_->statement(
        impl_->insert_gap, "INSERT INTO gaps (session_id, start_offset_ns, end_offset_ns, reason) VALUES (?, ?, ?, ?)");
    insert.bind(1, static_cast<std::int64_t>(session));
    insert.bind(2, static_cast<std::int64_t>(gap.start_offset_ns));
    bind_optional(insert, 3, gap.end_offset_ns);
    insert.bind(4, gap.reason);
    insert.exec();
    return impl_->db.getLastInsertRowid();
}

void archive::end_gap(std::int64_t gap_row, std::int64_t end_offset_ns) {
    SQLite::Statement update{impl_->db, "UPDATE gaps SET end_offset_ns = ? WHERE id = ?"};
    update.bind(1, static_cast<std::int64_t>(end_offset_ns));
    update.bind(2, static_cast<std::int64_t>(gap_row));
    update.exec();
}

std::vector<gap_info> archive::gaps(session_id id) const {
    SQLite::Statement query{impl_->db,
                            "SELECT start_offset_ns, end_offset_ns, reason FROM gaps WHERE session_id = ? "
                            "ORDER BY start_offset_ns, id"};
    query.bind(1, static_cast<std::int64_t>(id));
    std::vector<gap_info> result;
    while (query.executeStep())
        result.push_back({query.getColumn(0).getInt64(), optional_column<std::int64_t>(query, 1),
                          query.getColumn(2).getString()});
    return result;
}

frame_id archive::add_frame(session_id session, frame_record const& frame) {
    auto& insert = impl_->statement(
        impl_->insert_frame,
        "INSERT INTO frames (session_id, connection_id, kind, offset_ns, wall_ns, text) VALUES (?, ?, ?, ?, ?, ?)");
    insert.bind(1, static_cast<std::int64_t>(session));
    insert.bind(2, static_cast<std::int64_t>(frame.connection));
    insert.bindNoCopy(3, to_string(frame.kind).data());  // static storage
    insert.bind(4, static_cast<std::int64_t>(frame.offset_ns));
    insert.bind(5, static_cast<std::int64_t>(frame.wall_ns));
    insert.bindNoCopy(6, frame.text);  // text with its length: bytes kept exactly
    insert.exec();
    auto const id = impl_->db.getLastInsertRowid();
    if (!frame.index) return id;

    auto const& index = *frame.index;
    auto& add_index = impl_->statement(
        impl_->insert_index,
        "INSERT INTO event_index (frame_id, family, state, direction, call_id, master_call_id, entry_point_call_id, "
        "operator_call_id, target_type, target_id, event_timestamp, is_jwt, signature, parsed) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    add_index.bind(1, static_cast<std::int64_t>(id));
    add_index.bindNoCopy(2, model::to_string(index.family).data());
    add_index.bindNoCopy(3, index.state);
    add_index.bindNoCopy(4, index.direction);
    bind_optional(add_index, 5, index.call_id);
    bind_optional(add_index, 6, index.master_call_id);
    bind_optional(add_index, 7, index.entry_point_call_id);
    bind_optional(add_index, 8, index.operator_call_id);
    add_index.bindNoCopy(9, index.target_type);
    add_index.bindNoCopy(10, index.target_id);
    bind_optional(add_index, 11, index.event_timestamp);
    add_index.bind(12, index.is_jwt ? 1 : 0);
    add_index.bindNoCopy(13, model::to_string(index.signature).data());
    add_index.bind(14, index.parsed ? 1 : 0);
    add_index.exec();
    return id;
}

std::int64_t archive::frame_count(session_id id, std::optional<frame_kind> kind) const {
    SQLite::Statement query{impl_->db, kind ? "SELECT count(*) FROM frames WHERE session_id = ? AND kind = ?"
                                            : "SELECT count(*) FROM frames WHERE session_id = ?"};
    query.bind(1, static_cast<std::int64_t>(id));
    if (kind) query.bind(2, std::string{to_string(*kind)});
    query.executeStep();
    return query.getColumn(0).getInt64();
}

archive::transaction::transaction(archive& a) : archive_{&a} { archive_->impl_->db.exec("BEGIN IMMEDIATE"); }

archive::transaction::~transaction() {
    if (done_) return;
    try {
        archive_->impl_->db.exec("ROLLBACK");
    } catch (...) {  // destructors must not throw; a failed rollback leaves SQLite's own recovery
    }
}

void archive::transaction::commit() {
    archive_->impl_->db.exec("COMMIT");
    done_ = true;
}

std::string archive::integrity_check() const {
    SQLite::Statement query{impl_->db, "PRAGMA integrity_check"};
    std::string result;
    while (query.executeStep()) {
        if (!result.empty()) result += "; ";
        result += query.getColumn(0).getString();
    }
    return result;
}

}  // namespace harness::archive
