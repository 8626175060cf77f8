#include "core/archive/wal_checkpointer.hpp"

#include "core/archive/archive.hpp"
#include "tests/support/archive_samples.hpp"
#include "tests/support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

using namespace harness::archive;
using namespace std::chrono_literals;
using harness::test::temp_dir;

namespace {

std::uintmax_t constexpr k_page = 4096;

struct archive_fixture {
    temp_dir dir;
    std::string path = dir.file("a.db");
    archive a{path, open_mode::read_write};
    session_id session = a.create_session(harness::test::sample_session());
    connection_id connection = [this] {
        connection_info info;
        info.session = session;
        info.url = "wss://x/events/<token>";
        return a.add_connection(info);
    }();

    std::uintmax_t log_size() const { return std::filesystem::file_size(path + "-wal"); }
    std::uintmax_t database_size() const { return std::filesystem::file_size(path); }

    // Commits one frame of about a page per transaction, `count` times.
    void commit_frames(int count) {
        std::string const text(4000, 'x');
        for (int i = 0; i < count; ++i) {
            archive::transaction transaction{a};
            frame_record frame;
            frame.connection = connection;
            frame.kind = frame_kind::control;
            frame.text = text;
            a.add_frame(session, frame);
            transaction.commit();
        }
    }
};

}  // namespace

TEST_CASE("archive::wal_checkpointer: the writer stops checkpointing; it gets its checkpoints back after") {
    archive_fixture f;
    auto const database_before = f.database_size();
    {
        wal_checkpointer never{f.a, 1'000'000'000};
        f.commit_frames(1500);  // past SQLite's own threshold of 1000 pages
        CHECK(f.log_size() > 1000 * k_page);
        CHECK(f.database_size() == database_before);  // nothing was copied back, by anyone
        CHECK(never.checkpoints() == 0);
    }
    f.commit_frames(1);  // the writer's automatic checkpoint, restored, runs in this commit
    CHECK(f.database_size() > 1000 * k_page);
    CHECK(f.a.frame_count(f.session) == 1501);
    CHECK(f.a.integrity_check() == "ok");
}

TEST_CASE("archive::wal_checkpointer: past the threshold it checkpoints, and the writer starts the log over") {
    archive_fixture f;
    auto const database_before = f.database_size();
    wal_checkpointer checkpointer{f.a, 100};
    f.commit_frames(5);  // a few pages, under the threshold
    CHECK(checkpointer.checkpoints() == 0);
    while (f.log_size() < 100 * (k_page + 24)) f.commit_frames(1);  // each log frame: a page and a 24-byte header
    REQUIRE(checkpointer.wait_for_checkpoints(1, 60s));
    // The log's pages were copied into the database (each commit logs its
    // new page and again the pages above it, so it grew by a third of that).
    CHECK(f.database_size() > database_before + 10 * k_page);

    // The log was copied whole and nobody reads an older snapshot: the next
    // commits write it from its start again instead of making it longer.
    auto const log_before = f.log_size();
    f.commit_frames(5);
    CHECK(f.log_size() == log_before);
    CHECK(f.a.integrity_check() == "ok");
}

TEST_CASE("archive::wal_checkpointer: a file it cannot open is an archive_error") {
    archive_fixture f;
    std::filesystem::remove(f.path);
    std::filesystem::remove(f.path + "-wal");
    std::filesystem::remove(f.path + "-shm");
    std::filesystem::create_directory(f.path);  // what the checkpointer opens is now a folder
    CHECK_THROWS_AS(wal_checkpointer{f.a}, archive_error);
}
