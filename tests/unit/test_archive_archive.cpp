#include "core/archive/archive.hpp"

#include "core/archive/frame_reader.hpp"

#include "tests/support/archive_samples.hpp"
#include "tests/support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>

using namespace harness::archive;
using harness::test::temp_dir;

namespace {

void write_file(std::string const& path, std::string const& bytes) {
    std::ofstream out{path, std::ios::binary};
    out << bytes;
}

void run_sql(std::string const& path, char const* sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
}

}  // namespace

TEST_CASE("archive::archive: sessions, connections and gaps round-trip") {
    temp_dir dir;
    auto const path = dir.file("a.db");
    session_id id = 0;
    {
        archive a{path, open_mode::read_write};
        id = a.create_session(harness::test::sample_session("first"));
        auto c = harness::test::sample_connection(id, 5);
        c.subscription = "call:6491633571610624";
        c.scope = token_scope::subscription;
        c.id = a.add_connection(c);
        c.closed_offset_ns = 3600'000'000'000;
        c.abrupt = true;
        c.ended_by = end_reason::hour_cut;
        a.close_connection(c);
        auto const gap = a.add_gap(id, {3600'000'000'000, std::nullopt, "hour cut"});
        a.end_gap(gap, 3600'250'000'000);
        a.end_session(id, 1767229200000000000);
    }
    archive a{path, open_mode::read_only};
    auto const s = a.session(id);
    REQUIRE(s.has_value());
    CHECK(s->name == "first");
    CHECK(s->source == session_source::sandbox);
    CHECK(s->metadata_json == harness::test::sample_session().metadata_json);
    CHECK(s->ended_wall_ns == 1767229200000000000);
    auto const connections = a.connections(id);
    REQUIRE(connections.size() == 1);
    CHECK(connections[0].scope == token_scope::subscription);
    CHECK(connections[0].subscription == "call:6491633571610624");
    CHECK(connections[0].opened_offset_ns == 5);
    CHECK(connections[0].abrupt);
    CHECK_FALSE(connections[0].close_code.has_value());
    CHECK(connections[0].ended_by == end_reason::hour_cut);
    auto const gaps = a.gaps(id);
    REQUIRE(gaps.size() == 1);
    CHECK(gaps[0].end_offset_ns == 3600'250'000'000);
    CHECK(gaps[0].reason == "hour cut");
}

TEST_CASE("archive::archive: frames keep their exact bytes, up to a frame of 1 MiB") {
    temp_dir dir;
    auto const path = dir.file("a.db");
    archive a{path, open_mode::read_write};
    auto const id = a.create_session(harness::test::sample_session());
    auto const conn = a.add_connection(harness::test::sample_connection(id));

    auto texts = harness::test::tricky_event_texts();
    std::string big = R"({"call_id":1,"state":"ringing","custom_data":")" + std::string(1 << 20, 'x') + "\"}";
    texts.push_back(big);
    texts.push_back(std::string{"with\0nul", 8});
    for (std::size_t i = 0; i < texts.size(); ++i) {
        frame_record f;
        f.connection = conn;
        f.offset_ns = static_cast<std::int64_t>(i) * 1000;
        f.wall_ns = 1767225600000000000 + f.offset_ns;
        f.text = texts[i];
        f.index = harness::model::index_event(f.text);
        a.add_frame(id, f);
    }
    CHECK(a.frame_count(id) == static_cast<std::int64_t>(texts.size()));

    archive reader{path, open_mode::read_only};
    CHECK(reader.integrity_check() == "ok");
    // Read back through SQLite's C API: bytes, not what a wrapper thinks.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "SELECT text FROM frames ORDER BY id", -1, &stmt, nullptr) == SQLITE_OK);
    std::size_t i = 0;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        auto const* bytes = static_cast<char const*>(sqlite3_column_blob(stmt, 0));
        std::string const stored(bytes, static_cast<std::size_t>(sqlite3_column_bytes(stmt, 0)));
        REQUIRE(i < texts.size());
        CHECK(stored == texts[i]);
        ++i;
    }
    CHECK(i == texts.size());
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

TEST_CASE("archive::archive: sessions resolve by id, by name (latest) or as the latest") {
    temp_dir dir;
    archive a{dir.file("a.db"), open_mode::read_write};
    CHECK_THROWS_WITH_AS(a.resolve_session(""), doctest::Contains("holds no session"), archive_error);
    auto const first = a.create_session(harness::test::sample_session("morning"));
    auto const second = a.create_session(harness::test::sample_session("morning"));
    auto const third = a.create_session(harness::test::sample_session("42"));
    CHECK(a.resolve_session("").id == third);
    CHECK(a.resolve_session("morning").id == second);
    CHECK(a.resolve_session(std::to_string(first)).id == first);
    CHECK(a.resolve_session("42").id == third);  // no session 42: the name matches
    CHECK_THROWS_WITH_AS(a.resolve_session("evening"), doctest::Contains("no session with id or name 'evening'"),
                         archive_error);
    CHECK(a.sessions().size() == 3);
}

TEST_CASE("archive::archive: metadata must be a JSON object") {
    temp_dir dir;
    archive a{dir.file("a.db"), open_mode::read_write};
    auto s = harness::test::sample_session();
    s.metadata_json = "[1,2]";
    CHECK_THROWS_AS(a.create_session(s), archive_error);
    s.metadata_json = "";
    auto const id = a.create_session(s);
    CHECK(a.session(id)->metadata_json == "{}");
}

TEST_CASE("archive::archive: a transaction that is not committed leaves nothing") {
    temp_dir dir;
    archive a{dir.file("a.db"), open_mode::read_write};
    {
        archive::transaction t{a};
        a.create_session(harness::test::sample_session());
    }
    CHECK(a.sessions().empty());
    {
        archive::transaction t{a};
        a.create_session(harness::test::sample_session());
        t.commit();
    }
    CHECK(a.sessions().size() == 1);
}

TEST_CASE("archive::archive: bad files give clear errors, never a crash") {
    temp_dir dir;

    SUBCASE("missing file, read-only") {
        CHECK_THROWS_WITH_AS(archive(dir.file("none.db"), open_mode::read_only),
                             doctest::Contains("no such archive file"), archive_error);
    }
    SUBCASE("not a SQLite file") {
        write_file(dir.file("text.db"), "this is a text file, not a database\n" + std::string(5000, 'x'));
        CHECK_THROWS_WITH_AS(archive(dir.file("text.db"), open_mode::read_only),
                             doctest::Contains("not a readable SQLite archive"), archive_error);
        CHECK_THROWS_WITH_AS(archive(dir.file("text.db"), open_mode::read_write),
                             doctest::Contains("not a readable SQLite archive"), archive_error);
    }
    SUBCASE("truncated archive") {
        auto const path = dir.file("cut.db");
        {
            archive a{path, open_mode::read_write};
            auto const id = a.create_session(harness::test::sample_session());
            auto const conn = a.add_connection(harness::test::sample_connection(id));
            for (int i = 0; i < 200; ++i) {
                frame_record f;
                f.connection = conn;
                f.text = std::string(1000, 'a');
                a.add_frame(id, f);
            }
        }
        run_sql(path, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;");
        std::ifstream in{path, std::ios::binary};
        std::string bytes{std::istreambuf_iterator<char>{in}, {}};
        write_file(path, bytes.substr(0, 50));  // less than one page, header cut
        CHECK_THROWS_AS(archive(path, open_mode::read_only), archive_error);
    }
    SUBCASE("archive truncated in the middle") {
        auto const path = dir.file("half.db");
        {
            archive a{path, open_mode::read_write};
            auto const id = a.create_session(harness::test::sample_session());
            auto const conn = a.add_connection(harness::test::sample_connection(id));
            for (int i = 0; i < 400; ++i) {
                frame_record f;
                f.connection = conn;
                f.text = harness::test::call_event(i + 1, "ringing") + std::string(1000, ' ');
                f.index = harness::model::index_event(f.text);
                a.add_frame(id, f);
            }
        }
        run_sql(path, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;");
        std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
        // Damage may only show when the missing pages are read: either way it
        // is an exception with SQLite's reason, never a crash.
        bool reported = false;
        try {
            archive a{path, open_mode::read_only};
            frame_reader reader{path, 1};
            while (reader.next()) {
            }
            reported = a.integrity_check() != "ok";
        } catch (std::exception const& e) {
            reported = std::string{e.what()}.find("malformed") != std::string::npos ||
                       std::string{e.what()}.find("not a") != std::string::npos;
        }
        CHECK(reported);
    }
    SUBCASE("a SQLite file of another application") {
        run_sql(dir.file("other.db"), "CREATE TABLE t (x INTEGER);");
        CHECK_THROWS_WITH_AS(archive(dir.file("other.db"), open_mode::read_write),
                             doctest::Contains("not a dialpad-harness archive"), archive_error);
    }
    SUBCASE("a newer schema version") {
        auto const path = dir.file("newer.db");
        { archive a{path, open_mode::read_write}; }
        run_sql(path, "PRAGMA user_version = 99;");
        CHECK_THROWS_WITH_AS(archive(path, open_mode::read_only), doctest::Contains("schema version 99 is newer"),
                             archive_error);
        CHECK_THROWS_WITH_AS(archive(path, open_mode::read_write), doctest::Contains("schema version 99 is newer"),
                             archive_error);
    }
    SUBCASE("an empty file becomes an archive when opened for writing") {
        write_file(dir.file("empty.db"), "");
        CHECK_THROWS_WITH_AS(archive(dir.file("empty.db"), open_mode::read_only), doctest::Contains("empty"),
                             archive_error);
        archive a{dir.file("empty.db"), open_mode::read_write};
        CHECK(a.integrity_check() == "ok");
    }
}
