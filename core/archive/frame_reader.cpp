#include "core/archive/frame_reader.hpp"

#include "core/archive/archive_impl.hpp"

#include <nlohmann/json.hpp>

#include <sqlite3.h>

#include <array>
#include <memory>
#include <variant>

namespace harness::archive {
namespace {

std::string json_array_of(auto const& values) {
    auto array = nlohmann::json::array();
    for (auto const& v : values) array.push_back(v);
    return array.dump();
}

}  // namespace

frame_reader::frame_reader(std::string const& path, session_id session, frame_filter filter, std::size_t page_size,
                           bool with_index)
    : archive_{path, open_mode::read_only},
      session_{session},
      filter_{std::move(filter)},
      page_size_{page_size == 0 ? 1 : page_size},
      with_index_{with_index} {
    if (!archive_.session(session_)) throw archive_error{path + ": no session with id " + std::to_string(session_)};
    if (filter_.call_id) resolve_call_graph();

    // Set-valued filters travel as JSON arrays bound to one parameter each
    // (json_each), so one prepared statement serves any filter.
    sql_ = std::string{"SELECT "} + (with_index_ ? k_frame_columns : k_frame_only_columns) +
           " FROM frames f LEFT JOIN event_index i ON i.frame_id = f.id"
           " WHERE f.session_id = :session AND f.id > :after";
    if (!filter_.kinds.empty()) sql_ += " AND f.kind IN (SELECT value FROM json_each(:kinds))";
    std::string event_conditions;
    if (!filter_.families.empty()) event_conditions += " AND i.family IN (SELECT value FROM json_each(:families))";
    if (!filter_.states.empty()) event_conditions += " AND i.state IN (SELECT value FROM json_each(:states))";
    if (filter_.call_id)
        event_conditions +=
            " AND (i.call_id IN (SELECT value FROM json_each(:calls))"
            " OR i.master_call_id IN (SELECT value FROM json_each(:calls))"
            " OR i.entry_point_call_id IN (SELECT value FROM json_each(:calls))"
            " OR i.operator_call_id IN (SELECT value FROM json_each(:calls)))";
    if (!event_conditions.empty())
        sql_ += " AND (f.kind != 'event' OR (i.frame_id IS NOT NULL" + event_conditions + "))";
    if (filter_.from_offset_ns) sql_ += " AND f.offset_ns >= :from";
    if (filter_.to_offset_ns) sql_ += " AND f.offset_ns < :to";
    sql_ += " ORDER BY f.id LIMIT :limit";
}

frame_reader::~frame_reader() = default;

void frame_reader::resolve_call_graph() {
    std::set<std::int64_t> ids{*filter_.call_id};
    if (filter_.whole_call_graph) {
        // Legs link in both directions (an operator leg names its entry leg,
        // an entry leg names its operator), so grow the set to a fixed point.
        SQLite::Statement links{archive_.impl_->db,
                                "SELECT DISTINCT i.call_id, i.master_call_id, i.entry_point_call_id, i.operator_call_id"
                                " FROM event_index i JOIN frames f ON f.id = i.frame_id"
                                " WHERE f.session_id = :session AND i.call_id IS NOT NULL"};
        links.bind(":session", static_cast<std::int64_t>(session_));
        std::vector<std::array<std::optional<std::int64_t>, 4>> rows;
        while (links.executeStep()) {
            std::array<std::optional<std::int64_t>, 4> row;
            for (int c = 0; c < 4; ++c)
                if (!links.getColumn(c).isNull()) row[static_cast<std::size_t>(c)] = links.getColumn(c).getInt64();
            rows.push_back(row);
        }
        for (bool grew = true; grew;) {
            grew = false;
            for (auto const& row : rows) {
                bool linked = false;
                for (auto const& id : row) linked = linked || (id && ids.contains(*id));
                if (!linked) continue;
                for (auto const& id : row)
                    if (id && ids.insert(*id).second) grew = true;
            }
        }
    }
    call_graph_.assign(ids.begin(), ids.end());
    call_ids_json_ = json_array_of(call_graph_);
}

void frame_reader::load_page() {
    // The values the statement binds by name, in either reading path.
    std::vector<std::pair<char const*, std::variant<std::int64_t, std::string>>> values{
        {":session", static_cast<std::int64_t>(session_)},
        {":after", static_cast<std::int64_t>(last_id_)},
        {":limit", static_cast<std::int64_t>(page_size_)}};
    if (!filter_.kinds.empty()) {
        std::vector<std::string> names;
        for (auto k : filter_.kinds) names.emplace_back(to_string(k));
        values.emplace_back(":kinds", json_array_of(names));
    }
    if (!filter_.families.empty()) {
        std::vector<std::string> names;
        for (auto f : filter_.families) names.emplace_back(model::to_string(f));
        values.emplace_back(":families", json_array_of(names));
    }
    if (!filter_.states.empty()) values.emplace_back(":states", json_array_of(filter_.states));
    if (filter_.call_id) values.emplace_back(":calls", call_ids_json_);
    if (filter_.from_offset_ns) values.emplace_back(":from", static_cast<std::int64_t>(*filter_.from_offset_ns));
    if (filter_.to_offset_ns) values.emplace_back(":to", static_cast<std::int64_t>(*filter_.to_offset_ns));
    if (with_index_) {
        SQLite::Statement query{archive_.impl_->db, sql_};
        for (auto const& [name, value] : values) std::visit([&, n = name](auto const& v) { query.bind(n, v); }, value);
        while (query.executeStep()) page_.push_back(read_frame_row(query));
    } else {
        load_lean_page(values);
    }
    if (!page_.empty()) last_id_ = page_.back().id;
}

// Frames without their index, read through SQLite's C API: a replay streams
// whole sessions through here, and SQLiteCpp's per-column objects were a
// measurable part of its reading time.
void frame_reader::load_lean_page(
    std::vector<std::pair<char const*, std::variant<std::int64_t, std::string>>> const& values) {
    auto* db = archive_.impl_->db.getHandle();
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, sql_.c_str(), -1, &raw, nullptr) != SQLITE_OK)
        throw archive_error{archive_.path() + ": " + sqlite3_errmsg(db)};
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> statement{raw, &sqlite3_finalize};
    for (auto const& [name, value] : values) {
        int const index = sqlite3_bind_parameter_index(raw, name);
        if (auto const* number = std::get_if<std::int64_t>(&value))
            sqlite3_bind_int64(raw, index, *number);
        else
            sqlite3_bind_text(raw, index, std::get<std::string>(value).c_str(), -1, SQLITE_TRANSIENT);
    }
    auto const text_of = [raw](int column) {
        auto const* bytes = reinterpret_cast<char const*>(sqlite3_column_text(raw, column));
        return std::string_view{bytes ? bytes : "", static_cast<std::size_t>(sqlite3_column_bytes(raw, column))};
    };
    int step = SQLITE_ROW;
    while ((step = sqlite3_step(raw)) == SQLITE_ROW) {
        frame_record frame;
        frame.id = sqlite3_column_int64(raw, 0);
        frame.connection = sqlite3_column_int64(raw, 1);
        frame.kind = parse_frame_kind(text_of(2)).value_or(frame_kind::event);
        frame.offset_ns = sqlite3_column_int64(raw, 3);
        frame.wall_ns = sqlite3_column_int64(raw, 4);
        frame.text = text_of(5);
        page_.push_back(std::move(frame));
    }
    if (step != SQLITE_DONE) throw archive_error{archive_.path() + ": " + sqlite3_errmsg(db)};
}

std::optional<frame_record> frame_reader::next() {
    if (page_.empty()) load_page();
    if (page_.empty()) return std::nullopt;
    auto frame = std::move(page_.front());
    page_.pop_front();
    return frame;
}

}  // namespace harness::archive
